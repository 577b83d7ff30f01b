"""Members for staff: search and filters, a member's record, edits, the last-admin rule."""

from __future__ import annotations

from datetime import timedelta

from app.db import session_scope
from app.models import Subscription, Tier, User, utcnow
from tests.admin.conftest import audit_entries, request_subscription
from tests.support.app import create_user, login

USERS = "/api/v1/admin/users"


def stripe_subscription(
    user_id: int, tier_slug: str, status: str = "active", days: int = 30
) -> int:
    with session_scope() as session:
        tier = session.query(Tier).filter_by(slug=tier_slug).one()
        sub = Subscription(
            user_id=user_id,
            tier_id=tier.id,
            source="stripe",
            status=status,
            current_period_end=utcnow() + timedelta(days=days),
            cancel_at_period_end=True,
            stripe_subscription_id=f"sub_{user_id}_{status}",
            stripe_price_id="price_threat_month",
        )
        session.add(sub)
        session.flush()
        return sub.id  # type: ignore[return-value]


def emails(client, admin, **params) -> list[str]:  # noqa: ANN001
    response = client.get(USERS, headers=admin.headers, params=params)
    assert response.status_code == 200, response.text
    return [item["email"] for item in response.json()["items"]]


def test_members_are_searched_by_email_prefix_or_name(client, admin):
    create_user("ada@lovelace.example")
    create_user("adam@smith.example")
    grace = create_user("grace@hopper.example")
    with session_scope() as session:
        session.get(User, grace).name = "Grace Brewster Hopper"  # type: ignore[union-attr]
    assert emails(client, admin, q="ada") == ["adam@smith.example", "ada@lovelace.example"]
    assert emails(client, admin, q="ADA@") == ["ada@lovelace.example"]
    assert emails(client, admin, q="brewster") == ["grace@hopper.example"]
    assert emails(client, admin, q="lovelace") == []  # not a prefix of the email, not a name
    assert emails(client, admin, q="%") == [] and emails(client, admin, q="_da") == []


def test_the_status_filter_puts_each_member_in_one_place(client, admin, make_account, catalog):
    free = make_account("free@example.net")
    paid = make_account("paid@example.net")
    comp = make_account("comp@example.net")
    org = make_account("staff@uni.example.edu")
    create_user("unverified@uni.example.edu", verified=False)
    create_user("spy@evil-example.edu")  # a look-alike, never covered
    disabled = make_account("gone@example.net")
    lapsed = make_account("lapsed@example.net")
    stripe_subscription(paid.id, catalog.tier)
    stripe_subscription(lapsed.id, catalog.tier, status="canceled")
    client.post(f"{USERS}/{comp.id}/comps", headers=admin.headers, json={"tier": catalog.tier})
    client.post(f"{USERS}/{paid.id}/comps", headers=admin.headers, json={"tier": catalog.tier})
    client.post(
        "/api/v1/admin/organizations",
        headers=admin.headers,
        json={"name": "Uni", "tier": catalog.tier, "email_domains": ["example.edu"]},
    )
    client.patch(f"{USERS}/{disabled.id}", headers=admin.headers, json={"disabled": True})

    assert emails(client, admin, status="paid") == [paid.email]
    assert emails(client, admin, status="comp") == [comp.email]
    assert emails(client, admin, status="org") == [org.email]
    assert emails(client, admin, status="disabled") == [disabled.email]
    assert sorted(emails(client, admin, status="free")) == sorted(
        [
            free.email,
            "unverified@uni.example.edu",
            "spy@evil-example.edu",
            lapsed.email,
            admin.email,
        ]
    )
    by_email = {
        i["email"]: i["status"] for i in client.get(USERS, headers=admin.headers).json()["items"]
    }
    assert by_email[paid.email] == "paid" and by_email[org.email] == "org"
    assert client.get(USERS, headers=admin.headers, params={"status": "vip"}).status_code == 422


