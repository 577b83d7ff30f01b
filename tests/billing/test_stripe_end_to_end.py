"""Checkout to full access and back, with the Stripe emulator calling our webhook over HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from app.cli import app as cli
from app.config import get_settings
from app.db import session_scope
from app.models import Subscription
from tests.support.live_server import live_server
from tests.support.stripe_events import WEBHOOK_SECRET
from tests.support.stripe_fixtures import EmulatorHandle, sell_monthly_at_emulator
from tests.support.waiting import wait_for


@pytest.fixture
def stripe_live(stripe_emulator: EmulatorHandle, monkeypatch) -> Iterator[EmulatorHandle]:
    """Our app configured for the emulator and registered as its webhook endpoint."""
    stripe_emulator.reset()
    monkeypatch.setenv("FOLIO_STRIPE_SECRET_KEY", "sk_test_folio")
    monkeypatch.setenv("FOLIO_STRIPE_API_BASE", stripe_emulator.base_url)
    monkeypatch.setenv("FOLIO_STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
    get_settings.cache_clear()
    with live_server() as base:
        stripe_emulator.register_webhook(f"{base}/webhooks/stripe", WEBHOOK_SECRET)
        yield stripe_emulator
    get_settings.cache_clear()


@pytest.fixture
def stripe_tier(client, admin, catalog, stripe_live) -> str:
    """A tier whose monthly price exists in the emulator."""
    sell_monthly_at_emulator(client, admin.headers, catalog.tier, stripe_live, "sk_test_folio")
    return catalog.tier


def _read(client, reader) -> str:
    return client.get("/api/v1/reports/subs", headers=reader.headers).json()["access"]


def _subscribe(client, reader, stripe_live, tier) -> str:
    checkout = client.post(
        "/api/v1/billing/checkout", headers=reader.headers, json={"tier": tier, "interval": "month"}
    )
    assert checkout.status_code == 200, checkout.text
    url = checkout.json()["url"]
    assert url.startswith(stripe_live.base_url)
    session = stripe_live.complete_checkout(url.rsplit("/", 1)[1])
    assert session["client_reference_id"] == str(reader.id)
    stripe_live.wait_for_webhooks()
    wait_for(lambda: _read(client, reader) == "full")
    return session["subscription"]


def test_checkout_then_cancel(client, reader, publish, stripe_live, stripe_tier):
    publish(slug="subs")
    assert _read(client, reader) == "preview"
    subscription_id = _subscribe(client, reader, stripe_live, stripe_tier)
    stripe = stripe_live.client("sk_test_folio")
    assert stripe.v1.subscriptions.retrieve(subscription_id).metadata["folio_user_id"] == str(
        reader.id
    )
    me = client.get("/api/v1/me", headers=reader.headers).json()
    [held] = me["subscriptions"]
    assert (held["source"], held["status"], held["cancel_at_period_end"]) == (
        "stripe",
        "active",
        False,
    )
    assert held["current_period_end"] and held["tier"] == stripe_tier
    assert {e["source"] for e in me["entitlements"]} == {"stripe"}
    stripe.v1.subscriptions.update(subscription_id, params={"cancel_at_period_end": True})
    stripe_live.wait_for_webhooks()
    wait_for(
        lambda: (
            client.get("/api/v1/me", headers=reader.headers).json()["subscriptions"][0][
                "cancel_at_period_end"
            ]
            is True
        )
    )
    assert _read(client, reader) == "full"  # still paid until the period ends
    portal = client.post("/api/v1/billing/portal", headers=reader.headers)
    assert portal.status_code == 200 and portal.json()["url"].startswith(stripe_live.base_url)
    stripe.v1.subscriptions.cancel(subscription_id)
    stripe_live.wait_for_webhooks()
    wait_for(lambda: _read(client, reader) == "preview")


def test_a_second_checkout_reuses_the_stripe_customer(client, reader, stripe_live, stripe_tier):
    urls = [
        client.post(
            "/api/v1/billing/checkout",
            headers=reader.headers,
            json={"tier": stripe_tier, "interval": "month"},
        ).json()["url"]
        for _ in range(2)
    ]
    customers = {
        stripe_live.client("sk_test_folio")
        .v1.checkout.sessions.retrieve(u.rsplit("/", 1)[1])
        .customer
        for u in urls
    }
    assert len(customers) == 1


def test_unknown_interval_price_is_a_4xx(client, reader, stripe_live, stripe_tier):
    response = client.post(
        "/api/v1/billing/checkout",
        headers=reader.headers,
        json={"tier": stripe_tier, "interval": "year"},
    )
    assert response.status_code == 422
    missing = client.post(
        "/api/v1/billing/checkout",
        headers=reader.headers,
        json={"tier": "no-such-tier", "interval": "month"},
    )
    assert missing.status_code == 404


def _held_stamp(subscription_id: str) -> int:
    with session_scope(write=False) as session:
        return session.execute(
            select(Subscription.stripe_event_created).where(
                Subscription.stripe_subscription_id == subscription_id
            )
        ).scalar_one()


def _after_the_second_of(stamp: int) -> None:
    """A listing fetched in the second of the state held may predate it, so stripe-sync
    leaves that state alone; a sync meant to repair it runs in a later second."""
    while int(time.time()) <= stamp:
        time.sleep(0.02)


def test_stripe_sync_repairs_a_missed_webhook(client, reader, publish, stripe_live, stripe_tier):
    publish(slug="subs")
    subscription_id = _subscribe(client, reader, stripe_live, stripe_tier)
    stripe_live.pause_webhooks()
    stripe_live.set_subscription_status(subscription_id, "unpaid")
    stripe_live.wait_for_webhooks()
    assert _read(client, reader) == "full"  # the webhook never came
    _after_the_second_of(_held_stamp(subscription_id))
    result = CliRunner().invoke(cli, ["stripe-sync"])
    assert result.exit_code == 0, result.output
    assert f"changed {subscription_id}: active -> unpaid" in result.output
    assert _read(client, reader) == "preview"
    again = CliRunner().invoke(cli, ["stripe-sync"])
    assert "0 changed" in again.output
    stripe_live.resume_webhooks()


def test_stripe_sync_never_overwrites_a_webhook_applied_after_its_listing_was_fetched(
    client, reader, publish, stripe_live, stripe_tier
):
    publish(slug="subs")
    subscription_id = _subscribe(client, reader, stripe_live, stripe_tier)
    _after_the_second_of(_held_stamp(subscription_id))
    # The listing (still active) is computed, then the subscription becomes unpaid and that
    # webhook is applied, and only then does the stale listing reach stripe-sync.
    stripe_live.set_status_after_next_listing(subscription_id, "unpaid")
    result = CliRunner().invoke(cli, ["stripe-sync"])
    assert result.exit_code == 0, result.output
    assert "0 changed" in result.output
    assert _read(client, reader) == "preview"
    me = client.get("/api/v1/me", headers=reader.headers).json()
    assert [s["status"] for s in me["subscriptions"]] == ["unpaid"]
    # The next sync fetches after that webhook and agrees with it.
    again = CliRunner().invoke(cli, ["stripe-sync"])
    assert again.exit_code == 0 and "0 changed" in again.output
    assert _read(client, reader) == "preview"
