"""Shared pieces of the billing fault tests (tests/faults): settings for `folio serve`
against a Stripe address, signed deliveries to a served app, and the rows to compare."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.config import get_settings
from app.db import session_scope
from app.models import AuditEntry, StripeEvent, Subscription, User
from tests.support.served import Served, served
from tests.support.stripe_events import WEBHOOK_SECRET, sign
from tests.support.stripe_fixtures import EmulatorHandle, sell_monthly_at_emulator
from tests.support.stripe_proxy import StripeEdge, stripe_edge

API_KEY = "sk_test_folio"
UNUSED_STRIPE = "http://127.0.0.1:9"  # for servers that only take webhooks (never call it)
TIMEOUT_SECONDS = 8.0  # FOLIO_STRIPE_TIMEOUT_SECONDS of the served app: 2.2 s an attempt


def stripe_env(api_base: str, timeout_seconds: float = TIMEOUT_SECONDS) -> dict[str, str | None]:
    """What `served(env=...)` needs to talk to Stripe at `api_base` and take its webhooks."""
    return {
        "FOLIO_STRIPE_SECRET_KEY": API_KEY,
        "FOLIO_STRIPE_API_BASE": api_base,
        "FOLIO_STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "FOLIO_STRIPE_TIMEOUT_SECONDS": str(timeout_seconds),
    }


def deliver(base: str, body: bytes, timeout: float = 30) -> httpx.Response:
    """One signed delivery of `body`, as Stripe makes it."""
    headers = {"Content-Type": "application/json", "Stripe-Signature": sign(body)}
    return httpx.post(f"{base}/webhooks/stripe", content=body, headers=headers, timeout=timeout)


@pytest.fixture
def emulator(stripe_emulator: EmulatorHandle) -> Iterator[EmulatorHandle]:
    """The module's emulator, emptied for this test."""
    stripe_emulator.reset()
    yield stripe_emulator


@pytest.fixture(scope="module")
def module_edge(stripe_emulator: EmulatorHandle) -> Iterator[StripeEdge]:
    with stripe_edge(stripe_emulator.base_url) as edge:
        yield edge


@pytest.fixture(scope="module")
def billing_server(tmp_path_factory, module_edge: StripeEdge) -> Iterator[Served]:
    """`folio serve --workers 2` talking to Stripe through the edge (started once a module:
    starting it costs seconds)."""
    env = stripe_env(module_edge.base)
    with served(tmp_path_factory.mktemp("serve"), workers=2, env=env, start_seconds=180) as s:
        for _ in range(6):  # each worker's first requests are slow: not what tests time
            httpx.post(f"{s.base}/api/v1/billing/portal", timeout=60)
            deliver(s.base, b"{}", timeout=60)
        yield s


@pytest.fixture
def edge(module_edge: StripeEdge, emulator: EmulatorHandle) -> Iterator[StripeEdge]:
    """The edge forwarding to an empty emulator, nothing recorded yet."""
    module_edge.forward()
    module_edge.clear()
    yield module_edge
    module_edge.forward()


@pytest.fixture
def sold_tier(client, admin, catalog, emulator: EmulatorHandle) -> str:
    """The catalog's tier with a monthly price that exists at the emulator."""
    sell_monthly_at_emulator(client, admin.headers, catalog.tier, emulator, API_KEY)
    get_settings.cache_clear()
    return catalog.tier


def customer_of(user_id: int) -> str | None:
    with session_scope(write=False) as session:
        return session.execute(
            select(User.stripe_customer_id).where(User.id == user_id)
        ).scalar_one()


def _rows(model: type, order: Any) -> list[dict[str, Any]]:
    with session_scope(write=False) as session:
        return [
            {k: v for k, v in row.model_dump().items()}
            for row in session.execute(select(model).order_by(order)).scalars()
        ]


def billing_rows() -> dict[str, list[dict[str, Any]]]:
    """Every row a Stripe fact can write: to compare before and after."""
    return {
        "subscriptions": _rows(Subscription, Subscription.id),
        "users": _rows(User, User.id),
        "audit": _rows(AuditEntry, AuditEntry.id),
        "stripe_events": _rows(StripeEvent, StripeEvent.id),
    }