def test_the_tier_filter_finds_holders_of_that_tier(client, admin, make_account, catalog):
    threat = make_account("threat@example.net")
    every = make_account("every@example.net")
    campus = make_account("fellow@campus.example")
    create_user("nobody@example.net")
    stripe_subscription(threat.id, catalog.tier)
    client.post(
        f"{USERS}/{every.id}/comps", headers=admin.headers, json={"tier": catalog.all_access_tier}
    )
    client.post(
        "/api/v1/admin/organizations",
        headers=admin.headers,
        json={"name": "Campus", "tier": catalog.tier, "email_domains": ["campus.example"]},
    )
    assert emails(client, admin, tier=catalog.tier) == [campus.email, threat.email]
    assert emails(client, admin, tier=catalog.all_access_tier) == [every.email]
    unknown = client.get(USERS, headers=admin.headers, params={"tier": "gold"})
    assert unknown.status_code == 422 and "gold" in unknown.json()["detail"]


def test_members_page_by_cursor_and_a_bad_cursor_is_a_400(client, admin):
    for n in range(4):
        create_user(f"m{n}@example.net")
    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = client.get(USERS, headers=admin.headers, params=params).json()
        seen += [item["email"] for item in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert seen == [f"m{n}@example.net" for n in (3, 2, 1, 0)] + [admin.email]
    for bad in ("!!!", "eyJiZWZvcmUiOiAtMX0", "eyJiZWZvcmUiOiB0cnVlfQ", "W10", "x" * 150):
        response = client.get(USERS, headers=admin.headers, params={"cursor": bad})
        assert response.status_code == 400, bad
    assert client.get(USERS, headers=admin.headers, params={"limit": 0}).status_code == 422


def test_a_members_record_shows_subscriptions_licences_requests_and_audit(
    client, admin, reader, catalog
):
    stripe_id = stripe_subscription(reader.id, catalog.tier, status="past_due")
    comp = client.post(
        f"{USERS}/{reader.id}/comps",
        headers=admin.headers,
        json={
            "tier": catalog.all_access_tier,
            "expires_at": "2999-01-01T00:00:00Z",
            "note": "press",
        },
    ).json()
    org = client.post(
        "/api/v1/admin/organizations",
        headers=admin.headers,
        json={"name": "Example Org", "tier": catalog.tier, "email_domains": ["example.org"]},
    ).json()
    request_id = request_subscription(client, reader.headers, tier=catalog.tier)

    record = client.get(f"{USERS}/{reader.id}", headers=admin.headers).json()
    assert record["email"] == reader.email and record["status"] == "paid"
    assert [s["id"] for s in record["subscriptions"]] == [comp["id"], stripe_id]
    comp_row, stripe_row = record["subscriptions"]
    assert comp_row["source"] == "comp" and comp_row["note"] == "press"
    assert comp_row["current_period_end"] == "2999-01-01T00:00:00Z" and comp_row["grants_access"]
    assert stripe_row["status"] == "past_due" and stripe_row["cancel_at_period_end"] is True
    assert stripe_row["grants_access"] is True and stripe_row["tier"] == catalog.tier
    assert record["organizations"] == [
        {"id": org["id"], "name": "Example Org", "tier": catalog.tier, "expires_at": None}
    ]
    assert [r["id"] for r in record["subscription_requests"]] == [request_id]
    assert record["recent_audit"][0]["action"] == "access.grant"
    assert record["recent_audit"][0]["target"] == f"user:{reader.id}"
    assert client.get(f"{USERS}/999999", headers=admin.headers).status_code == 404


def test_staff_change_name_role_and_disabled_and_nothing_else(client, admin, reader):
    response = client.patch(
        f"{USERS}/{reader.id}", headers=admin.headers, json={"name": " Rea ", "role": "editor"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Rea" and response.json()["role"] == "editor"
    assert client.get("/api/v1/me", headers=reader.headers).json()["role"] == "editor"
    for bad in ({"role": "owner"}, {"role": "ADMIN"}, {"email": "x@y.z"}, {"disabled": "maybe"}):
        response = client.patch(f"{USERS}/{reader.id}", headers=admin.headers, json=bad)
        assert response.status_code == 422, bad
    [entry] = audit_entries("user.update")
    assert entry.before == {"name": "reader", "role": "reader"}
    assert entry.after == {"name": "Rea", "role": "editor"}
    assert entry.actor == f"user:{admin.id}"


def test_disabling_ends_every_session_at_once(client, admin, reader):
    refresh = client.post(
        "/api/v1/auth/login", data={"username": reader.email, "password": reader.password}
    ).json()["refresh_token"]
    response = client.patch(f"{USERS}/{reader.id}", headers=admin.headers, json={"disabled": True})
    assert response.status_code == 200 and response.json()["status"] == "disabled"
    assert client.get("/api/v1/me", headers=reader.headers).status_code == 401
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": refresh}).status_code == 401
    client.patch(f"{USERS}/{reader.id}", headers=admin.headers, json={"disabled": False})
    # Re-enabled: old sessions stay dead; a new sign-in works.
    assert client.get("/api/v1/me", headers=reader.headers).status_code == 401
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": refresh}).status_code == 401
    assert client.get("/api/v1/me", headers=login(client, reader.email)).status_code == 200


def test_the_last_admin_cannot_be_demoted_disabled_or_erased(client, admin, make_account):
    for change in ({"role": "reader"}, {"role": "editor"}, {"disabled": True}):
        response = client.patch(f"{USERS}/{admin.id}", headers=admin.headers, json=change)
        assert response.status_code == 409, change
        assert "last admin" in response.json()["detail"]
    assert client.delete(f"{USERS}/{admin.id}", headers=admin.headers).status_code == 409
    second = make_account("second@folio.test", role="admin")
    # A disabled admin does not count as another admin.
    client.patch(f"{USERS}/{second.id}", headers=admin.headers, json={"disabled": True})
    assert (
        client.patch(
            f"{USERS}/{admin.id}", headers=admin.headers, json={"role": "reader"}
        ).status_code
        == 409
    )
    client.patch(f"{USERS}/{second.id}", headers=admin.headers, json={"disabled": False})
    demoted = client.patch(f"{USERS}/{admin.id}", headers=admin.headers, json={"role": "reader"})
    assert demoted.status_code == 200
    # The demoted admin is a reader from the next request on.
    assert client.get(USERS, headers=admin.headers).status_code == 403
    second_headers = login(client, second.email)
    assert (
        client.patch(
            f"{USERS}/{second.id}", headers=second_headers, json={"role": "editor"}
        ).status_code
        == 409
    )


def test_a_no_op_patch_is_not_audited(client, admin, reader):
    response = client.patch(f"{USERS}/{reader.id}", headers=admin.headers, json={"name": "reader"})
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "reader"
    assert audit_entries("user.update") == []


def test_a_stripe_subscription_without_a_tier_makes_nobody_paid_in_the_list_filter_or_stats(
    client, admin, catalog
):
    # An unknown price leaves the row without a tier: it grants nothing (SPEC §4), so the
    # filter, the row's status and the stats must all say "free" alike.
    user_id = create_user("unknown-price@example.org")
    with session_scope() as session:
        session.add(
            Subscription(
                user_id=user_id,
                tier_id=None,
                source="stripe",
                status="active",
                current_period_end=utcnow() + timedelta(days=30),
                stripe_subscription_id="sub_unknown_price",
                stripe_price_id="price_unknown",
            )
        )
    assert "unknown-price@example.org" not in emails(client, admin, status="paid")
    assert "unknown-price@example.org" in emails(client, admin, status="free")
    row = client.get(f"{USERS}/{user_id}", headers=admin.headers).json()
    assert row["status"] == "free"
    stats = client.get("/api/v1/admin/stats", headers=admin.headers).json()
    assert stats["members"]["paid"] == 0
