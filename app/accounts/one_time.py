"""Single-use emailed secrets (OneTimeToken): email verification, password reset, magic link.

Only hashes are stored. A token is spent by a conditional UPDATE (`used_at IS NULL`), so
two requests racing with one link cannot both succeed. A magic link tolerates mail
scanners: its first use starts a grace period in which it still works, then never again.
A code guess is counted (one conditional UPDATE) before it is compared.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, and_, func, insert, literal, or_, select, update
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
from app.models import OneTimeToken, User, UTCDateTime

VERIFY = "verify"
RESET = "reset"
MAGIC = "magic"
LIFETIMES = {VERIFY: timedelta(hours=24), RESET: timedelta(hours=1), MAGIC: timedelta(minutes=15)}
MAGIC_GRACE = timedelta(minutes=10)  # a link first opened by a scanner still works this long
CODE_ATTEMPTS = 5
DEAD_LINK = "This link is invalid or has expired."
DEAD_CODE = "Invalid or expired sign-in link or code."


def usable_account(email: str) -> Select:
    """The id of the account of this (normalised) address that may receive links."""
    return select(User.id).where(
        User.email == email, User.disabled.is_(False), User.erased_at.is_(None)
    )


def create_one_time_token(
    session: Session,
    user_id: int,
    purpose: str,
    settings: Settings,
    now: datetime,
    password_hash: str | None = None,
) -> tuple[str, str | None]:
    """(raw token, raw 6-digit code for magic links); only their hashes are kept.
    `password_hash`: a verification link's own registration password."""
    token = new_secret(32)
    row = OneTimeToken(
        user_id=user_id,
        purpose=purpose,
        token_hash=hash_secret(token),
        expires_at=now + LIFETIMES[purpose],
        created_at=now,
        password_hash=password_hash,
    )
    code = None
    if purpose == MAGIC:
        code = new_code()
        row.code_hash = hash_code(code, row.token_hash, settings)
    session.add(row)
    session.flush()
    return token, code


def create_for_address(
    session: Session, email: str, purpose: str, settings: Settings, now: datetime
) -> tuple[str, str | None]:
    """Like create_one_time_token for the usable account of `email`, if any: one INSERT …
    SELECT that runs alike whether or not the account exists (no account, no row)."""
    token = new_secret(32)
    token_hash = hash_secret(token)
    code = new_code() if purpose == MAGIC else None
    values = {
        "purpose": purpose,
        "token_hash": token_hash,
        "code_hash": hash_code(code, token_hash, settings) if code else None,
        "code_attempts": 0,
        "expires_at": now + LIFETIMES[purpose],
        "created_at": now,
    }
    columns = OneTimeToken.__table__.c  # type: ignore[attr-defined]
    found = usable_account(email).add_columns(
        *(literal(value, columns[name].type).label(name) for name, value in values.items())
    )
    session.execute(insert(OneTimeToken).from_select(["user_id", *values], found))
    return token, code


def _find(session: Session, token: str, purpose: str) -> OneTimeToken | None:
    digest = hash_secret(token)
    row = session.execute(
        select(OneTimeToken).where(OneTimeToken.token_hash == digest)
    ).scalar_one_or_none()
    if row is None or row.purpose != purpose or not secrets_equal(row.token_hash, digest):
        return None
    return row


def is_live(session: Session, token: str, purpose: str, now: datetime) -> bool:
    """Whether this link could still be spent (redeem decides; this only reads)."""
    row = _find(session, token, purpose)
    return row is not None and row.used_at is None and row.expires_at > now


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


def retire(session: Session, user_id: int, purposes: Iterable[str], now: datetime) -> None:
    """Every outstanding token of these purposes stops working (e.g. after a reset)."""
    session.execute(
        update(OneTimeToken)
        .where(
            OneTimeToken.user_id == user_id,
            OneTimeToken.purpose.in_(list(purposes)),
            OneTimeToken.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )


def redeem_magic_link(session: Session, token: str, now: datetime) -> OneTimeToken:
    """A magic link works until it expires and, once used, for MAGIC_GRACE more. The window
    is checked in the same UPDATE that opens it, so a code spent meanwhile shuts the link."""
    row = _find(session, token, MAGIC)
    if row is None:
        raise RecordedRefusal(DEAD_CODE)
    opened = session.execute(
        update(OneTimeToken)
        .where(OneTimeToken.id == row.id, _magic_window_open_sql(now))
        .values(first_used_at=func.coalesce(OneTimeToken.first_used_at, _instant(now)))
        .execution_options(synchronize_session=False)
    )
    if opened.rowcount != 1:
        raise RecordedRefusal(DEAD_CODE)
    return row


def _instant(now: datetime) -> ColumnElement[datetime]:
    return literal(now, UTCDateTime())


def _magic_window_open_sql(now: datetime) -> ColumnElement[bool]:
    """Unused, and either never opened and not expired, or opened within MAGIC_GRACE."""
    return and_(
        OneTimeToken.used_at.is_(None),
        or_(
            and_(OneTimeToken.first_used_at.is_(None), OneTimeToken.expires_at > now),
            OneTimeToken.first_used_at > now - MAGIC_GRACE,
        ),
    )


def redeem_magic_code(
    session: Session, user_id: int | None, code: str, settings: Settings, now: datetime
) -> OneTimeToken:
    """The code of any open magic link of the user. Each guess first spends an attempt of
    every open link that has one left, in one conditional UPDATE, and is compared only
    with the links it was counted on: concurrent guesses cannot overrun the cap."""
    if user_id is None:
        raise RecordedRefusal(DEAD_CODE)
    counted = session.execute(
        update(OneTimeToken)
        .where(
            OneTimeToken.user_id == user_id,
            OneTimeToken.purpose == MAGIC,
            OneTimeToken.code_hash.is_not(None),
            OneTimeToken.code_attempts < CODE_ATTEMPTS,
            _magic_window_open_sql(now),
        )
        .values(code_attempts=OneTimeToken.code_attempts + 1)
        .returning(OneTimeToken.id, OneTimeToken.token_hash, OneTimeToken.code_hash)
        .execution_options(synchronize_session=False)
    ).all()
    for row_id, token_hash, code_hash in counted:
        if secrets_equal(code_hash, hash_code(code, token_hash, settings)):
            spent = session.execute(
                update(OneTimeToken)
                .where(OneTimeToken.id == row_id, OneTimeToken.used_at.is_(None))
                .values(
                    used_at=now,
                    first_used_at=func.coalesce(OneTimeToken.first_used_at, _instant(now)),
                )
                .execution_options(synchronize_session=False)
            )
            if spent.rowcount == 1:
                return session.get(OneTimeToken, row_id)  # type: ignore[return-value]
    raise RecordedRefusal(DEAD_CODE)
