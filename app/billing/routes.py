"""Reader billing endpoints: Stripe Checkout and the customer portal."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from app.billing import checkout
from app.deps import MemberDep, SettingsDep, TransactionRoute
from app.errors import (
    Conflict,
    NotFound,
    ServiceUnavailable,
    Unauthorized,
    Unprocessable,
    error_responses,
)

router = APIRouter(prefix="/api/v1/billing", tags=["billing"], route_class=TransactionRoute)


class CheckoutIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tier: str = Field(min_length=1, max_length=120)
    interval: Literal["month", "year"]


class RedirectOut(BaseModel):
    url: str


@router.post(
    "/checkout",
    response_model=RedirectOut,
    responses=error_responses(Unauthorized, NotFound, Unprocessable, ServiceUnavailable),
)
def start_checkout(data: CheckoutIn, member: MemberDep, settings: SettingsDep) -> RedirectOut:
    """A Stripe Checkout Session for the tier's price; the reader is sent to its URL.

    No request transaction: the service keeps its Stripe calls outside its own short ones."""
    return RedirectOut(url=checkout.create_checkout(member, data.tier, data.interval, settings))


@router.post(
    "/portal",
    response_model=RedirectOut,
    responses=error_responses(Unauthorized, Conflict, ServiceUnavailable),
)
def open_portal(member: MemberDep, settings: SettingsDep) -> RedirectOut:
    """Stripe's customer portal: cards, invoices, cancellation."""
    return RedirectOut(url=checkout.create_portal(member, settings))
