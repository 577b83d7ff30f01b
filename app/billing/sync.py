"""`folio stripe-sync` (R-B6): every subscription from the Stripe API reconciled with ours."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import select

from app.billing.ordering import Source
from app.billing.stripe_api import stripe_call, stripe_client
from app.billing.stripe_objects import subscription_state
from app.billing.subscriptions import apply_subscription_state
from app.config import Settings
from app.db import session_scope
from app.models import Subscription


@dataclass
class SyncReport:
    seen: int = 0
    changed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def _snapshot(stripe_subscription_id: str) -> tuple | None:
    with session_scope(write=False) as session:
        row = session.execute(
            select(Subscription).where(
                Subscription.stripe_subscription_id == stripe_subscription_id
            )
        ).scalar_one_or_none()
        if row is None:
            return None
        return (
            row.status,
            row.current_period_end,
            row.cancel_at_period_end,
            row.tier_id,
            row.user_id,
        )


def _pages(client, page_size: int) -> Iterator[tuple[int, list[dict]]]:  # type: ignore[no-untyped-def]
    """Each page of subscriptions with the second taken just before it was requested."""
    params: dict = {"status": "all", "limit": page_size}
    while True:
        asked_at = int(time.time())
        page = stripe_call(client.v1.subscriptions.list, params=params)
        data = [subscription.to_dict() for subscription in page.data]
        yield asked_at, data
        if not page.has_more or not data:
            return
        params = {**params, "starting_after": data[-1]["id"]}


def sync_subscriptions(settings: Settings, page_size: int = 100) -> SyncReport:
    """Each subscription in its own transaction, stamped with the second taken before its
    page was fetched: what the listing says is no newer than that, so a webhook applied
    meanwhile (of that second or later) is never overwritten by it (`ordering.verdict`)."""
    client = stripe_client(settings)
    report = SyncReport()
    for asked_at, subscriptions in _pages(client, page_size):
        for raw in subscriptions:
            report.seen += 1
            try:
                state = subscription_state(raw)
                before = _snapshot(state.subscription_id)
                with session_scope(write=True) as session:
                    outcome = apply_subscription_state(
                        session, state, asked_at, "system:stripe-sync", Source.SYNC
                    )
                after = _snapshot(state.subscription_id)
            except Exception as exc:  # noqa: BLE001  (one bad subscription must not stop the rest)
                report.failed.append(f"{raw.get('id')}: {exc}")
                continue
            if before != after:
                report.changed.append(
                    f"{state.subscription_id}: {before and before[0]} -> "
                    f"{after and after[0]} ({outcome})"
                )
    return report
