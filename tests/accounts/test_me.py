"""/api/v1/me: the reader's account, entitlements and requests; safe edits; the private feed."""

from __future__ import annotations

from app.db import session_scope
from app.models import SubscriptionRequest, User
from tests.accounts.conftest import count, password_login

CUT_BODY = "Lead paragraph.\n\n<!-- paywall -->\n\nThe word {word} comes after the cut."


def test_me_describes_the_reader(client, reader):
    response = client.get("/api/v1/me", headers=reader.headers)
    assert response.status_code == 200
    me = response.json()
    assert me["id"] == reader.id and me["email"] == reader.email
    assert me["role"] == "reader" and me["email_verified"] is True
    assert me["created_at"] and me["name"] == "reader"
    assert me["entitlements"] == me["subscriptions"] == me["subscription_requests"] == []
    assert response.headers["cache-control"] == "no-store"


def test_me_needs_a_sign_in(client):
    assert client.get("/api/v1/me").status_code == 401
    assert client.patch("/api/v1/me", json={"name": "x"}).status_code == 401


def test_a_comp_shows_as_entitlements_and_a_subscription(client, admin, reader, catalog):
    granted = client.post(
        f"/api/v1/admin/users/{reader.id}/comps",
        headers=admin.headers,
        json={"tier": catalog.tier, "note": "press"},
    )
    assert granted.status_code == 201, granted.text
    me = client.get("/api/v1/me", headers=reader.headers).json()
    assert me["entitlements"] == [
        {
            "collection": catalog.collection,
            "tier": catalog.tier,
            "source": "comp",
            "until": None,
            "organization": None,
        }
    ]
    [subscription] = me["subscriptions"]
    assert subscription == {
        "id": granted.json()["id"],
        "tier": catalog.tier,
        "source": "comp",
        "status": "active",
        "current_period_end": None,
        "cancel_at_period_end": False,
    }


def test_an_all_collections_tier_lists_every_collection(client, admin, reader, catalog):
    client.post(
        f"/api/v1/admin/users/{reader.id}/comps",
        headers=admin.headers,
        json={"tier": catalog.all_access_tier, "expires_at": "2999-01-01T00:00:00Z"},
    )
    entitlements = client.get("/api/v1/me", headers=reader.headers).json()["entitlements"]
    assert sorted(e["collection"] for e in entitlements) == sorted(
        [catalog.collection, catalog.other_collection]
    )
    assert {e["tier"] for e in entitlements} == {catalog.all_access_tier}
    assert entitlements[0]["until"].startswith("2999-01-01")


def test_a_reader_may_rename_but_not_promote_themselves(client, reader):
    response = client.patch(
        "/api/v1/me",
        headers=reader.headers,
        json={
            "name": "  Rea Der ",
            "role": "admin",
            "email_verified": False,
            "disabled": True,
            "email": "other@example.org",
            "id": 99,
        },
    )
    assert response.status_code == 200
    me = response.json()
    assert me["name"] == "Rea Der" and me["role"] == "reader"
    assert me["email"] == reader.email and me["email_verified"] is True
    with session_scope(write=False) as session:
        user = session.get(User, reader.id)
        assert user.role == "reader" and not user.disabled


def test_a_password_change_needs_the_current_password(client, reader):
    wrong = client.patch(
        "/api/v1/me",
        headers=reader.headers,
        json={
            "name": "Changed",
            "current_password": "not my password",
            "password": "a new passphrase",
        },
    )
    assert wrong.status_code == 403
    assert wrong.json() == {"detail": "The current password is not correct."}
    missing = client.patch(
        "/api/v1/me", headers=reader.headers, json={"password": "a new passphrase"}
    )
    assert missing.status_code == 400
    me = client.get("/api/v1/me", headers=reader.headers).json()
    assert me["name"] == "reader"
    assert password_login(client, reader.email, reader.password).status_code == 200
    too_short = client.patch(
        "/api/v1/me",
        headers=reader.headers,
        json={"current_password": reader.password, "password": "short"},
    )
    assert too_short.status_code == 422
    assert password_login(client, reader.email, reader.password).status_code == 200


def test_the_private_feed_carries_full_text_only_where_entitled(
    client, admin, reader, catalog, publish
):
    publish(title="Entitled report", body=CUT_BODY.format(word="heliotrope"))
    publish(
        title="Other report",
        collection=catalog.other_collection,
        body=CUT_BODY.format(word="malachite"),
    )
    client.post(
        f"/api/v1/admin/users/{reader.id}/comps", headers=admin.headers, json={"tier": catalog.tier}
    )

    created = client.post("/api/v1/me/feed-token", headers=reader.headers)
    assert created.status_code == 201
    token, url = created.json()["token"], created.json()["url"]
    assert url == f"http://folio.test/feeds/private/{token}.xml"
    feed = client.get(f"/feeds/private/{token}.xml")
    assert feed.status_code == 200
    assert "heliotrope" in feed.text
    assert "Other report" in feed.text and "malachite" not in feed.text

    rotated = client.post("/api/v1/me/feed-token", headers=reader.headers).json()["token"]
    assert client.get(f"/feeds/private/{token}.xml").status_code == 404
    assert client.get(f"/feeds/private/{rotated}.xml").status_code == 200
    assert client.delete("/api/v1/me/feed-token", headers=reader.headers).status_code == 204
    assert client.get(f"/feeds/private/{rotated}.xml").status_code == 404


def test_a_subscription_request_is_stored_pending_and_shown(client, reader, catalog):
    response = client.post(
        "/api/v1/subscription-requests",
        headers=reader.headers,
        json={
            "organization": "Harbour Newsroom",
            "message": "Twelve seats for the desk.",
            "tier": catalog.tier,
        },
    )
    assert response.status_code == 201
    created = response.json()
    assert created["status"] == "pending" and created["tier"] == catalog.tier
    [shown] = client.get("/api/v1/me", headers=reader.headers).json()["subscription_requests"]
    assert shown["id"] == created["id"] and shown["organization"] == "Harbour Newsroom"
    without_tier = client.post(
        "/api/v1/subscription-requests",
        headers=reader.headers,
        json={"organization": "Library", "message": ""},
    )
    assert without_tier.status_code == 201 and without_tier.json()["tier"] is None


def test_bad_subscription_requests_are_refused(client, reader, catalog):
    unknown = client.post(
        "/api/v1/subscription-requests",
        headers=reader.headers,
        json={"organization": "X", "message": "m", "tier": "no-such-tier"},
    )
    assert unknown.status_code == 422
    assert "Unknown tier" in unknown.json()["detail"]
    assert (
        client.post(
            "/api/v1/subscription-requests",
            headers=reader.headers,
            json={"organization": "", "message": "m"},
        ).status_code
        == 422
    )
    assert (
        client.post(
            "/api/v1/subscription-requests", json={"organization": "X", "message": "m"}
        ).status_code
        == 401
    )
    assert count(SubscriptionRequest) == 0
    for _ in range(3):
        client.post(
            "/api/v1/subscription-requests",
            headers=reader.headers,
            json={"organization": "X", "message": "m"},
        )
    assert (
        client.post(
            "/api/v1/subscription-requests",
            headers=reader.headers,
            json={"organization": "X", "message": "m"},
        ).status_code
        == 409
    )
