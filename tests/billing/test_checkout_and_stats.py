"""Checkout and portal without Stripe configured, and MRR from active subscriptions."""

from __future__ import annotations

import time

from tests.support import stripe_events as se


def test_checkout_and_portal_answer_503_without_stripe(client, reader, catalog):
    checkout = client.post(
        "/api/v1/billing/checkout",
        headers=reader.headers,
        json={"tier": catalog.tier, "interval": "month"},
    )
    assert checkout.status_code == 503 and "not configured" in checkout.json()["detail"]
    portal = client.post("/api/v1/billing/portal", headers=reader.headers)
    assert portal.status_code == 503
    assert client.get("/api/v1/reports").status_code == 200  # nothing else breaks


def test_checkout_needs_a_login_and_a_valid_interval(client, reader, catalog):
    body = {"tier": catalog.tier, "interval": "month"}
    assert client.post("/api/v1/billing/checkout", json=body).status_code == 401
    bad = client.post(
        "/api/v1/billing/checkout",
        headers=reader.headers,
        json={"tier": catalog.tier, "interval": "week"},
    )
    assert bad.status_code == 422


def test_mrr_counts_yearly_prices_as_a_twelfth(client, deliver, admin, make_account, catalog):
    now = int(time.time())
    for n, price in enumerate(["price_threat_month", "price_threat_year", "price_threat_month"]):
        user = make_account(f"payer{n}@example.org")
        status = "canceled" if n == 2 else "active"
        deliver(
            se.event(
                "customer.subscription.created",
                se.subscription(
                    f"sub_{n}", customer=f"cus_{n}", price=price, user_id=user.id, status=status
                ),
                created=now,
            )
        )
    stats = client.get("/api/v1/admin/stats", headers=admin.headers).json()
    assert stats["mrr"] == {"usd": 2900 + round(29000 / 12)}
    assert stats["members"]["paid"] == 2
    assert (
        client.get("/api/v1/admin/stats", headers=make_account("x@example.org").headers).status_code
        == 403
    )
