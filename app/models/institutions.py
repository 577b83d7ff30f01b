"""Institutional licences and the subscription requests that lead to them."""

from datetime import datetime

from sqlalchemy import JSON, Column, ForeignKey, Integer, Text
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, utcnow


class Organization(SQLModel, table=True):
    __tablename__ = "organizations"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    tier_id: int = Field(
        sa_column=Column(Integer, ForeignKey("tiers.id", ondelete="RESTRICT"), nullable=False)
    )
    email_domains: list[str] = Field(default_factory=list, sa_type=JSON)
    ip_ranges: list[str] = Field(default_factory=list, sa_type=JSON)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    notes: str = Field(default="", sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SubscriptionRequest(SQLModel, table=True):
    __tablename__ = "subscription_requests"

    id: int | None = Field(default=None, primary_key=True)
    requester_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True
        ),
    )
    organization: str = Field(default="", max_length=200)
    organization_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("organizations.id", ondelete="SET NULL"), nullable=True
        ),
    )
    message: str = Field(default="", sa_type=Text)
    tier_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("tiers.id", ondelete="SET NULL"), nullable=True),
    )
    status: str = Field(default="pending", max_length=16, index=True)
    decided_by_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    )
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decision_reason: str = Field(default="", sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
