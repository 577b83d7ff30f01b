"""Stripe events as Stripe builds and signs them (t=…,v1=HMAC-SHA256 of "{t}.{body}")."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from typing import Any

WEBHOOK_SECRET = "whsec_test_folio_0123456789abcdef"
_ids = itertools.count(1)


def sign(body: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def event(
    type_: str, obj: dict[str, Any], *, created: int | None = None, event_id: str | None = None
) -> bytes:
    payload = {
        "id": event_id or f"evt_test_{next(_ids):06d}_{int(time.time() * 1000)}",
        "object": "event",
        "api_version": "2025-03-31.basil",
        "created": created if created is not None else int(time.time()),
        "type": type_,
        "livemode": False,
        "data": {"object": obj},
    }
    return json.dumps(payload).encode()


def subscription(
    sub_id: str = "sub_123",
    *,
    status: str = "active",
    customer: str = "cus_123",
    price: str = "price_threat_month",
    period_end: int | None = None,
    user_id: int | None = None,
    cancel_at_period_end: bool = False,
    new_shape: bool = False,
    **fields: Any,
) -> dict[str, Any]:
    """A subscription object; new_shape puts the period on the item (API 2025-03-31);
    `fields` are further top-level fields, as Stripe's fixtures carry them."""
    end = period_end if period_end is not None else int(time.time()) + 30 * 86400
    item: dict[str, Any] = {
        "id": "si_1",
        "object": "subscription_item",
        "price": {"id": price, "object": "price"},
    }
    obj: dict[str, Any] = {
        "id": sub_id,
        "object": "subscription",
        "status": status,
        "customer": customer,
        "cancel_at_period_end": cancel_at_period_end,
        "metadata": {"folio_user_id": str(user_id)} if user_id else {},
        "items": {"object": "list", "data": [item]},
    }
    if new_shape:
        item["current_period_end"] = end
    else:
        obj["current_period_end"] = end
    obj.update(fields)
    return obj


def invoice(
    sub_id: str = "sub_123",
    *,
    customer: str = "cus_123",
    price: str = "price_threat_month",
    user_id: int | None = None,
    new_shape: bool = True,
    period_end: int | None = None,
) -> dict[str, Any]:
    end = period_end if period_end is not None else int(time.time()) + 30 * 86400
    obj: dict[str, Any] = {
        "id": "in_1",
        "object": "invoice",
        "customer": customer,
        "status": "paid",
        "lines": {
            "object": "list",
            "data": [
                {
                    "id": "il_1",
                    "price": {"id": price},
                    "period": {"start": end - 30 * 86400, "end": end},
                }
            ],
        },
    }
    metadata = {"folio_user_id": str(user_id)} if user_id else {}
    if new_shape:
        obj["parent"] = {
            "type": "subscription_details",
            "subscription_details": {"subscription": sub_id, "metadata": metadata},
        }
    else:
        obj["subscription"] = sub_id
        obj["subscription_details"] = {"metadata": metadata}
    return obj


def checkout_session(
    user_id: int, *, customer: str = "cus_123", sub_id: str = "sub_123"
) -> dict[str, Any]:
    return {
        "id": "cs_test_1",
        "object": "checkout.session",
        "mode": "subscription",
        "client_reference_id": str(user_id),
        "customer": customer,
        "subscription": sub_id,
        "status": "complete",
        "payment_status": "paid",
        "metadata": {"folio_user_id": str(user_id)},
    }
