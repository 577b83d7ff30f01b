"""F7: the Stripe API down (refusing) or hanging, under `folio serve`: checkout and portal
answer 503 with a message within FOLIO_STRIPE_TIMEOUT_SECONDS, nothing is stored, and
Stripe's webhooks (which never call the Stripe API) keep being applied meanwhile."""

from __future__ import annotations

import threading
import time

import httpx
from sqlalchemy import update

from app.db import session_scope
from app.models import User
from tests.support import stripe_events as se
from tests.support.app import bearer_for
from tests.support.billing_faults import billing_rows, customer_of, deliver, stripe_env
from tests.support.served import served
from tests.support.stripe_proxy import refusing_address, silent_stripe

TIMEOUT = 4.0
SLACK = 2.0  # process and scheduling overhead on a busy machine


def _checkout(base: str, headers: dict[str, str], tier: str) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = httpx.post(
        f"{base}/api/v1/billing/checkout",
        headers=headers,
        json={"tier": tier, "interval": "month"},
        timeout=60,
    )
    return response, time.monotonic() - started


def _portal(base: str, headers: dict[str, str]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = httpx.post(f"{base}/api/v1/billing/portal", headers=headers, timeout=60)
    return response, time.monotonic() - started


def _give_customer(user_id: int, customer: str) -> None:
    with session_scope() as session:
        session.execute(update(User).where(User.id == user_id).values(stripe_customer_id=customer))


def _assert_unavailable(response: httpx.Response, elapsed: float) -> None:
    assert response.status_code == 503, response.text
    assert "Stripe" in response.json()["detail"]
    assert response.headers.get("Retry-After")
    assert elapsed < TIMEOUT + SLACK, f"answered after {elapsed:.1f}s"


def test_stripe_refusing_connections_makes_checkout_and_portal_a_prompt_503_storing_nothing(
    tmp_path, make_account, catalog
):
    reader = make_account("reader@example.org")
    member = make_account("member@example.org")
    _give_customer(member.id, "cus_existing")
    before = billing_rows()
    with served(tmp_path, env=stripe_env(refusing_address(), TIMEOUT)) as server:
        _assert_unavailable(*_checkout(server.base, reader.headers, catalog.tier))
        _assert_unavailable(*_portal(server.base, member.headers))
    assert customer_of(reader.id) is None
    assert billing_rows() == before


def test_stripe_hanging_makes_checkout_a_503_within_the_timeout_while_webhooks_are_applied(
    tmp_path, make_account, catalog
):
    reader = make_account("reader@example.org")
    member = make_account("member@example.org")
    _give_customer(member.id, "cus_member")
    with (
        silent_stripe() as address,
        served(tmp_path, workers=2, env=stripe_env(address, TIMEOUT)) as server,
    ):
        headers = bearer_for(reader.id)
        answers: list[tuple[httpx.Response, float]] = []
        buying = threading.Thread(
            target=lambda: answers.append(_checkout(server.base, headers, catalog.tier))
        )
        portal_answers: list[tuple[httpx.Response, float]] = []
        opening = threading.Thread(
            target=lambda: portal_answers.append(_portal(server.base, member.headers))
        )
        buying.start()
        opening.start()
        time.sleep(0.5)  # both are now waiting on Stripe
        # Meanwhile Stripe delivers events (for both readers): each applied at once.
        slowest = 0.0
        for n, (user, customer) in enumerate([(reader.id, "cus_new"), (member.id, "cus_member")]):
            body = se.event(
                "customer.subscription.created",
                se.subscription(f"sub_outage_{n}", customer=customer, user_id=user),
            )
            started = time.monotonic()
            response = deliver(server.base, body, timeout=TIMEOUT + SLACK)
            slowest = max(slowest, time.monotonic() - started)
            assert response.status_code == 200, response.text
        assert slowest < 1.5, f"a webhook waited {slowest:.1f}s behind the checkout"
        buying.join(timeout=60)
        opening.join(timeout=60)
        _assert_unavailable(*answers[0])
        _assert_unavailable(*portal_answers[0])
    # The webhook linked the customer it named; the failed checkout stored none of its own.
    assert customer_of(reader.id) == "cus_new"
    assert customer_of(member.id) == "cus_member"
