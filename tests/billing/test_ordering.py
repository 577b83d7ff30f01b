"""R-B3 ordering on ties: Stripe's `created` has whole seconds and events come in any order."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from app.db import session_scope
from app.models import Subscription, User
from tests.support import stripe_events as se
from tests.support.app import create_user


@pytest.fixture
def subscribed_report(publish):
    return publish(slug="subs", body="Lead.\n\n<!-- paywall -->\n\nPaidword.")


def access(client, reader) -> str:
    return client.get("/api/v1/reports/subs", headers=reader.headers).json()["access"]


def held(client, reader) -> list[tuple[str, str | None]]:
    me = client.get("/api/v1/me", headers=reader.headers).json()
    return [(s["status"], s["current_period_end"]) for s in me["subscriptions"]]


def statuses(client, reader) -> list[str]:
    return [status for status, _ in held(client, reader)]


def sub_event(reader, type_: str, created: int, **kw) -> bytes:
    return se.event(type_, se.subscription(user_id=reader.id, **kw), created=created)


def invoice_paid(reader, created: int, **kw) -> bytes:
    return se.event("invoice.paid", se.invoice(user_id=reader.id, **kw), created=created)


def delivered(response) -> str:
    assert response.status_code == 200, response.text
    return response.json()["outcome"]


# Subscription events of one second ----------------------------------------------------


def test_created_incomplete_after_updated_active_of_the_same_second_keeps_access(
    client, deliver, reader, subscribed_report
):
    now = int(time.time())
    delivered(deliver(sub_event(reader, "customer.subscription.updated", now, status="active")))
    late = delivered(
        deliver(sub_event(reader, "customer.subscription.created", now, status="incomplete"))
    )
    assert late.startswith("ignored")
    assert access(client, reader) == "full"
    assert statuses(client, reader) == ["active"]


def test_created_incomplete_then_updated_active_of_the_same_second_grants(
    client, deliver, reader, subscribed_report
):
    now = int(time.time())
    delivered(deliver(sub_event(reader, "customer.subscription.created", now, status="incomplete")))
    delivered(deliver(sub_event(reader, "customer.subscription.updated", now, status="active")))
    assert access(client, reader) == "full" and statuses(client, reader) == ["active"]


@pytest.mark.parametrize("later", ["past_due", "unpaid", "paused", "canceled"])
def test_incomplete_never_follows_a_later_state_of_the_same_second(
    client, deliver, reader, subscribed_report, later
):
    now = int(time.time())
    delivered(deliver(sub_event(reader, "customer.subscription.updated", now, status=later)))
    delivered(deliver(sub_event(reader, "customer.subscription.created", now, status="incomplete")))
    assert statuses(client, reader) == [later]


def test_other_moves_of_the_same_second_apply_in_arrival_order(
    client, deliver, reader, subscribed_report
):
    now = int(time.time())
    delivered(deliver(sub_event(reader, "customer.subscription.created", now, status="active")))
    delivered(deliver(sub_event(reader, "customer.subscription.updated", now, status="unpaid")))
    assert access(client, reader) == "preview" and statuses(client, reader) == ["unpaid"]


# Invoices ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "reads"), [("past_due", "full"), ("unpaid", "preview"), ("canceled", "preview")]
)
def test_invoice_paid_of_the_same_second_never_overrides_a_subscription_status(
    client, deliver, reader, subscribed_report, status, reads
):
    now = int(time.time())
    delivered(deliver(sub_event(reader, "customer.subscription.created", now - 60)))
    ended = status == "canceled"
    type_ = f"customer.subscription.{'deleted' if ended else 'updated'}"
    delivered(deliver(sub_event(reader, type_, now, status=status)))
    delivered(deliver(invoice_paid(reader, now)))
    assert statuses(client, reader) == [status]
    assert access(client, reader) == reads


def test_invoice_paid_of_the_same_second_extends_the_period(
    client, deliver, reader, subscribed_report
):
    now = int(time.time())
    ends = now + 10 * 86400
    delivered(deliver(sub_event(reader, "customer.subscription.updated", now, period_end=ends)))
    delivered(deliver(invoice_paid(reader, now, period_end=ends + 30 * 86400)))
    [(status, period_end)] = held(client, reader)
    assert status == "active" and period_end.startswith(
        time.strftime("%Y-%m-%d", time.gmtime(ends + 30 * 86400))
    )


def test_a_newer_invoice_paid_recovers_past_due_and_an_older_one_changes_nothing(
    client, deliver, reader, subscribed_report
):
    now = int(time.time())
    unpaid = sub_event(reader, "customer.subscription.updated", now - 10, status="unpaid")
    delivered(deliver(unpaid))
    assert delivered(deliver(invoice_paid(reader, now - 20))).startswith("ignored")
    assert statuses(client, reader) == ["unpaid"]
    delivered(deliver(invoice_paid(reader, now)))
    assert statuses(client, reader) == ["active"] and access(client, reader) == "full"


def test_invoice_paid_creates_the_row_and_incomplete_of_that_second_cannot_undo_it(
    client, deliver, reader, subscribed_report
):
    now = int(time.time())
    delivered(deliver(invoice_paid(reader, now)))
    delivered(deliver(sub_event(reader, "customer.subscription.created", now, status="incomplete")))
    assert statuses(client, reader) == ["active"] and access(client, reader) == "full"


# The other events that carry the subscription ------------------------------------------


def test_paused_then_resumed(client, deliver, reader, subscribed_report):
    now = int(time.time())
    trial = sub_event(reader, "customer.subscription.created", now - 20, status="trialing")
    delivered(deliver(trial))
    assert access(client, reader) == "full"
    # A trial that ended without a payment method (Stripe's `customer.subscription.paused`
    # trigger: trial_settings.end_behavior.missing_payment_method = pause).
    paused = sub_event(
        reader,
        "customer.subscription.paused",
        now - 10,
        status="paused",
        pause_collection=None,
        trial_end=now - 10,
        trial_settings={"end_behavior": {"missing_payment_method": "pause"}},
    )
    assert delivered(deliver(paused)).startswith("applied")
    assert access(client, reader) == "preview" and statuses(client, reader) == ["paused"]
    resumed = sub_event(
        reader, "customer.subscription.resumed", now, status="active", pause_collection=None
    )
    assert delivered(deliver(resumed)).startswith("applied")
    assert access(client, reader) == "full" and statuses(client, reader) == ["active"]


def test_pending_update_applied_and_expired_carry_the_subscription(
    client, deliver, reader, subscribed_report
):
    now = int(time.time())
    delivered(
        deliver(sub_event(reader, "customer.subscription.created", now - 20, price="price_unsold"))
    )
    assert access(client, reader) == "preview"
    applied = sub_event(
        reader, "customer.subscription.pending_update_applied", now - 10, pending_update=None
    )
    assert delivered(deliver(applied)).startswith("applied")
    assert access(client, reader) == "full"
    expired = sub_event(
        reader,
        "customer.subscription.pending_update_expired",
        now,
        status="past_due",
        pending_update=None,
    )
    assert delivered(deliver(expired)).startswith("applied")
    assert statuses(client, reader) == ["past_due"]


def test_an_older_paused_event_changes_nothing(client, deliver, reader, subscribed_report):
    now = int(time.time())
    delivered(deliver(sub_event(reader, "customer.subscription.updated", now)))
    old = sub_event(reader, "customer.subscription.paused", now - 5, status="paused")
    assert delivered(deliver(old)).startswith("ignored")
    with session_scope(write=False) as session:
        row = session.execute(select(Subscription)).scalar_one()
        assert (row.status, row.stripe_event_created) == ("active", now)


# Lock order -----------------------------------------------------------------------------


def test_checkout_and_a_subscription_event_for_one_user_never_deadlock(client, deliver, catalog):
    """Both lock the user row before the subscription row; the other way round, the event
    (subscription, then user) and checkout (user, then its orphan subscriptions) deadlock
    on PostgreSQL, and one of them answers 500."""
    now = int(time.time())
    for round_ in range(8):
        user_id = create_user(f"lock{round_}@example.org")
        sub_id, customer = f"sub_lock_{round_}", f"cus_lock_{round_}"
        # Seen before its customer was known: a row with no user yet.
        orphan = se.subscription(sub_id, customer=customer)
        delivered(deliver(se.event("customer.subscription.created", orphan, created=now - 10)))
        update = se.event(
            "customer.subscription.updated",
            se.subscription(sub_id, customer=customer, user_id=user_id, status="past_due"),
            created=now,
        )
        completed = se.event(
            "checkout.session.completed",
            se.checkout_session(user_id, customer=customer, sub_id=sub_id),
            created=now,
        )
        with ThreadPoolExecutor(max_workers=2) as pool:
            responses = list(pool.map(deliver, [update, completed]))
        assert [r.status_code for r in responses] == [200, 200], [r.text for r in responses]
        with session_scope(write=False) as session:
            row = session.execute(
                select(Subscription).where(Subscription.stripe_subscription_id == sub_id)
            ).scalar_one()
            assert (row.user_id, row.status) == (user_id, "past_due")
            assert session.get(User, user_id).stripe_customer_id == customer
