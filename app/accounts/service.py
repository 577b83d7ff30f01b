"""Account logic: authentication, token issue, creating admins."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from app.accounts.passwords import hash_password, verify_password
from app.accounts.schemas import TokenPair
from app.accounts.tokens import issue_access_token
from app.config import Settings
from app.errors import Forbidden, Unauthorized
from app.models import User, utcnow

BAD_CREDENTIALS = "Incorrect email or password"


def normalise_email(email: str) -> str:
    return email.strip().lower()


def user_by_email(session: Session, email: str) -> User | None:
    return session.execute(
        select(User).where(User.email == normalise_email(email))
    ).scalar_one_or_none()


def authenticate(session: Session, email: str, password: str) -> User:
    user = user_by_email(session, email)
    ok, new_hash = verify_password(password, user.password_hash if user else None)
    if user is None or not ok or user.erased_at is not None:
        raise Unauthorized(BAD_CREDENTIALS)
    if user.disabled:
        raise Forbidden("This account is disabled")
    if user.email_verified_at is None:
        raise Forbidden("Verify your email address first")
    if new_hash:
        user.password_hash = new_hash
        session.add(user)
    return user


def issue_tokens(session: Session, user: User, settings: Settings) -> TokenPair:
    return TokenPair(
        access_token=issue_access_token(user.id, settings),  # type: ignore[arg-type]
        expires_in=settings.access_token_minutes * 60,
    )


def create_or_promote_admin(session: Session, email: str, password: str, name: str = "") -> User:
    user = user_by_email(session, email)
    now = utcnow()
    if user is None:
        user = User(email=normalise_email(email), name=name or "Administrator")
    user.password_hash = hash_password(password)
    user.role = "admin"
    user.disabled = False
    user.email_verified_at = user.email_verified_at or now
    user.tokens_valid_after = now
    session.add(user)
    session.flush()
    return user
