"""F7: the Stripe API down (its port refuses) or hanging (accepts, never answers), under
`folio serve --workers 2`: checkout and portal answer 503 with a message within
FOLIO_STRIPE_TIMEOUT_SECONDS, nothing is stored, and Stripe's webhooks (which never call
the Stripe API) keep being applied meanwhile; Stripe back -> checkout works again."""

from __future__ import annotations

import threading
import time

import httpx
from sqlalchemy import update

from app.db import session_scope
from app.models import User
from tests.support import stripe_events as se
from tests.support.billing_faults import (
    TIMEOUT_SECONDS,
    billing_rows,
    customer_of,
    deliver,
)

SLACK = 4.0  # process and scheduling overhead on a busy machine (the SDK's default: 240 s)


def _timed(call, *args, **kwargs) -> tuple[httpx.Response, float]:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    response = call(*args, timeout=60, **kwargs)
    return response, time.monotonic() - started


def _checkout(base: str, headers: dict[str, str], tier: str) -> tuple[httpx.Response, float]:
    body = {"tier": tier, "interval": "month"}
    return _timed(httpx.post, f"{base}/api/v1/billing/checkout", headers=headers, json=body)


def _portal(base: str, headers: dict[str, str]) -> tuple[httpx.Response, float]:
    return _timed(httpx.post, f"{base}/api/v1/billing/portal", headers=headers)


def _give_customer(user_id: int, customer: str) -> None:
    with session_scope() as session:
        session.execute(update(User).where(User.id == user_id).values(stripe_customer_id=customer))


def _assert_unavailable(response: httpx.Response, elapsed: float) -> None:
    assert response.status_code == 503, response.text
    assert "Stripe" in response.json()["detail"]
    assert response.headers.get("Retry-After")
    assert elapsed < TIMEOUT_SECONDS + SLACK, f"answered after {elapsed:.1f}s"


def test_stripe_down_makes_checkout_and_portal_a_prompt_503_that_stores_nothing(
    billing_server, edge, make_account, sold_tier
):
    reader = make_account("reader@example.org")
    member = make_account("member@example.org")
    _give_customer(member.id, "cus_existing")
    before = billing_rows()
    edge.down()
    _assert_unavailable(*_checkout(billing_server.base, reader.headers, sold_tier))
    _assert_unavailable(*_portal(billing_server.base, member.headers))
    assert billing_rows() == before
    edge.forward()  # Stripe is back: the same request now succeeds
    response, _ = _checkout(billing_server.base, reader.headers, sold_tier)
    assert response.status_code == 200, response.text
    assert customer_of(reader.id) is not None


def test_stripe_hanging_makes_checkout_and_portal_a_503_within_the_timeout_while_webhooks_apply(
    billing_server, edge, make_account, sold_tier
):
    reader = make_account("reader@example.org")
    member = make_account("member@example.org")
    _give_customer(member.id, "cus_member")
    edge.hang()
    answers: dict[str, tuple[httpx.Response, float]] = {}
    calls = {
        "checkout": lambda: _checkout(billing_server.base, reader.headers, sold_tier),
        "portal": lambda: _portal(billing_server.base, member.headers),
    }
    threads = [
        threading.Thread(target=lambda n=name, c=call: answers.__setitem__(n, c()))
        for name, call in calls.items()
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 10
    while len(edge.requests) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)  # until both are waiting on Stripe
    assert len(edge.requests) >= 2, "the checkout and the portal never reached Stripe"
    # Meanwhile Stripe delivers events for both readers: each is applied at once.
    slowest = 0.0
    for n, (user, customer) in enumerate([(reader.id, "cus_new"), (member.id, "cus_member")]):
        body = se.event(
            "customer.subscription.created",
            se.subscription(f"sub_outage_{n}", customer=customer, user_id=user),
        )
        started = time.monotonic()
        response = deliver(billing_server.base, body, timeout=TIMEOUT_SECONDS + SLACK)
        slowest = max(slowest, time.monotonic() - started)
        assert response.status_code == 200, response.text
    assert slowest < 1.5, f"a webhook waited {slowest:.1f}s behind a call to Stripe"
    for thread in threads:
        thread.join(timeout=60)
    _assert_unavailable(*answers["checkout"])
    _assert_unavailable(*answers["portal"])
    # The webhook linked the customer it named; the failed checkout stored none of its own.
    assert customer_of(reader.id) == "cus_new"
    assert customer_of(member.id) == "cus_member"
