"""F3: a `folio serve` worker killed (SIGKILL) after a webhook wrote the subscription, its
audit row and its ledger row, before the commit: none of them remains, and Stripe's
redelivery of the same event applies it whole.

The pause is app.billing.fault_points (FOLIO_TEST_PAUSE_AT, read only when FOLIO_ENV=test).
"""

from __future__ import annotations

import os
import signal
import threading
import time

import httpx
import pytest
from sqlalchemy import select

from app.billing.fault_points import pause_point
from app.db import session_scope
from app.models import AuditEntry, StripeEvent, Subscription
from tests.support import stripe_events as se
from tests.support.billing_faults import UNUSED_STRIPE, billing_rows, deliver, stripe_env
from tests.support.served import served


def _wait_for(path, seconds: float = 30) -> str:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists() and path.read_text():
            return path.read_text()
        time.sleep(0.05)
    raise AssertionError("the worker never reached the pause point")


def test_a_worker_killed_before_the_webhook_commit_leaves_nothing_and_the_redelivery_applies_it(
    tmp_path, make_account, catalog
):
    reader = make_account("reader@example.org")
    marker = tmp_path / "paused-worker"
    env = stripe_env(UNUSED_STRIPE) | {
        "FOLIO_TEST_PAUSE_AT": "webhook.before_commit",
        "FOLIO_TEST_PAUSE_MARKER": str(marker),
    }
    body = se.event(
        "customer.subscription.created",
        se.subscription("sub_crash", customer="cus_crash", user_id=reader.id),
    )
    before = billing_rows()
    with served(tmp_path, workers=2, env=env, start_seconds=180) as server:
        outcome: list[object] = []

        def first_delivery() -> None:
            try:
                outcome.append(deliver(server.base, body, timeout=90))
            except httpx.HTTPError as exc:  # the worker died under it
                outcome.append(exc)

        sending = threading.Thread(target=first_delivery)
        sending.start()
        worker = int(_wait_for(marker))
        assert worker != server.process.pid  # a worker, not the supervisor
        os.kill(worker, signal.SIGKILL)
        sending.join(timeout=30)
        # Stripe saw no 2xx (the connection broke, or 5xx), so it will deliver again.
        [first] = outcome
        assert isinstance(first, httpx.HTTPError) or first.status_code >= 500
        assert billing_rows() == before  # no half state: not one of the rows

        again = deliver(server.base, body)
        assert again.status_code == 200, again.text
        assert again.json()["outcome"].startswith("applied")
    with session_scope(write=False) as session:
        [sub] = session.execute(select(Subscription)).scalars().all()
        [ledger] = session.execute(select(StripeEvent)).scalars().all()
        audit = session.execute(select(AuditEntry)).scalars().all()
    assert (sub.stripe_subscription_id, sub.status, sub.user_id) == (
        "sub_crash",
        "active",
        reader.id,
    )
    assert ledger.processed_at is not None and ledger.outcome.startswith("applied")
    grants = [(a.action, a.target) for a in audit if a.action.startswith("access.")]
    assert grants == [("access.grant", f"user:{reader.id}")]


@pytest.mark.parametrize("env", ["production", "dev"])
def test_the_pause_point_is_inert_outside_tests(monkeypatch, tmp_path, env):
    monkeypatch.setenv("FOLIO_ENV", env)
    monkeypatch.setenv("FOLIO_TEST_PAUSE_AT", "webhook.before_commit")
    monkeypatch.setenv("FOLIO_TEST_PAUSE_MARKER", str(tmp_path / "marker"))
    started = time.monotonic()
    pause_point("webhook.before_commit")
    assert time.monotonic() - started < 0.1
    assert not (tmp_path / "marker").exists()
