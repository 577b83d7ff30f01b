"""Single-use emailed secrets (OneTimeToken): email verification, password reset, magic link.

Only hashes are stored. A token is spent by a conditional UPDATE (`used_at IS NULL`), so
two requests racing with one link cannot both succeed. A magic link tolerates mail
scanners: its first use starts a grace period in which it still works, then never again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlmodel import Session

from app.accounts.tokens import (
    RecordedRefusal,
    hash_code,
    hash_secret,
    new_code,
    new_secret,
    secrets_equal,
)
from app.config import Settings
from app.errors import BadRequest
from app.models import OneTimeToken

VERIFY = "verify"
RESET = "reset"
MAGIC = "magic"
LIFETIMES = {VERIFY: timedelta(hours=24), RESET: timedelta(hours=1), MAGIC: timedelta(minutes=15)}
MAGIC_GRACE = timedelta(minutes=10)  # a link first opened by a scanner still works this long
CODE_ATTEMPTS = 5
DEAD_LINK = "This link is invalid or has expired."
DEAD_CODE = "Invalid or expired sign-in link or code."


def create_one_time_token(
    session: Session, user_id: int, purpose: str, settings: Settings, now: datetime
) -> tuple[str, str | None]:
    """(raw token, raw 6-digit code for magic links); only their hashes are kept."""
    token = new_secret(32)
    row = OneTimeToken(
        user_id=user_id,
        purpose=purpose,
        token_hash=hash_secret(token),
        expires_at=now + LIFETIMES[purpose],
        created_at=now,
    )
    code = None
    if purpose == MAGIC:
        code = new_code()
        row.code_hash = hash_code(code, row.token_hash, settings)
    session.add(row)
    session.flush()
    return token, code


def _find(session: Session, token: str, purpose: str) -> OneTimeToken | None:
    digest = hash_secret(token)
    row = session.execute(
        select(OneTimeToken).where(OneTimeToken.token_hash == digest)
    ).scalar_one_or_none()
    if row is None or row.purpose != purpose or not secrets_equal(row.token_hash, digest):
        return None
    return row


def redeem(session: Session, token: str, purpose: str, now: datetime) -> OneTimeToken:
    """Spends a verification or reset token once, or BadRequest."""
    row = _find(session, token, purpose)
    if row is None:
        raise BadRequest(DEAD_LINK)
    spent = session.execute(
        update(OneTimeToken)
        .where(
            OneTimeToken.id == row.id, OneTimeToken.used_at.is_(None), OneTimeToken.expires_at > now
        )
        .values(used_at=now, first_used_at=now)
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:
        raise BadRequest(DEAD_LINK)
    return row


def retire(session: Session, user_id: int, purpose: str, now: datetime) -> None:
    """Every outstanding token of this purpose stops working (e.g. after a reset)."""
    session.execute(
        update(OneTimeToken)
        .where(
            OneTimeToken.user_id == user_id,
            OneTimeToken.purpose == purpose,
            OneTimeToken.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )


def _magic_window_open(row: OneTimeToken, now: datetime) -> bool:
    if row.used_at is not None:
        return False
    if row.first_used_at is None:
        return now < row.expires_at
    return now < row.first_used_at + MAGIC_GRACE


def redeem_magic_link(session: Session, token: str, now: datetime) -> OneTimeToken:
    """A magic link works until it expires and, once used, for MAGIC_GRACE more."""
    row = _find(session, token, MAGIC)
    if row is None or not _magic_window_open(row, now):
        raise RecordedRefusal(DEAD_CODE)
    session.execute(
        update(OneTimeToken)
        .where(OneTimeToken.id == row.id, OneTimeToken.first_used_at.is_(None))
        .values(first_used_at=now)
        .execution_options(synchronize_session=False)
    )
    return row


def redeem_magic_code(
    session: Session, user_id: int | None, code: str, settings: Settings, now: datetime
) -> OneTimeToken:
    """The code of any open magic link of the user; each miss spends an attempt of every
    open link, and a link out of attempts accepts no code (its URL still works)."""
    rows = (
        []
        if user_id is None
        else session.execute(
            select(OneTimeToken).where(
                OneTimeToken.user_id == user_id,
                OneTimeToken.purpose == MAGIC,
                OneTimeToken.used_at.is_(None),
                OneTimeToken.code_hash.is_not(None),
                OneTimeToken.code_attempts < CODE_ATTEMPTS,
            )
        )
        .scalars()
        .all()
    )
    open_rows = [row for row in rows if _magic_window_open(row, now)]
    for row in open_rows:
        if secrets_equal(row.code_hash or "", hash_code(code, row.token_hash, settings)):
            spent = session.execute(
                update(OneTimeToken)
                .where(
                    OneTimeToken.id == row.id,
                    OneTimeToken.used_at.is_(None),
                    OneTimeToken.code_attempts < CODE_ATTEMPTS,
                )
                .values(used_at=now, first_used_at=row.first_used_at or now)
                .execution_options(synchronize_session=False)
            )
            if spent.rowcount == 1:
                return row
    for row in open_rows:
        session.execute(
            update(OneTimeToken)
            .where(OneTimeToken.id == row.id)
            .values(code_attempts=OneTimeToken.code_attempts + 1)
            .execution_options(synchronize_session=False)
        )
    raise RecordedRefusal(DEAD_CODE)
