"""COUNTER API credentials per organization: a public customer ID and a rotatable API key."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from app.access import Member
from app.accounts.tokens import hash_secret, secrets_equal
from app.audit import actor_of, record_audit
from app.errors import NotFound
from app.models import CounterCredential, Organization, utcnow


@dataclass(frozen=True, slots=True)
class IssuedKey:
    organization_id: int
    customer_id: str
    api_key: str  # shown once; only its hash is kept
    issued_at: datetime


def issue_counter_key(session: Session, organization_id: int, actor: Member) -> IssuedKey:
    """A new API key for the organization; the previous one stops working at once. The
    customer ID is made on the first issue and kept, so harvesters change only the key."""
    if session.get(Organization, organization_id) is None:
        raise NotFound("Organization not found")
    now = utcnow()
    api_key = secrets.token_urlsafe(32)
    credential = session.get(CounterCredential, organization_id)
    rotated = credential is not None
    if credential is None:
        credential = CounterCredential(
            organization_id=organization_id,
            customer_id=f"folio-{secrets.token_hex(8)}",
            api_key_hash=hash_secret(api_key),
            issued_at=now,
        )
    else:
        credential.api_key_hash = hash_secret(api_key)
        credential.issued_at = now
    session.add(credential)
    session.flush()
    record_audit(
        session,
        actor=actor_of(actor),
        action="organization.counter_key.rotate" if rotated else "organization.counter_key.issue",
        target=f"organization:{organization_id}",
        after={"customer_id": credential.customer_id, "issued_at": now},
        actor_user_id=actor.id,
    )
    return IssuedKey(organization_id, credential.customer_id, api_key, now)


def credential_for(session: Session, customer_id: str) -> CounterCredential | None:
    return session.execute(
        select(CounterCredential).where(CounterCredential.customer_id == customer_id)
    ).scalar_one_or_none()


def key_matches(credential: CounterCredential, api_key: str) -> bool:
    return secrets_equal(hash_secret(api_key), credential.api_key_hash)
