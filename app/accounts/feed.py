"""Private feed tokens: a revocable secret in the URL, since feed readers cannot log in."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from app.access import Member
from app.accounts.service import member_of
from app.accounts.tokens import hash_secret, new_secret
from app.errors import NotFound
from app.models import User


def viewer_for_feed_token(session: Session, token: str) -> Member:
    # Looked up by hash: the raw token is never stored, and timing reveals nothing of it.
    user = session.execute(
        select(User).where(User.feed_token_hash == hash_secret(token))
    ).scalar_one_or_none()
    if user is None or user.disabled or user.erased_at is not None:
        raise NotFound("Unknown feed")
    return member_of(user)


def rotate_feed_token(session: Session, user: User) -> str:
    """A new token; the old URL stops working at once."""
    token = new_secret(24)
    user.feed_token_hash = hash_secret(token)
    session.add(user)
    session.flush()
    return token


def revoke_feed_token(session: Session, user: User) -> None:
    user.feed_token_hash = None
    session.add(user)
    session.flush()
