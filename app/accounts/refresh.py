"""Refresh tokens: opaque, stored hashed, rotated on every use, revoked by family.

A family is the chain of tokens grown from one sign-in. Presenting a token that was
already rotated (or revoked, or expired) is treated as theft (RFC 9700 §4.14.2): the whole
family dies, including the token the legitimate holder got last.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, bindparam, exists, select, update
from sqlmodel import Session

from app.access.viewer import Member
from app.accounts.tokens import (
    INVALID_TOKEN,
    RecordedRefusal,
    hash_secret,
    new_secret,
    read_access_token,
    secrets_equal,
)
from app.config import Settings
from app.errors import Unauthorized
from app.models import RefreshToken, User

DEAD_REFRESH_TOKEN = "Invalid or expired refresh token"  # noqa: S105  (a message)


def new_family() -> str:
    return uuid.uuid4().hex


def issue_refresh_token(
    session: Session, user_id: int, settings: Settings, now: datetime, family: str
) -> str:
    token = new_secret(32)
    session.add(
        RefreshToken(
            user_id=user_id,
            token_hash=hash_secret(token),
            family=family,
            expires_at=now + timedelta(days=settings.refresh_token_days),
            created_at=now,
        )
    )
    session.flush()
    return token


def _find(session: Session, token: str) -> RefreshToken | None:
    digest = hash_secret(token)
    row = session.execute(
        select(RefreshToken).where(RefreshToken.token_hash == digest)
    ).scalar_one_or_none()
    if row is None or not secrets_equal(row.token_hash, digest):
        return None
    return row


def revoke_family(session: Session, family: str, now: datetime) -> None:
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.family == family, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )


def revoke_all_for_user(session: Session, user_id: int, now: datetime) -> None:
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )


def rotate_refresh_token(
    session: Session, token: str, settings: Settings, now: datetime
) -> tuple[User, str, str]:
    """(the user, a new refresh token of the same family, the family); the presented one
    is spent.

    The spend is one conditional UPDATE whose row count says who won, so two concurrent
    refreshes with one token cannot both succeed, on SQLite (writers serialised by BEGIN
    IMMEDIATE) as on PostgreSQL (the row lock makes the second UPDATE re-check and miss).
    """
    row = _find(session, token)
    if row is None:
        raise RecordedRefusal(DEAD_REFRESH_TOKEN)
    spent = session.execute(
        update(RefreshToken)
        .where(
            RefreshToken.id == row.id,
            RefreshToken.rotated_at.is_(None),
            RefreshToken.revoked_at.is_(None),
            RefreshToken.expires_at > now,
        )
        .values(rotated_at=now)
        # A refresh ends no session (revoked_at does): every worker keeps its kept access.
        .execution_options(synchronize_session=False, folio_access_neutral=True)
    )
    user = session.get(User, row.user_id)
    usable = user is not None and not user.disabled and user.erased_at is None
    if spent.rowcount != 1 or not usable:
        revoke_family(session, row.family, now)
        raise RecordedRefusal(DEAD_REFRESH_TOKEN)
    next_token = issue_refresh_token(session, row.user_id, settings, now, row.family)
    return user, next_token, row.family  # type: ignore[return-value]


def revoke_family_of(session: Session, token: str, now: datetime) -> None:
    """Logout: the presented token's whole family, whatever state it is in."""
    row = _find(session, token)
    if row is not None:
        revoke_family(session, row.family, now)


def member_for_token(
    session: Session,
    token: str,
    settings: Settings,
    client_ip: str | None,
    session_row: Callable[[int, str], Any] | None = None,
) -> Member:
    """The signed-in reader of an access token, or a 401: the signature once per token
    (app.accounts.tokens), whether its session still stands on every call (R-A1).
    `session_row(user_id, family)`: live_session_row, or a worker's kept copy of it
    (app.holdings_cache)."""
    user_id, issued_at, family = read_access_token(token, settings)
    if session_row is None:
        row = live_session_row(session, user_id, family)
    else:
        row = session_row(user_id, family)
    member = member_from_row(row, issued_at, client_ip)
    if member is None:
        raise Unauthorized(INVALID_TOKEN)
    return member


_MEMBER_COLUMNS = (
    User.id,
    User.email,
    User.role,
    User.email_verified_at,
    User.name,
    User.disabled,
    User.erased_at,
    User.tokens_valid_after,
)


@lru_cache(maxsize=1)
def _member_query() -> Select:
    """Built once (building it cost as much as running it); bound per request."""
    user_id = bindparam("user_id")
    live = exists().where(
        RefreshToken.family == bindparam("family"),
        RefreshToken.user_id == user_id,
        RefreshToken.revoked_at.is_(None),
    )
    return select(*_MEMBER_COLUMNS).where(User.id == user_id, live)


def live_session_row(session: Session, user_id: int, family: str) -> tuple | None:
    """The user's columns while the token's session (refresh family) still stands, from
    one indexed statement (no User object: this runs on every signed-in request)."""
    row = (
        session.connection()
        .execute(_member_query(), {"user_id": user_id, "family": family})
        .first()
    )
    return None if row is None else tuple(row)


def member_from_row(row: tuple | None, issued_at: datetime, client_ip: str | None) -> Member | None:
    """The reader of a token issued at `issued_at`, from its live-session row; None when
    the session was logged out, the user is disabled or erased, or the token predates a
    password change."""
    if row is None:
        return None
    uid, email, role, verified_at, name, disabled, erased_at, valid_after = row
    if disabled or erased_at is not None:
        return None
    # Both instants carry microseconds (see issue_access_token), so a token issued just
    # before a password change in the same second is refused and one issued after is not.
    if valid_after is not None and issued_at < valid_after:
        return None
    return Member(
        id=uid,
        email=email,
        role=role,
        email_verified=verified_at is not None,
        name=name,
        client_ip=client_ip,
    )
