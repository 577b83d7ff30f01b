"""Accounts and their credentials: users, refresh-token families, one-time tokens."""

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, String
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, utcnow


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    # Stored normalised (lower-cased), so the unique index is case-insensitive.
    email: str = Field(sa_column=Column(String(320), nullable=False, unique=True))
    password_hash: str | None = Field(default=None, max_length=255)
    name: str = Field(default="", max_length=200)
    role: str = Field(default="reader", max_length=16)
    email_verified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    disabled: bool = Field(default=False)
    stripe_customer_id: str | None = Field(default=None, max_length=255, unique=True)
    # Access tokens issued before this instant are refused (password change, reset).
    tokens_valid_after: datetime | None = Field(default=None, sa_type=UTCDateTime)
    feed_token_hash: str | None = Field(default=None, max_length=64, unique=True)
    erased_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RefreshToken(SQLModel, table=True):
    __tablename__ = "refresh_tokens"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    token_hash: str = Field(max_length=64, unique=True)
    family: str = Field(max_length=64, index=True)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    rotated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class OneTimeToken(SQLModel, table=True):
    """A single-use emailed secret: email verification, password reset or magic link."""

    __tablename__ = "one_time_tokens"
    __table_args__ = (Index("ix_one_time_tokens_user_purpose", "user_id", "purpose"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    )
    purpose: str = Field(max_length=16)  # verify | reset | magic
    token_hash: str = Field(max_length=64, unique=True)
    code_hash: str | None = Field(default=None, max_length=64)  # magic link's 6-digit code
    code_attempts: int = Field(default=0)
    # A verification link's own registration password: it becomes the account's password
    # only when this link proves the address (account pre-hijacking, R-S8).
    password_hash: str | None = Field(default=None, max_length=255)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    first_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
