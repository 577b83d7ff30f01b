"""Stripe payloads of old and new API versions read into validated facts. Pure.

Everything an event's handler will use is checked here, before any transaction opens: a
signed event whose values cannot apply (an id out of range, a timestamp out of range, a
wrong type) raises `MalformedEvent` and is recorded as such, never failing mid-write.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

Obj = dict[str, Any]

MAX_USER_ID = 2**31 - 1  # users.id is a 32-bit integer on PostgreSQL
MAX_EVENT_CREATED = 2**31 - 1  # stored in 32-bit integer columns
MAX_INSTANT = 253402300799  # 9999-12-31T23:59:59Z, the last instant a datetime holds
MAX_ID_LENGTH = 255
MAX_STATUS_LENGTH = 32


class MalformedEvent(ValueError):
    """A signed event whose values cannot apply: recorded and answered 200, never retried."""


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


@dataclass(frozen=True, slots=True)
class InvoiceFacts:
    subscription_id: str | None
    customer_id: str | None
    price_id: str | None
    period_end: datetime | None
    folio_user_id: int | None


@dataclass(frozen=True, slots=True)
class CheckoutFacts:
    customer_id: str | None
    subscription_id: str | None
    folio_user_id: int | None


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _object(parent: Obj, key: str) -> Obj:
    """A nested object, or {} when absent; anything else is malformed."""
    value = parent.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MalformedEvent(f"{key} is not an object: {_show(value)}")
    return value


def _text(value: Any, what: str, limit: int = MAX_ID_LENGTH) -> str:
    if (
        not isinstance(value, str)
        or not value
        or len(value) > limit
        or any(ord(c) < 32 or ord(c) == 127 for c in value)
    ):
        raise MalformedEvent(f"{what} is not a usable string: {_show(value)}")
    return value


def _id(value: Any, what: str) -> str | None:
    """A reference is an id string, or an expanded object carrying one."""
    if value is None:
        return None
    if isinstance(value, dict):
        return _id(value.get("id"), what)
    return _text(value, what)


def _instant(value: Any, what: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_INSTANT:
        raise MalformedEvent(f"{what} is not a timestamp in range: {_show(value)}")
    return datetime.fromtimestamp(value, tz=UTC)


def event_created(value: Any) -> int:
    """An event's `created`: whole unix seconds in the range our columns hold."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_EVENT_CREATED:
        raise MalformedEvent(f"created is not a timestamp in range: {_show(value)}")
    return value


def user_id(raw: Any, what: str) -> int | None:
    """A Folio user id as Stripe carries it (a decimal string); absent is None."""
    if raw is None or raw == "":
        return None
    text = raw if isinstance(raw, str) else None
    if isinstance(raw, int) and not isinstance(raw, bool):
        text = str(raw)
    if text is None or not text.isascii() or not text.isdigit() or len(text) > 10:
        raise MalformedEvent(f"{what} is not a user id: {_show(raw)}")
    value = int(text)
    if not 1 <= value <= MAX_USER_ID:
        raise MalformedEvent(f"{what} is not a user id in range: {_show(raw)}")
    return value


def _metadata_user(parent: Obj, what: str) -> int | None:
    return user_id(_object(parent, "metadata").get("folio_user_id"), what)


def _first(parent: Obj, key: str) -> Obj:
    """The first element of a Stripe list (`{"object": "list", "data": [...]}`), or {}."""
    listing = _object(parent, key)
    data = listing.get("data")
    if data is None:
        return {}
    if not isinstance(data, list):
        raise MalformedEvent(f"{key}.data is not a list: {_show(data)}")
    if not data:
        return {}
    if not isinstance(data[0], dict):
        raise MalformedEvent(f"{key}.data[0] is not an object: {_show(data[0])}")
    return data[0]


def subscription_state(subscription: Obj) -> SubscriptionState:
    item = _first(subscription, "items")
    price = item.get("price") or item.get("plan") or subscription.get("plan")
    # API 2025-03-31 moved the period from the subscription to its items.
    period_end = subscription.get("current_period_end")
    if period_end is None:
        period_end = item.get("current_period_end")
    subscription_id = _id(subscription.get("id"), "subscription id")
    if subscription_id is None:
        raise MalformedEvent("subscription without an id")
    status = subscription.get("status")
    cancel = subscription.get("cancel_at_period_end")
    if cancel is not None and not isinstance(cancel, bool):
        raise MalformedEvent(f"cancel_at_period_end is not a boolean: {_show(cancel)}")
    return SubscriptionState(
        subscription_id=subscription_id,
        customer_id=_id(subscription.get("customer"), "customer"),
        status="incomplete" if status is None else _text(status, "status", MAX_STATUS_LENGTH),
        price_id=_id(price, "price"),
        current_period_end=_instant(period_end, "current_period_end"),
        cancel_at_period_end=bool(cancel),
        folio_user_id=_metadata_user(subscription, "metadata.folio_user_id"),
    )


def invoice_facts(invoice: Obj) -> InvoiceFacts:
    # API 2025-03-31 moved `subscription` and its details under `parent`.
    details = _object(_object(invoice, "parent"), "subscription_details") or _object(
        invoice, "subscription_details"
    )
    subscription_id = _id(invoice.get("subscription"), "subscription") or _id(
        details.get("subscription"), "subscription"
    )
    line = _first(invoice, "lines")
    price_details = _object(_object(line, "pricing"), "price_details")
    price_id = (
        _id(line.get("price"), "price")
        or _id(line.get("plan"), "plan")
        or _id(price_details.get("price"), "price")
    )
    return InvoiceFacts(
        subscription_id=subscription_id,
        customer_id=_id(invoice.get("customer"), "customer"),
        price_id=price_id,
        period_end=_instant(_object(line, "period").get("end"), "period end"),
        folio_user_id=_metadata_user(details, "metadata.folio_user_id"),
    )


def checkout_facts(session: Obj) -> CheckoutFacts:
    # Anyone can set client_reference_id on a Payment Link: it is checked, not trusted.
    reference = user_id(session.get("client_reference_id"), "client_reference_id")
    metadata_user = _metadata_user(session, "metadata.folio_user_id")
    return CheckoutFacts(
        customer_id=_id(session.get("customer"), "customer"),
        subscription_id=_id(session.get("subscription"), "subscription"),
        folio_user_id=reference or metadata_user,
    )
