"""Staff request and response bodies of what is sold (SPEC §5): tiers, their prices, comps."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator

from app.bodies import Slug, StrictBody
from app.instants import Instant

Interval = Literal["month", "year"]


class PriceIn(StrictBody):
    interval: Interval
    amount: int = Field(ge=0, le=100_000_000)
    currency: str = Field(min_length=3, max_length=3, pattern=r"^[A-Za-z]{3}$")
    stripe_price_id: str | None = Field(default=None, min_length=1, max_length=255)

    @field_validator("currency")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()


class TierIn(StrictBody):
    slug: Slug
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=5000)
    collections: list[str] = Field(default_factory=list, max_length=500)
    all_collections: bool = False
    prices: list[PriceIn] = Field(default_factory=list, max_length=10)
    active: bool = True


class TierUpdate(StrictBody):
    slug: Slug | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    collections: list[str] | None = Field(default=None, max_length=500)
    all_collections: bool | None = None
    prices: list[PriceIn] | None = Field(default=None, max_length=10)
    active: bool | None = None


class PriceOut(BaseModel):
    interval: str
    amount: int
    currency: str
    stripe_price_id: str | None


class TierOut(BaseModel):
    id: int
    slug: str
    name: str
    description: str
    collections: list[str]
    all_collections: bool
    prices: list[PriceOut]
    active: bool


class CompIn(StrictBody):
    tier: str = Field(min_length=1, max_length=120)
    expires_at: Instant | None = None
    note: str = Field(default="", max_length=2000)


class CompOut(BaseModel):
    id: int
    user_id: int
    tier: str
    source: str
    status: str
    expires_at: Instant | None
    note: str
    created_at: Instant
