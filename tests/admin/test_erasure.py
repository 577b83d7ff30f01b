"""Erasing a member: personal data replaced, every token dead, billing rows kept anonymous."""

from __future__ import annotations

from sqlalchemy import select

from app.db import session_scope
from app.models import OutboxEmail, Subscription, SubscriptionRequest
from tests.admin.conftest import audit_entries, request_subscription
from tests.admin.test_members import stripe_subscription

USERS = "/api/v1/admin/users"


def test_erasing_a_member_kills_their_tokens_and_feed(client, admin, reader, mailbox):
    pair = client.post(
        "/api/v1/auth/login", data={"username": reader.email, "password": reader.password}
    ).json()
    feed_url = client.post("/api/v1/me/feed-token", headers=reader.headers).json()["url"]
    feed_path = feed_url.removeprefix("http://folio.test")
    assert client.get(feed_path).status_code == 200
    magic = client.post("/api/v1/auth/magic-link", json={"email": reader.email})
    assert magic.status_code == 202
    magic_token = mailbox.token("magic", reader.email)  # delivered before the erasure

    assert client.delete(f"{USERS}/{reader.id}", headers=admin.headers).status_code == 204

    assert client.get("/api/v1/me", headers=reader.headers).status_code == 401
    bearer = {"Authorization": f"Bearer {pair['access_token']}"}
    assert client.get("/api/v1/me", headers=bearer).status_code == 401
    refresh = client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert refresh.status_code == 401
    assert client.get(feed_path).status_code == 404
    link = client.post("/api/v1/auth/magic-link/confirm", json={"token": magic_token})
    assert link.status_code in (400, 401), link.text
    assert "access_token" not in link.json()
    login = client.post(
        "/api/v1/auth/login", data={"username": reader.email, "password": reader.password}
    )
    assert login.status_code == 401


def test_erasure_replaces_personal_data_and_keeps_billing_anonymous(client, admin, reader, catalog):
    stripe_id = stripe_subscription(reader.id, catalog.tier)
    comp = client.post(
        f"{USERS}/{reader.id}/comps", headers=admin.headers, json={"tier": catalog.tier}
    ).json()
    client.patch(f"{USERS}/{reader.id}", headers=admin.headers, json={"name": "Rea Private"})
    request_subscription(client, reader.headers)

    assert client.delete(f"{USERS}/{reader.id}", headers=admin.headers).status_code == 204

    record = client.get(f"{USERS}/{reader.id}", headers=admin.headers).json()
    assert record["email"] == f"erased-{reader.id}@erased.invalid"
    assert record["name"] == "" and record["erased_at"] and record["status"] == "disabled"
    assert record["email_verified"] is False and record["organizations"] == []
    by_id = {s["id"]: s for s in record["subscriptions"]}
    assert by_id[stripe_id]["source"] == "stripe" and by_id[stripe_id]["status"] == "active"
    assert by_id[comp["id"]]["status"] == "canceled"
    assert record["subscription_requests"][0]["message"] == ""
    assert reader.email not in client.get(USERS, headers=admin.headers).text

    with session_scope(write=False) as session:
        assert session.get(Subscription, stripe_id).user_id == reader.id  # type: ignore[union-attr]
        assert (
            session.execute(
                select(OutboxEmail).where(OutboxEmail.recipient == reader.email)
            ).first()
            is None
        )
        assert all(r.message == "" for r in session.execute(select(SubscriptionRequest)).scalars())
    text = str([(e.before, e.after) for e in audit_entries()])
    assert "Rea Private" not in text and reader.email not in text
    [erase] = audit_entries("user.erase")
    assert erase.target == f"user:{reader.id}" and erase.actor == f"user:{admin.id}"
    assert [e.target for e in audit_entries("access.revoke")] == [f"user:{reader.id}"]


def test_erasing_twice_changes_nothing_more(client, admin, reader):
    assert client.delete(f"{USERS}/{reader.id}", headers=admin.headers).status_code == 204
    assert client.delete(f"{USERS}/{reader.id}", headers=admin.headers).status_code == 204
    assert len(audit_entries("user.erase")) == 1
    assert (
        client.patch(
            f"{USERS}/{reader.id}", headers=admin.headers, json={"name": "back"}
        ).status_code
        == 404
    )
    assert client.delete(f"{USERS}/424242", headers=admin.headers).status_code == 404


def test_an_erased_requester_can_only_be_approved_as_an_organization(
    client, admin, reader, catalog, mailbox
):
    request_id = request_subscription(client, reader.headers, tier=catalog.tier)
    client.delete(f"{USERS}/{reader.id}", headers=admin.headers)
    queue = "/api/v1/admin/subscription-requests"
    as_comp = client.post(f"{queue}/{request_id}/approve", headers=admin.headers, json={})
    assert as_comp.status_code == 409
    assert client.get(f"{queue}/{request_id}", headers=admin.headers).json()["status"] == "pending"
    as_org = client.post(
        f"{queue}/{request_id}/approve",
        headers=admin.headers,
        json={"as": "organization", "ip_ranges": ["192.0.2.0/24"]},
    )
    assert as_org.status_code == 200, as_org.text
    assert as_org.json()["requester"]["email"].endswith("@erased.invalid")
    assert mailbox.deliver() == 0  # nobody to tell
