"""What is sold and held: tiers, their prices, subscriptions, and the Stripe event ledger."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, String, Text
from sqlmodel import Field, Relationship, SQLModel

from app.models.base import UTCDateTime, utcnow

FINAL_STRIPE_STATUSES = frozenset({"canceled", "incomplete_expired"})


class TierCollection(SQLModel, table=True):
    __tablename__ = "tier_collections"

    tier_id: int = Field(
        sa_column=Column(Integer, ForeignKey("tiers.id", ondelete="CASCADE"), primary_key=True)
    )
    collection_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("collections.id", ondelete="CASCADE"), primary_key=True
        )
    )


class Price(SQLModel, table=True):
    __tablename__ = "prices"
    __table_args__ = (Index("ix_prices_tier_id_interval", "tier_id", "interval"),)

    id: int | None = Field(default=None, primary_key=True)
    tier_id: int = Field(
        sa_column=Column(Integer, ForeignKey("tiers.id", ondelete="CASCADE"), nullable=False)
    )
    interval: str = Field(max_length=8)
    amount: int = Field(ge=0)  # minor units
    currency: str = Field(max_length=3)
    stripe_price_id: str | None = Field(default=None, max_length=255, unique=True)
    tier: "Tier" = Relationship(back_populates="prices")


class Tier(SQLModel, table=True):
    __tablename__ = "tiers"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=120, unique=True)
    name: str = Field(max_length=200)
    description: str = Field(default="", sa_type=Text)
    all_collections: bool = Field(default=False)
    active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    prices: list[Price] = Relationship(
        back_populates="tier",
        sa_relationship_kwargs={
            "lazy": "selectin",
            "cascade": "all, delete-orphan",
            "order_by": "Price.id",
        },
    )


class Subscription(SQLModel, table=True):
    __tablename__ = "subscriptions"
    __table_args__ = (Index("ix_subscriptions_user_id_status", "user_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    )
    tier_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("tiers.id", ondelete="SET NULL"), nullable=True),
    )
    source: str = Field(max_length=16)  # stripe | comp
    status: str = Field(max_length=32)
    current_period_end: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancel_at_period_end: bool = Field(default=False)
    stripe_subscription_id: str | None = Field(default=None, max_length=255, unique=True)
    stripe_customer_id: str | None = Field(default=None, max_length=255, index=True)
    stripe_price_id: str | None = Field(default=None, max_length=255)
    # `created` of the Stripe event that last set this row: older events never overwrite it.
    stripe_event_created: int | None = Field(default=None)
    note: str = Field(default="", sa_type=Text)
    granted_by_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class StripeEvent(SQLModel, table=True):
    __tablename__ = "stripe_events"

    id: int | None = Field(default=None, primary_key=True)
    stripe_event_id: str = Field(sa_column=Column(String(255), nullable=False, unique=True))
    type: str = Field(max_length=100)
    created: int = Field()  # Stripe's unix seconds
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    processed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    outcome: str = Field(default="", sa_type=Text)
    attempts: int = Field(default=0)
