"""Stripe webhooks (R-B1…R-B5): signed, idempotent, ordered by the subscription's own state."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select, text

from app.db import get_engine, session_scope
from app.models import AuditEntry, StripeEvent, Subscription, User
from tests.billing.conftest import count, ledger_counts
from tests.support import stripe_events as se


@pytest.fixture
def subscribed_report(publish):
    return publish(slug="subs", body="Lead.\n\n<!-- paywall -->\n\nPaidword.")


def access(client, reader) -> str:
    return client.get("/api/v1/reports/subs", headers=reader.headers).json()["access"]


def _subscription_event(reader, type_="customer.subscription.created", created=None, **kw):
    return se.event(type_, se.subscription(user_id=reader.id, **kw), created=created)


# R-B1 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "signature",
    ["", "t=1,v1=deadbeef", "nonsense", "stale", "future", "other-secret", "v0-only"],
)
def test_bad_signatures_are_400_and_store_nothing(deliver, reader, catalog, signature):
    body = _subscription_event(reader)
    signature = {
        "stale": se.sign(body, timestamp=int(time.time()) - 301),
        "future": se.sign(body, timestamp=int(time.time()) + 3600),
        "other-secret": se.sign(body, secret="whsec_someone_else"),
        "v0-only": se.sign(body).replace("v1=", "v0="),
    }.get(signature, signature)
    before = ledger_counts()
    response = deliver(body, signature)
    assert response.status_code == 400 and response.json()["detail"]
    assert ledger_counts() == before


def test_altered_body_is_400(deliver, reader, catalog):
    body = _subscription_event(reader)
    tampered = body.replace(b'"active"', b'"trialing"')
    before = ledger_counts()
    assert deliver(tampered, se.sign(body)).status_code == 400
    assert ledger_counts() == before


def test_missing_signature_header_is_400(client, reader, catalog):
    before = ledger_counts()
    response = client.post("/webhooks/stripe", content=_subscription_event(reader))
    assert response.status_code == 400
    assert ledger_counts() == before


def test_unconfigured_webhook_secret_is_503(client, deliver, monkeypatch, reader, catalog):
    from app.config import get_settings

    monkeypatch.delenv("FOLIO_STRIPE_WEBHOOK_SECRET")
    get_settings.cache_clear()
    before = ledger_counts()
    assert deliver(_subscription_event(reader)).status_code == 503
    assert ledger_counts() == before


def test_either_secret_works_during_a_roll(deliver, monkeypatch, reader, catalog):
    from app.config import get_settings

    monkeypatch.setenv("FOLIO_STRIPE_WEBHOOK_SECRET", f"whsec_old_one,{se.WEBHOOK_SECRET}")
    get_settings.cache_clear()
    body = _subscription_event(reader)
    assert deliver(body, se.sign(body, secret="whsec_old_one")).status_code == 200


# Granting and R-B2 ---------------------------------------------------------------------


def test_subscription_created_grants_on_the_next_request(
    client, deliver, reader, subscribed_report
):
    assert access(client, reader) == "preview"
    response = deliver(_subscription_event(reader))
    assert response.status_code == 200, response.text
    assert access(client, reader) == "full"
    with session_scope(write=False) as session:
        audit = session.execute(
            select(AuditEntry).where(AuditEntry.action == "access.grant")
        ).scalar_one()
        assert audit.actor.startswith("stripe:evt_") and audit.target == f"user:{reader.id}"
        assert session.get(User, reader.id).stripe_customer_id == "cus_123"


def test_redelivered_event_changes_nothing(deliver, reader, subscribed_report):
    body = _subscription_event(reader)
    assert deliver(body).json()["duplicate"] is False
    before = ledger_counts()
    again = deliver(body)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert ledger_counts() == before


def test_ten_concurrent_deliveries_leave_one_row_and_one_effect(deliver, reader, subscribed_report):
    body = _subscription_event(reader)
    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(lambda _: deliver(body), range(10)))
    assert [r.status_code for r in responses] == [200] * 10
    assert sum(not r.json()["duplicate"] for r in responses) == 1
    assert count(StripeEvent) == 1 and count(Subscription) == 1
    with session_scope(write=False) as session:
        grants = (
            session.execute(select(AuditEntry).where(AuditEntry.action == "access.grant"))
            .scalars()
            .all()
        )
    assert len(grants) == 1


# R-B3 ----------------------------------------------------------------------------------


def test_older_update_after_newer_cancel_leaves_access_revoked(
    client, deliver, reader, subscribed_report
):
    now = int(time.time())
    deliver(_subscription_event(reader, created=now - 100))
    deliver(
        _subscription_event(reader, "customer.subscription.deleted", created=now, status="canceled")
    )
    late = deliver(
        _subscription_event(
            reader, "customer.subscription.updated", created=now - 50, status="active"
        )
    )
    assert late.status_code == 200 and late.json()["outcome"].startswith("ignored")
    assert access(client, reader) == "preview"


def test_canceled_is_final_even_for_a_newer_event(client, deliver, reader, subscribed_report):
    now = int(time.time())
    deliver(
        _subscription_event(reader, "customer.subscription.deleted", created=now, status="canceled")
    )
    deliver(_subscription_event(reader, "customer.subscription.updated", created=now + 5))
    assert access(client, reader) == "preview"


def test_deleted_revokes_on_the_next_request(client, deliver, reader, subscribed_report):
    now = int(time.time())
    deliver(_subscription_event(reader, created=now - 10))
    assert access(client, reader) == "full"
    deliver(
        _subscription_event(reader, "customer.subscription.deleted", created=now, status="canceled")
    )
    assert access(client, reader) == "preview"
    with session_scope(write=False) as session:
        assert (
            session.execute(select(AuditEntry).where(AuditEntry.action == "access.revoke"))
            .scalar_one()
            .actor.startswith("stripe:")
        )


@pytest.mark.parametrize(
    ("status", "keeps"),
    [("past_due", True), ("unpaid", False), ("paused", False), ("trialing", True)],
)
def test_status_changes(client, deliver, reader, subscribed_report, status, keeps):
    now = int(time.time())
    deliver(_subscription_event(reader, created=now - 10))
    deliver(
        _subscription_event(reader, "customer.subscription.updated", created=now, status=status)
    )
    assert access(client, reader) == ("full" if keeps else "preview")


def test_period_end_in_the_past_grants_nothing(client, deliver, reader, subscribed_report):
    deliver(_subscription_event(reader, period_end=int(time.time()) - 60))
    assert access(client, reader) == "preview"


def test_new_api_shape_period_on_the_item(client, deliver, reader, subscribed_report):
    deliver(_subscription_event(reader, new_shape=True))
    assert access(client, reader) == "full"


# Order of arrival and matching ---------------------------------------------------------


@pytest.mark.parametrize("new_shape", [True, False], ids=["parent", "top-level"])
def test_invoice_paid_before_anything_else_still_ends_entitled(
    client, deliver, reader, subscribed_report, new_shape
):
    invoice = se.invoice(user_id=reader.id, new_shape=new_shape)
    assert deliver(se.event("invoice.paid", invoice)).status_code == 200
    assert access(client, reader) == "full"


def test_subscription_before_checkout_completed_is_matched_by_customer_later(
    client, deliver, reader, subscribed_report
):
    now = int(time.time())
    orphan = se.event(
        "customer.subscription.created",
        se.subscription(customer="cus_new", sub_id="sub_new"),
        created=now - 5,
    )
    assert "unknown customer" in deliver(orphan).json()["outcome"]
    assert access(client, reader) == "preview"
    completed = se.checkout_session(reader.id, customer="cus_new", sub_id="sub_new")
    deliver(se.event("checkout.session.completed", completed, created=now))
    assert access(client, reader) == "full"


def test_checkout_completed_alone_grants_nothing(client, deliver, reader, subscribed_report):
    deliver(se.event("checkout.session.completed", se.checkout_session(reader.id)))
    assert access(client, reader) == "preview"
    with session_scope(write=False) as session:
        assert session.get(User, reader.id).stripe_customer_id == "cus_123"


def test_unknown_price_customer_and_type_are_recorded_and_200(
    client, deliver, reader, subscribed_report
):
    unknown_price = deliver(_subscription_event(reader, price="price_nobody_sells"))
    assert unknown_price.status_code == 200
    assert "unknown price" in unknown_price.json()["outcome"]
    assert access(client, reader) == "preview"  # an active subscription to nothing we sell
    stranger = deliver(
        se.event("customer.subscription.created", se.subscription(sub_id="sub_x", customer="cus_x"))
    )
    assert "unknown customer" in stranger.json()["outcome"]
    other = deliver(se.event("customer.created", {"id": "cus_z", "object": "customer"}))
    assert other.status_code == 200 and other.json()["outcome"] == "ignored: type"
    with session_scope(write=False) as session:
        outcomes = session.execute(select(StripeEvent.outcome)).scalars().all()
    assert len(outcomes) == 3 and all(outcomes)


def test_payment_failed_is_recorded_and_status_follows_the_subscription(
    client, deliver, reader, subscribed_report
):
    deliver(_subscription_event(reader))
    failed = deliver(se.event("invoice.payment_failed", se.invoice(user_id=reader.id)))
    assert failed.status_code == 200 and failed.json()["outcome"].startswith("recorded")
    assert access(client, reader) == "full"


# R-B5 ----------------------------------------------------------------------------------


def _fail_audit_writes(on: bool) -> None:
    """A real failure inside the database, mid-event (after the subscription row is written)."""
    with get_engine().begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.execute(
                text(
                    "CREATE TRIGGER fail_audit BEFORE INSERT ON audit_entries "
                    "BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
                )
                if on
                else text("DROP TRIGGER fail_audit")
            )
        elif on:
            connection.execute(
                text(
                    "CREATE FUNCTION fail_audit() RETURNS trigger AS $$ BEGIN "
                    "RAISE EXCEPTION 'injected failure'; END $$ LANGUAGE plpgsql"
                )
            )
            connection.execute(
                text(
                    "CREATE TRIGGER fail_audit BEFORE INSERT ON audit_entries "
                    "FOR EACH ROW EXECUTE FUNCTION fail_audit()"
                )
            )
        else:
            connection.execute(text("DROP TRIGGER fail_audit ON audit_entries"))
            connection.execute(text("DROP FUNCTION fail_audit()"))


def test_failure_mid_event_is_500_rolls_back_and_redelivery_succeeds(
    client, deliver, reader, subscribed_report
):
    body = _subscription_event(reader)
    audits = count(AuditEntry)
    _fail_audit_writes(True)
    try:
        failed = deliver(body)
    finally:
        _fail_audit_writes(False)
    assert failed.status_code == 500
    assert count(Subscription) == 0 and count(AuditEntry) == audits
    with session_scope(write=False) as session:
        ledger = session.execute(select(StripeEvent)).scalar_one()
        assert ledger.processed_at is None and "injected failure" in ledger.outcome
    assert access(client, reader) == "preview"
    retried = deliver(body)
    assert retried.status_code == 200 and retried.json()["duplicate"] is False
    assert access(client, reader) == "full"


def test_two_events_for_one_subscription_concurrently_end_in_the_newer_state(
    client, deliver, reader, subscribed_report
):
    now = int(time.time())
    for round_ in range(5):
        sub_id = f"sub_race_{round_}"
        newer = se.event(
            "customer.subscription.updated",
            se.subscription(sub_id, user_id=reader.id, status="unpaid"),
            created=now,
        )
        older = se.event(
            "customer.subscription.created",
            se.subscription(sub_id, user_id=reader.id, status="active"),
            created=now - 30,
        )
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(deliver, [older, newer] if round_ % 2 else [newer, older]))
        assert all(r.status_code == 200 for r in results)
        with session_scope(write=False) as session:
            row = session.execute(
                select(Subscription).where(Subscription.stripe_subscription_id == sub_id)
            ).scalar_one()
            assert (row.status, row.stripe_event_created) == ("unpaid", now)


def test_malformed_but_signed_event_is_400(deliver):
    body = json.dumps({"id": "evt_1", "type": "x"}).encode()
    assert deliver(body).status_code == 400


def test_concurrent_events_for_one_user_neither_deadlock_nor_relink_the_customer(
    deliver, reader, subscribed_report
):
    bodies = [
        se.event(
            "customer.subscription.created",
            se.subscription(f"sub_many_{n}", customer=f"cus_many_{n}", user_id=reader.id),
        )
        for n in range(24)
    ]
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(deliver, bodies))
    assert [r.status_code for r in responses] == [200] * 24
    with session_scope(write=False) as session:
        linked = session.get(User, reader.id).stripe_customer_id
        first_linked = session.execute(
            select(Subscription.stripe_customer_id).where(Subscription.stripe_customer_id == linked)
        ).scalar_one()
    assert linked == first_linked and count(Subscription) == 24
