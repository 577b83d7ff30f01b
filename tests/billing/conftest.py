"""Billing fixtures: a configured webhook secret and a way to deliver signed events."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from sqlalchemy import func, select

from app.config import get_settings
from app.db import session_scope
from app.models import AuditEntry, StripeEvent, Subscription
from tests.support.stripe_events import WEBHOOK_SECRET, sign


@pytest.fixture(autouse=True)
def webhook_secret(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("FOLIO_STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
    get_settings.cache_clear()
    yield WEBHOOK_SECRET
    get_settings.cache_clear()


@pytest.fixture
def deliver(client) -> Callable[..., httpx.Response]:
    """POSTs the exact bytes with Stripe's signature, as Stripe does."""

    def send(body: bytes, signature: str | None = None) -> httpx.Response:
        headers = {
            "Content-Type": "application/json",
            "Stripe-Signature": signature if signature is not None else sign(body),
        }
        return client.post("/webhooks/stripe", content=body, headers=headers)

    return send


def count(model: type) -> int:
    with session_scope(write=False) as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def ledger_counts() -> tuple[int, int, int]:
    return count(StripeEvent), count(Subscription), count(AuditEntry)


from tests.support.stripe_fixtures import stripe_emulator  # noqa: E402,F401  (fixture)
