"""F6 and F4 at checkout, under `folio serve --workers 2` with the Stripe emulator behind a
recording edge: concurrent checkouts make one Stripe customer, every create carries an
idempotency key that a retry reuses, and a slow Stripe holds no database lock."""

from __future__ import annotations

import threading
import time
from collections import defaultdict

import httpx

from tests.support import stripe_events as se
from tests.support.billing_faults import (
    API_KEY,
    customer_of,
    deliver,
)

CREATES = ("/v1/customers", "/v1/checkout/sessions", "/v1/billing_portal/sessions")


def _checkout(base: str, headers: dict[str, str], tier: str) -> httpx.Response:
    return httpx.post(
        f"{base}/api/v1/billing/checkout",
        headers=headers,
        json={"tier": tier, "interval": "month"},
        timeout=60,
    )


def _all_at_once(calls: list) -> list:  # type: ignore[type-arg]
    """Runs the calls in threads released together; their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        results[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _customers_by_user(emulator) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    owners: dict[str, list[str]] = defaultdict(list)
    for customer in emulator.client(API_KEY).v1.customers.list(params={"limit": 100}).data:
        owners[customer.metadata.to_dict().get("folio_user_id")].append(customer.id)
    return owners


def test_concurrent_checkouts_without_a_customer_make_one_stripe_customer_and_store_its_id(
    billing_server, edge, emulator, make_account, sold_tier
):
    readers = [make_account(f"reader{n}@example.org") for n in range(3)]
    # Held a little at the edge, so both requests of a reader are in flight together.
    edge.forward(delay=0.3)
    calls = [
        (lambda r=reader: _checkout(billing_server.base, r.headers, sold_tier))
        for reader in readers
        for _ in range(2)
    ]
    responses = _all_at_once(calls)
    assert [r.status_code for r in responses] == [200] * len(calls), [r.text for r in responses]
    owners = _customers_by_user(emulator)
    for reader in readers:
        [customer] = owners[str(reader.id)]  # one customer at Stripe ...
        assert customer_of(reader.id) == customer  # ... and it is the one stored
    creates = [r for r in edge.requests if r.method == "POST" and r.path in CREATES]
    assert creates and all(r.idempotency_key for r in creates)
    keys_by_reader = defaultdict(set)
    for request in edge.posts("/v1/customers"):
        keys_by_reader[request.idempotency_key.split(":")[1]].add(request.idempotency_key)
    assert {user: len(keys) for user, keys in keys_by_reader.items()} == {
        str(reader.id): 1 for reader in readers
    }


def test_a_stripe_create_whose_answer_was_lost_is_retried_with_the_same_key_and_makes_one_customer(
    billing_server, edge, emulator, make_account, sold_tier
):
    reader = make_account("reader@example.org")
    # The call reaches Stripe, which creates the customer; the answer never comes back.
    edge.forward(drop_first={"/v1/customers", "/v1/checkout/sessions"})
    response = _checkout(billing_server.base, reader.headers, sold_tier)
    assert response.status_code == 200, response.text
    for path in ("/v1/customers", "/v1/checkout/sessions"):
        lost, retried = edge.posts(path)
        assert lost.status is None and retried.status == 200
        assert lost.idempotency_key and retried.idempotency_key == lost.idempotency_key
    [customer] = _customers_by_user(emulator)[str(reader.id)]
    assert customer_of(reader.id) == customer


def test_a_checkout_waiting_on_a_slow_stripe_holds_up_no_webhook(
    billing_server, edge, emulator, make_account, sold_tier
):
    reader = make_account("reader@example.org")
    elsewhere = emulator.client(API_KEY).v1.customers.create(params={"email": reader.email})
    for n in range(4):  # every worker has served a webhook before (a first one is slower)
        warm = se.event("customer.subscription.created", se.subscription(f"sub_warm_{n}"))
        assert deliver(billing_server.base, warm).status_code == 200
    edge.forward(delay=1.5)  # each of checkout's two Stripe calls takes 1.5 s
    answer: list[httpx.Response] = []
    buying = threading.Thread(
        target=lambda: answer.append(_checkout(billing_server.base, reader.headers, sold_tier))
    )
    buying.start()
    waits = []
    n = 0
    while buying.is_alive():
        # Stripe's events for the same reader, which lock the same user row.
        body = se.event(
            "customer.subscription.updated",
            se.subscription("sub_slow", customer=elsewhere.id, user_id=reader.id),
            created=int(time.time()) + n,
        )
        started = time.monotonic()
        response = deliver(billing_server.base, body, timeout=30)
        waits.append(time.monotonic() - started)
        assert response.status_code == 200, response.text
        n += 1
        time.sleep(0.2)
    buying.join()
    assert answer[0].status_code == 200, answer[0].text
    assert len(waits) >= 3 and max(waits) < 1.0, [round(w, 2) for w in waits]
