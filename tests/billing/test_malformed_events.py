"""R-B3/R-B5: a validly signed event whose values cannot apply is recorded as malformed,
answered 200 (a 5xx would have Stripe retry it for days) and changes nothing."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from app.db import session_scope
from app.models import AuditEntry, StripeEvent, Subscription, User
from tests.support import stripe_events as se

HUGE = "99999999999999999999"
NOW = int(time.time())


def _sub(**kw: Any) -> dict[str, Any]:
    return se.subscription(status="canceled", **kw)


def _with(obj: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """`obj` with the value at a dotted path replaced (list indexes are numbers)."""
    *parents, last = path.split(".")
    node: Any = obj
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return obj


def _checkout(reference: Any, metadata_user: Any = None) -> dict[str, Any]:
    session = se.checkout_session(1, customer="cus_other", sub_id="sub_other")
    session["client_reference_id"] = reference
    session["metadata"] = {} if metadata_user is None else {"folio_user_id": metadata_user}
    return session


def _invoice(path: str, value: Any) -> dict[str, Any]:
    return _with(se.invoice(period_end=NOW + 90 * 86400), path, value)


# (event type, object, event created); each would change the reader's state if applied.
CASES: dict[str, tuple[str, Callable[[int], dict[str, Any]], Any]] = {
    "client_reference_id too big": ("checkout.session.completed", lambda u: _checkout(HUGE), NOW),
    "client_reference_id negative": ("checkout.session.completed", lambda u: _checkout("-1"), NOW),
    "client_reference_id zero": ("checkout.session.completed", lambda u: _checkout("0"), NOW),
    "client_reference_id words": (
        "checkout.session.completed",
        lambda u: _checkout("order-17", str(u)),
        NOW,
    ),
    "client_reference_id object": (
        "checkout.session.completed",
        lambda u: _checkout({"id": u}),
        NOW,
    ),
    "checkout metadata id too big": (
        "checkout.session.completed",
        lambda u: _checkout(None, HUGE),
        NOW,
    ),
    "subscription metadata id too big": (
        "customer.subscription.deleted",
        lambda u: _sub(customer="cus_new", user_id=HUGE),
        NOW,
    ),
    "subscription metadata id negative": (
        "customer.subscription.deleted",
        lambda u: _with(_sub(), "metadata", {"folio_user_id": "-3"}),
        NOW,
    ),
    "metadata not an object": (
        "customer.subscription.deleted",
        lambda u: _with(_sub(), "metadata", "folio_user_id=1"),
        NOW,
    ),
    "created far future": ("customer.subscription.deleted", lambda u: _sub(), 10**12),
    "created negative": ("customer.subscription.deleted", lambda u: _sub(), -1),
    "created string": ("customer.subscription.deleted", lambda u: _sub(), str(NOW)),
    "created fraction": ("customer.subscription.deleted", lambda u: _sub(), NOW + 0.5),
    "created boolean": ("customer.subscription.deleted", lambda u: _sub(), True),
    "period end far future": (
        "customer.subscription.updated",
        lambda u: _sub(period_end=10**12) | {"status": "active"},
        NOW,
    ),
    "period end negative": (
        "customer.subscription.updated",
        lambda u: _sub(period_end=-1, new_shape=True),
        NOW,
    ),
    "period end string": (
        "customer.subscription.updated",
        lambda u: _with(_sub(), "current_period_end", "next month"),
        NOW,
    ),
    "items not a list object": (
        "customer.subscription.updated",
        lambda u: _with(_sub(), "items", ["si_1"]),
        NOW,
    ),
    "items.data not a list": (
        "customer.subscription.updated",
        lambda u: _with(_sub(), "items.data", "si_1"),
        NOW,
    ),
    "item not an object": (
        "customer.subscription.updated",
        lambda u: _with(_sub(), "items.data.0", "si_1"),
        NOW,
    ),
    "status not a string": (
        "customer.subscription.updated",
        lambda u: _with(_sub(), "status", 3),
        NOW,
    ),
    "status too long": (
        "customer.subscription.updated",
        lambda u: _with(_sub(), "status", "canceled" * 40),
        NOW,
    ),
    "customer too long": (
        "customer.subscription.updated",
        lambda u: _sub(customer="cus_" + "x" * 300),
        NOW,
    ),
    "customer a number": (
        "customer.subscription.updated",
        lambda u: _with(_sub(), "customer", 42),
        NOW,
    ),
    "price with a NUL": (
        "customer.subscription.updated",
        lambda u: _sub(price="price_\u0000"),
        NOW,
    ),
    "cancel_at_period_end a string": (
        "customer.subscription.updated",
        lambda u: _with(_sub(), "cancel_at_period_end", "yes"),
        NOW,
    ),
    "invoice subscription_details a string": (
        "invoice.paid",
        lambda u: _invoice("parent.subscription_details", "sub_123"),
        NOW,
    ),
    "invoice parent a list": ("invoice.paid", lambda u: _invoice("parent", []), NOW),
    "invoice lines.data not a list": ("invoice.paid", lambda u: _invoice("lines.data", {}), NOW),
    "invoice period end far future": (
        "invoice.paid",
        lambda u: _invoice("lines.data.0.period.end", 10**12),
        NOW,
    ),
    "payment failed with a bad parent": (
        "invoice.payment_failed",
        lambda u: _invoice("parent.subscription_details", 7),
        NOW,
    ),
}


def _state(reader_id: int) -> tuple:
    with session_scope(write=False) as session:
        rows = session.execute(
            select(
                Subscription.stripe_subscription_id,
                Subscription.user_id,
                Subscription.status,
                Subscription.current_period_end,
                Subscription.stripe_price_id,
                Subscription.stripe_event_created,
            ).order_by(Subscription.id)
        ).all()
        audits = session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
        customers = session.execute(select(User.id, User.stripe_customer_id)).all()
        return tuple(rows), audits, tuple(customers)


@pytest.fixture
def subscribed(client, deliver, reader):
    """The reader holds an active subscription set by an event of ten seconds ago."""
    body = se.event(
        "customer.subscription.created",
        se.subscription(user_id=reader.id, period_end=NOW + 30 * 86400),
        created=NOW - 10,
    )
    assert deliver(body).status_code == 200
    return reader


@pytest.mark.parametrize("case", list(CASES))
def test_absurd_values_are_recorded_as_malformed_and_change_nothing(
    client, deliver, subscribed, case
):
    type_, build, created = CASES[case]
    before = _state(subscribed.id)
    body = se.event(type_, build(subscribed.id), created=created)
    response = deliver(body)
    assert response.status_code == 200, response.text
    outcome = response.json()["outcome"]
    assert outcome.startswith("malformed: "), outcome
    assert _state(subscribed.id) == before
    with session_scope(write=False) as session:
        ledger = session.execute(
            select(StripeEvent).where(StripeEvent.outcome.startswith("malformed"))
        ).scalar_one()
        assert ledger.processed_at is not None and ledger.attempts == 1
        assert ledger.type == type_
    again = deliver(body)
    assert again.status_code == 200 and again.json()["duplicate"] is True
