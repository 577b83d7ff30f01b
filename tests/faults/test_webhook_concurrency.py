"""F2: Stripe delivers 50 different events for one new subscription all at once, to
`folio serve --workers 4` (2 on SQLite, whose writers queue on one lock): every delivery
is answered 2xx, one subscription row results, and it holds the state of the newest event
by the ordering rule (app/billing/ordering.py), whatever order the workers applied them in.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from app.config import get_settings
from app.db import session_scope
from app.models import AuditEntry, StripeEvent, Subscription, User
from tests.support import stripe_events as se
from tests.support.billing_faults import UNUSED_STRIPE, deliver, stripe_env
from tests.support.served import served

DAY = 86400
STATUSES = ("active", "past_due", "active", "trialing", "unpaid", "active", "past_due")


def _events(user_id: int, base: int) -> tuple[list[bytes], dict]:
    """50 events of one subscription's life, with ties of a second among the older ones;
    and the state of the newest (a subscription update, alone in its second)."""
    sub, customer = "sub_burst", "cus_burst"

    def update(n: int, created: int, **fields) -> bytes:  # type: ignore[no-untyped-def]
        obj = se.subscription(sub, customer=customer, user_id=user_id, **fields)
        return se.event("customer.subscription.updated", obj, created=created)

    bodies = [
        se.event(
            "customer.subscription.created",
            se.subscription(sub, customer=customer, user_id=user_id, status="incomplete"),
            created=base,
        ),
        se.event(
            "checkout.session.completed",
            se.checkout_session(user_id, customer=customer, sub_id=sub),
            created=base,
        ),
    ]
    for n in range(40):  # two events in most seconds: either may be applied last
        bodies.append(
            update(
                n,
                base + 1 + n // 2,
                status=STATUSES[n % len(STATUSES)],
                period_end=base + 30 * DAY + n * 60,
                cancel_at_period_end=n % 3 == 0,
            )
        )
    for n in range(5):  # paid invoices, older than the newest update
        invoice = se.invoice(sub, customer=customer, period_end=base + 30 * DAY + n * 600)
        invoice["id"] = f"in_burst_{n}"
        bodies.append(se.event("invoice.paid", invoice, created=base + 4 * n + 1))
    for n in range(2):
        invoice = se.invoice(sub, customer=customer)
        invoice["id"] = f"in_failed_{n}"
        bodies.append(se.event("invoice.payment_failed", invoice, created=base + 5 + n))
    newest_end = base + 60 * DAY
    bodies.append(
        update(
            99,
            base + 100,
            status="past_due",
            period_end=newest_end,
            cancel_at_period_end=True,
            price="price_threat_year",
        )
    )
    expected = {
        "status": "past_due",
        "current_period_end": newest_end,
        "cancel_at_period_end": True,
        "stripe_price_id": "price_threat_year",
        "stripe_customer_id": customer,
        "user_id": user_id,
        "stripe_event_created": base + 100,
    }
    return bodies, expected


def test_fifty_concurrent_webhooks_for_one_new_subscription_leave_one_row_in_the_newest_state(
    tmp_path, make_account, catalog
):
    reader = make_account("reader@example.org")
    workers = 2 if get_settings().is_sqlite else 4
    bodies, expected = _events(reader.id, int(time.time()) - 3600)
    assert len(bodies) == 50
    env = stripe_env(UNUSED_STRIPE)
    with (
        served(tmp_path, workers=workers, env=env, start_seconds=180) as server,
        ThreadPoolExecutor(max_workers=len(bodies)) as pool,
    ):
        answers = list(pool.map(lambda body: deliver(server.base, body, timeout=60), bodies))
    statuses = [a.status_code for a in answers]
    assert statuses == [200] * len(bodies), [a.text for a in answers if a.status_code != 200]
    with session_scope(write=False) as session:
        [sub] = session.execute(select(Subscription)).scalars().all()
        ledger = session.execute(select(StripeEvent)).scalars().all()
        audit = (
            session.execute(
                select(AuditEntry.action)
                .where(AuditEntry.target == f"user:{reader.id}")
                .order_by(AuditEntry.id)
            )
            .scalars()
            .all()
        )
        user = session.get(User, reader.id)
    held = {
        "status": sub.status,
        "current_period_end": int(sub.current_period_end.timestamp()),
        "cancel_at_period_end": sub.cancel_at_period_end,
        "stripe_price_id": sub.stripe_price_id,
        "stripe_customer_id": sub.stripe_customer_id,
        "user_id": sub.user_id,
        "stripe_event_created": sub.stripe_event_created,
    }
    assert held == expected
    assert user.stripe_customer_id == "cus_burst"
    assert len(ledger) == 50 and all(e.processed_at is not None for e in ledger)
    assert not [e.outcome for e in ledger if not e.outcome or e.outcome.startswith("failed")]
    # Grants and revokes alternate, ending on the newest state (past_due still grants).
    assert audit and audit[-1] == "access.grant"
    assert all(a != b for a, b in zip(audit, audit[1:], strict=False)), audit
