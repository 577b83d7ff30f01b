"""Reading Stripe payloads of old and new API versions into plain facts. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

Obj = dict[str, Any]


@dataclass(frozen=True, slots=True)
class SubscriptionState:
    """What a Stripe subscription says of itself, whatever the API version."""

    subscription_id: str
    customer_id: str | None
    status: str
    price_id: str | None
    current_period_end: datetime | None
    cancel_at_period_end: bool
    folio_user_id: int | None


def _id(value: Any) -> str | None:
    """A reference is an id string, or an expanded object carrying one."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def _instant(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return datetime.fromtimestamp(value, tz=UTC)


def _user_id(metadata: Any) -> int | None:
    return _as_int(metadata.get("folio_user_id")) if isinstance(metadata, dict) else None


def _as_int(raw: Any) -> int | None:
    try:
        return int(raw) if raw is not None else None
    except (TypeError, ValueError):
        return None


def _first_item(subscription: Obj) -> Obj:
    items = subscription.get("items")
    data = items.get("data") if isinstance(items, dict) else None
    return data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {}


def subscription_state(subscription: Obj) -> SubscriptionState:
    item = _first_item(subscription)
    price = item.get("price") or item.get("plan") or subscription.get("plan")
    # API 2025-03-31 moved the period from the subscription to its items.
    period_end = subscription.get("current_period_end")
    if period_end is None:
        period_end = item.get("current_period_end")
    subscription_id = _id(subscription.get("id"))
    if subscription_id is None:
        raise ValueError("subscription without an id")
    return SubscriptionState(
        subscription_id=subscription_id,
        customer_id=_id(subscription.get("customer")),
        status=str(subscription.get("status") or "incomplete"),
        price_id=_id(price),
        current_period_end=_instant(period_end),
        cancel_at_period_end=bool(subscription.get("cancel_at_period_end")),
        folio_user_id=_user_id(subscription.get("metadata")),
    )


@dataclass(frozen=True, slots=True)
class InvoiceFacts:
    subscription_id: str | None
    customer_id: str | None
    price_id: str | None
    period_end: datetime | None
    folio_user_id: int | None


def invoice_facts(invoice: Obj) -> InvoiceFacts:
    # API 2025-03-31 moved `subscription` and its details under `parent`.
    parent = invoice.get("parent") if isinstance(invoice.get("parent"), dict) else {}
    details = parent.get("subscription_details") or invoice.get("subscription_details") or {}
    subscription_id = _id(invoice.get("subscription")) or _id(details.get("subscription"))
    lines = invoice.get("lines") if isinstance(invoice.get("lines"), dict) else {}
    data = lines.get("data") if isinstance(lines.get("data"), list) else []
    line = data[0] if data and isinstance(data[0], dict) else {}
    pricing = line.get("pricing") if isinstance(line.get("pricing"), dict) else {}
    price_details = pricing.get("price_details") if isinstance(pricing, dict) else None
    price_id = (
        _id(line.get("price"))
        or _id(line.get("plan"))
        or (_id(price_details.get("price")) if isinstance(price_details, dict) else None)
    )
    period = line.get("period") if isinstance(line.get("period"), dict) else {}
    return InvoiceFacts(
        subscription_id=subscription_id,
        customer_id=_id(invoice.get("customer")),
        price_id=price_id,
        period_end=_instant(period.get("end")),
        folio_user_id=_user_id(details.get("metadata")),
    )


@dataclass(frozen=True, slots=True)
class CheckoutFacts:
    customer_id: str | None
    subscription_id: str | None
    folio_user_id: int | None


def checkout_facts(session: Obj) -> CheckoutFacts:
    reference = session.get("client_reference_id")
    user_id = _as_int(reference) or _user_id(session.get("metadata"))
    return CheckoutFacts(
        customer_id=_id(session.get("customer")),
        subscription_id=_id(session.get("subscription")),
        folio_user_id=user_id,
    )
