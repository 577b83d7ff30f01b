"""F8: a missed event. `folio stripe-sync` (a real process) brings the database to the
emulator's state; a second run writes nothing (not a row, not an audit entry); a sync
whose listing is overtaken by a newer webhook never wins over it; Stripe down -> the
command fails with a message, not a traceback, and changes nothing."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from app.db import session_scope
from app.models import Subscription
from tests.support.billing_faults import API_KEY, UNUSED_STRIPE, billing_rows, stripe_env
from tests.support.served import FOLIO, ROOT, Served, served
from tests.support.stripe_events import WEBHOOK_SECRET
from tests.support.stripe_fixtures import EmulatorHandle
from tests.support.waiting import wait_for


def stripe_sync(api_base: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **stripe_env(api_base)}
    return subprocess.run(
        [str(FOLIO), "stripe-sync"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def webhook_server(tmp_path_factory, stripe_emulator: EmulatorHandle) -> Iterator[Served]:
    env = stripe_env(stripe_emulator.base_url)
    with served(tmp_path_factory.mktemp("sync"), env=env, start_seconds=180) as server:
        yield server


@pytest.fixture
def emulator(stripe_emulator: EmulatorHandle, webhook_server: Served) -> EmulatorHandle:
    stripe_emulator.reset()
    stripe_emulator.register_webhook(f"{webhook_server.base}/webhooks/stripe", WEBHOOK_SECRET)
    return stripe_emulator


def _subscribe(emulator: EmulatorHandle, user_id: int, email: str) -> str:
    """A reader subscribes at Stripe (Checkout, paid): the subscription's id."""
    client = emulator.client(API_KEY)
    price = client.v1.prices.create(
        params={
            "unit_amount": 2900,
            "currency": "usd",
            "recurring": {"interval": "month"},
            "product_data": {"name": "Threat Pro"},
        }
    )
    with session_scope() as session:  # the catalog's tier sells this price
        from app.models import Price

        row = session.execute(select(Price).where(Price.interval == "month")).scalars().first()
        row.stripe_price_id = price.id
        session.add(row)
    customer = client.v1.customers.create(
        params={"email": email, "metadata": {"folio_user_id": str(user_id)}}
    )
    metadata = {"folio_user_id": str(user_id)}
    checkout = client.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "customer": customer.id,
            "client_reference_id": str(user_id),
            "line_items": [{"price": price.id, "quantity": 1}],
            "subscription_data": {"metadata": metadata},
            "metadata": metadata,
            "success_url": "http://folio.test/account",
            "cancel_url": "http://folio.test/account",
        }
    )
    return emulator.complete_checkout(checkout.id)["subscription"]


def _held(subscription_id: str) -> Subscription | None:
    with session_scope(write=False) as session:
        return session.execute(
            select(Subscription).where(Subscription.stripe_subscription_id == subscription_id)
        ).scalar_one_or_none()


def _after_the_second_of(stamp: int) -> None:
    while int(time.time()) <= stamp:
        time.sleep(0.02)


def test_stripe_sync_repairs_missed_events_and_a_second_run_writes_nothing(
    emulator, make_account, catalog
):
    reader = make_account("reader@example.org")
    emulator.pause_webhooks()  # every event of this subscription is missed
    subscription_id = _subscribe(emulator, reader.id, reader.email)
    emulator.set_subscription_status(subscription_id, "past_due")
    emulator.wait_for_webhooks()
    assert _held(subscription_id) is None

    first = stripe_sync(emulator.base_url)
    assert first.returncode == 0, first.stdout + first.stderr
    assert f"changed {subscription_id}: None -> past_due" in first.stdout
    held = _held(subscription_id)
    at_stripe = emulator.client(API_KEY).v1.subscriptions.retrieve(subscription_id)
    assert (held.status, held.user_id, held.stripe_customer_id) == (
        "past_due",
        reader.id,
        at_stripe.customer,
    )
    assert int(held.current_period_end.timestamp()) == at_stripe.to_dict()["current_period_end"]

    rows = billing_rows()
    _after_the_second_of(held.stripe_event_created)  # a later listing, so not a tie
    second = stripe_sync(emulator.base_url)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "1 subscriptions seen, 0 changed, 0 failed" in second.stdout
    assert billing_rows() == rows  # not one write, not one audit entry
    emulator.resume_webhooks()


def test_stripe_sync_overtaken_by_a_newer_webhook_never_overwrites_it(
    emulator, make_account, catalog
):
    reader = make_account("reader@example.org")
    subscription_id = _subscribe(emulator, reader.id, reader.email)
    emulator.wait_for_webhooks()
    wait_for(lambda: (held := _held(subscription_id)) is not None and held.status == "active")
    _after_the_second_of(_held(subscription_id).stripe_event_created)
    # The listing (still active) is computed; the subscription then becomes unpaid and its
    # webhook is applied by folio serve; only then does the stale listing reach the sync.
    emulator.set_status_after_next_listing(subscription_id, "unpaid")
    result = stripe_sync(emulator.base_url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 changed" in result.stdout
    assert _held(subscription_id).status == "unpaid"
    again = stripe_sync(emulator.base_url)  # fetched after the webhook: agrees with it
    assert again.returncode == 0 and "0 changed" in again.stdout
    assert _held(subscription_id).status == "unpaid"


def test_stripe_sync_with_stripe_down_fails_with_a_message_and_changes_nothing(
    make_account, catalog
):
    make_account("reader@example.org")
    rows = billing_rows()
    result = stripe_sync(UNUSED_STRIPE)  # a port nothing listens on
    assert result.returncode != 0
    assert "Stripe cannot be reached" in result.stderr
    assert "Traceback" not in result.stderr
    assert billing_rows() == rows
