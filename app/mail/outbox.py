"""The outbox: emails written in the request's transaction, bodies sealed at rest.

Bodies carry single-use links and codes, and the database must never hold a usable secret,
so they are stored encrypted (AES-GCM, key derived from FOLIO_SECRET_KEY) and opened only
by the sender. A pending email becomes unreadable if the secret key changes: it then fails.
"""

from __future__ import annotations

import base64
import os
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import func, select
from sqlmodel import Session

from app.config import Settings
from app.mail.render import render_email
from app.models import OutboxEmail, utcnow

SEALED_PREFIX = "sealed:v1:"
NONCE_BYTES = 12


class UnsealError(Exception):
    """A body sealed under another secret key, or altered."""


@lru_cache(maxsize=4)
def _cipher(secret_key: str) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"folio outbox bodies").derive(
        secret_key.encode()
    )
    return AESGCM(key)


def seal(text: str, settings: Settings) -> str:
    nonce = os.urandom(NONCE_BYTES)
    sealed = _cipher(settings.secret_key).encrypt(nonce, text.encode(), None)
    return SEALED_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(stored: str, settings: Settings) -> str:
    if not stored.startswith(SEALED_PREFIX):
        return stored  # written by hand or by an older version: plain text
    raw = base64.urlsafe_b64decode(stored[len(SEALED_PREFIX) :])
    try:
        return (
            _cipher(settings.secret_key)
            .decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], None)
            .decode()
        )
    except InvalidTag as exc:
        raise UnsealError("the body was sealed under another secret key") from exc


def sent_recently(session: Session, recipient: str, kind: str, now: datetime) -> int:
    """Emails of this kind written for this address in the last hour, by any worker."""
    return session.execute(
        select(func.count())
        .select_from(OutboxEmail)
        .where(
            OutboxEmail.recipient == recipient,
            OutboxEmail.kind == kind,
            OutboxEmail.created_at > now - timedelta(hours=1),
        )
    ).scalar_one()


def may_send(
    session: Session, recipient: str, kind: str, settings: Settings, now: datetime
) -> bool:
    """False once an address has had its hourly share of this kind (the mail-bomb cap)."""
    return sent_recently(session, recipient, kind, now) < settings.emails_per_address_per_hour


def enqueue_email(
    session: Session,
    settings: Settings,
    *,
    recipient: str,
    template: str,
    context: dict[str, Any],
    kind: str | None = None,
    subject: str | None = None,
    now: datetime | None = None,
) -> OutboxEmail:
    """Renders templates/email/<template>.{txt,html} and writes it to the outbox."""
    now = now or utcnow()
    rendered = render_email(template, {"base_url": settings.base_url, **context}, subject)
    email = OutboxEmail(
        recipient=recipient,
        kind=kind or template,
        subject=rendered.subject,
        body_text=seal(rendered.text, settings),
        body_html=seal(rendered.html, settings),
        status="pending",
        next_attempt_at=now,
        created_at=now,
    )
    session.add(email)
    session.flush()
    return email
