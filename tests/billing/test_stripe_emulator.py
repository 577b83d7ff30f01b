"""The Stripe emulator (tests/support/stripe_emulator.py) driven with the official SDK."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import httpx
import pytest
import stripe

from tests.support.stripe_fixtures import EmulatorHandle, WebhookInbox, start_stripe_emulator

SECRET = "whsec_test_folio_emulator"


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorHandle]:
    with start_stripe_emulator(webhook_delay=0.05) as handle:
        yield handle


@pytest.fixture(scope="module")
def inbox(emulator: EmulatorHandle) -> Iterator[WebhookInbox]:
    receiver = WebhookInbox(SECRET)
    emulator.register_webhook(receiver.url, SECRET)
    yield receiver
    receiver.close()


@pytest.fixture(scope="module")
def sdk(emulator: EmulatorHandle) -> stripe.StripeClient:
    return emulator.client()


@pytest.fixture(scope="module")
def price(sdk: stripe.StripeClient) -> stripe.Price:
    return sdk.v1.prices.create(
        params={
            "unit_amount": 1500,
            "currency": "eur",
            "recurring": {"interval": "month"},
            "product_data": {"name": "Folio monthly"},
            "lookup_key": "folio_monthly",
        }
    )


def _email() -> str:
    return f"reader-{uuid.uuid4().hex[:10]}@example.org"


def _subscribe(
    sdk: stripe.StripeClient, emulator: EmulatorHandle, price: stripe.Price
) -> tuple[stripe.Customer, str]:
    customer = sdk.v1.customers.create(params={"email": _email()})
    session = sdk.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "customer": customer.id,
            "line_items": [{"price": price.id, "quantity": 1}],
            "success_url": "http://folio.test/billing/success?session={CHECKOUT_SESSION_ID}",
            "cancel_url": "http://folio.test/billing/cancel",
        }
    )
    return customer, emulator.complete_checkout(session.id)["subscription"]


def _for(sub_id: str):
    return lambda event: event.data.object.id == sub_id


def test_module_level_sdk_configuration(
    emulator: EmulatorHandle, price: stripe.Price, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stripe, "api_key", "sk_test_module_level")
    monkeypatch.setattr(stripe, "api_base", emulator.base_url)
    customer = stripe.Customer.create(email=_email())
    assert customer.id.startswith("cus_")
    fetched = stripe.Price.retrieve(price.id)
    assert (fetched.object, fetched.unit_amount, fetched.currency) == ("price", 1500, "eur")
    assert fetched.recurring.interval == "month"


def test_prices(sdk: stripe.StripeClient, price: stripe.Price) -> None:
    assert price.id.startswith("price_") and price.active and price.type == "recurring"
    assert price.product.startswith("prod_")
    assert sdk.v1.prices.retrieve(price.id).unit_amount == 1500
    found = sdk.v1.prices.list(params={"lookup_keys": ["folio_monthly"]}).data
    assert [p.id for p in found] == [price.id]
    with pytest.raises(stripe.InvalidRequestError) as missing:
        sdk.v1.prices.retrieve("price_nope")
    assert missing.value.http_status == 404 and missing.value.code == "resource_missing"


def test_checkout_completion_sends_signed_events(
    sdk: stripe.StripeClient, emulator: EmulatorHandle, inbox: WebhookInbox, price: stripe.Price
) -> None:
    customer = sdk.v1.customers.create(params={"email": _email()})
    session = sdk.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "customer": customer.id,
            "line_items": [{"price": price.id, "quantity": 1}],
            "client_reference_id": "user-42",
            "subscription_data": {"metadata": {"user_id": "42"}},
            "metadata": {"user_id": "42"},
            "success_url": "http://folio.test/billing/success",
            "cancel_url": "http://folio.test/billing/cancel",
        }
    )
    assert session.id.startswith("cs_test_")
    assert session.url == f"{emulator.base_url}/checkout/{session.id}"
    assert (session.status, session.subscription, session.customer) == ("open", None, customer.id)
    assert session.client_reference_id == "user-42" and session.metadata.user_id == "42"
    assert httpx.get(session.url).status_code == 200
    assert sdk.v1.checkout.sessions.retrieve(session.id).status == "open"

    completed = emulator.complete_checkout(session.id)
    assert completed["status"] == "complete" and completed["payment_status"] == "paid"
    sub_id = completed["subscription"]
    assert sub_id.startswith("sub_")

    event = inbox.wait_for("checkout.session.completed", lambda e: e.data.object.id == session.id)
    assert event.data.object.subscription == sub_id
    assert event.data.object.client_reference_id == "user-42"
    created = inbox.wait_for("customer.subscription.created", _for(sub_id))
    sub = created.data.object
    assert sub.metadata.user_id == "42" and sub.status == "active"
    assert sub["items"].data[0].price.id == price.id
    assert sub["current_period_end"] > sub["current_period_start"]
    paid = inbox.wait_for("invoice.paid", lambda e: e.data.object.subscription == sub_id)
    assert paid.data.object.parent.subscription_details.subscription == sub_id
    assert not inbox.rejected

    payload, signature = inbox.raw[inbox.events.index(created)]
    assert signature.startswith("t=") and ",v1=" in signature
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload, signature, "whsec_wrong")

    fetched = sdk.v1.subscriptions.retrieve(sub_id)
    assert fetched.customer == customer.id and fetched.metadata.user_id == "42"
    assert fetched["items"].data[0].price.id == price.id
    finished = sdk.v1.checkout.sessions.retrieve(session.id)
    assert (finished.status, finished.subscription) == ("complete", sub_id)


def test_updates_send_subscription_updated(
    sdk: stripe.StripeClient, emulator: EmulatorHandle, inbox: WebhookInbox, price: stripe.Price
) -> None:
    _, sub_id = _subscribe(sdk, emulator, price)
    updated = sdk.v1.subscriptions.update(sub_id, params={"cancel_at_period_end": True})
    assert updated.cancel_at_period_end and updated.cancel_at == updated["current_period_end"]
    event = inbox.wait_for(
        "customer.subscription.updated",
        lambda e: _for(sub_id)(e) and e.data.object.cancel_at_period_end,
    )
    assert event.data.previous_attributes.cancel_at_period_end is False

    sdk.v1.subscriptions.update(sub_id, params={"metadata": {"plan": "gold"}})
    inbox.wait_for(
        "customer.subscription.updated",
        lambda e: _for(sub_id)(e) and e.data.object.metadata.to_dict().get("plan") == "gold",
    )
    assert sdk.v1.subscriptions.retrieve(sub_id).metadata.plan == "gold"

    emulator.set_subscription_status(sub_id, "unpaid")
    event = inbox.wait_for(
        "customer.subscription.updated",
        lambda e: _for(sub_id)(e) and e.data.object.status == "unpaid",
    )
    assert event.data.previous_attributes.status == "active"
    unpaid = sdk.v1.subscriptions.list(params={"status": "unpaid"}).data
    assert sub_id in [s.id for s in unpaid]

    canceled = sdk.v1.subscriptions.cancel(sub_id)
    assert canceled.status == "canceled"
    inbox.wait_for("customer.subscription.deleted", _for(sub_id))
    assert sub_id not in [s.id for s in sdk.v1.subscriptions.list().auto_paging_iter()]


def test_paused_webhooks_go_missing(
    sdk: stripe.StripeClient, emulator: EmulatorHandle, inbox: WebhookInbox, price: stripe.Price
) -> None:
    _, sub_id = _subscribe(sdk, emulator, price)
    inbox.wait_for("customer.subscription.created", _for(sub_id))
    emulator.pause_webhooks()
    try:
        sdk.v1.subscriptions.update(sub_id, params={"metadata": {"missed": "yes"}})
        emulator.set_subscription_status(sub_id, "past_due")
        emulator.wait_for_webhooks()
    finally:
        emulator.resume_webhooks()
    assert not [e for e in inbox.of_type("customer.subscription.updated") if _for(sub_id)(e)]
    dropped = [e for e in emulator.webhook_state()["log"] if e["result"] == "dropped"]
    assert len(dropped) >= 2

    # What a reconciliation job sees by listing:
    listed = {
        s.id: s for s in sdk.v1.subscriptions.list(params={"status": "all"}).auto_paging_iter()
    }
    assert listed[sub_id].status == "past_due" and listed[sub_id].metadata.missed == "yes"

    emulator.pause_webhooks(count=1)
    sdk.v1.subscriptions.update(sub_id, params={"metadata": {"n": "1"}})  # dropped
    sdk.v1.subscriptions.update(sub_id, params={"metadata": {"n": "2"}})  # delivered
    event = inbox.wait_for("customer.subscription.updated", _for(sub_id))
    assert event.data.object.metadata.n == "2"


def test_list_paging(
    sdk: stripe.StripeClient, emulator: EmulatorHandle, price: stripe.Price
) -> None:
    customer = sdk.v1.customers.create(params={"email": _email()})
    created = [
        sdk.v1.subscriptions.create(
            params={
                "customer": customer.id,
                "items": [{"price": price.id}],
                "default_payment_method": "pm_card_visa",
            }
        ).id
        for _ in range(5)
    ]
    sdk.v1.subscriptions.cancel(created[0])
    page = sdk.v1.subscriptions.list(params={"customer": customer.id, "status": "all", "limit": 2})
    assert len(page.data) == 2 and page.has_more
    paged = [
        s.id
        for s in sdk.v1.subscriptions.list(
            params={"customer": customer.id, "status": "all", "limit": 2}
        ).auto_paging_iter()
    ]
    assert sorted(paged) == sorted(created) and len(paged) == 5
    assert paged == list(reversed(created))  # newest first, like Stripe
    everything = [
        s.id
        for s in sdk.v1.subscriptions.list(params={"status": "all", "limit": 2}).auto_paging_iter()
    ]
    assert set(created) <= set(everything) and len(everything) == len(set(everything))
    active = [s.id for s in sdk.v1.subscriptions.list(params={"customer": customer.id}).data]
    assert sorted(active) == sorted(created[1:])


def test_idempotency_key_replays(sdk: stripe.StripeClient, emulator: EmulatorHandle) -> None:
    email, key = _email(), f"idem-{uuid.uuid4().hex}"
    first = sdk.v1.customers.create(params={"email": email}, options={"idempotency_key": key})
    again = sdk.v1.customers.create(params={"email": email}, options={"idempotency_key": key})
    assert first.id == again.id
    assert [c.id for c in sdk.v1.customers.list(params={"email": email}).data] == [first.id]
    with pytest.raises(stripe.IdempotencyError):
        sdk.v1.customers.create(params={"email": _email()}, options={"idempotency_key": key})

    headers = {"Authorization": f"Bearer {emulator.api_key}", "Idempotency-Key": key + "-raw"}
    data = {"email": _email()}
    one = httpx.post(f"{emulator.base_url}/v1/customers", data=data, headers=headers)
    two = httpx.post(f"{emulator.base_url}/v1/customers", data=data, headers=headers)
    assert one.status_code == two.status_code == 200
    assert json.loads(one.content) == json.loads(two.content)
    assert two.headers["Idempotent-Replayed"] == "true"


def test_billing_portal_session(sdk: stripe.StripeClient, emulator: EmulatorHandle) -> None:
    customer = sdk.v1.customers.create(params={"email": _email()})
    portal = sdk.v1.billing_portal.sessions.create(
        params={"customer": customer.id, "return_url": "http://folio.test/account"}
    )
    assert portal.object == "billing_portal.session" and portal.customer == customer.id
    assert portal.url.startswith(emulator.base_url + "/billing_portal/")
    assert portal.return_url == "http://folio.test/account"
    assert httpx.get(portal.url).status_code == 200
    with pytest.raises(stripe.InvalidRequestError) as missing:
        sdk.v1.billing_portal.sessions.create(params={"customer": "cus_missing"})
    assert missing.value.http_status == 404 and missing.value.code == "resource_missing"
    assert missing.value.param == "customer"
