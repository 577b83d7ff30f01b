"""GET /admin/stats: members by status as the list counts them, MRR from the same
subscriptions as "paid", new and churned members from subscription state."""

from __future__ import annotations

from datetime import timedelta

from app.db import session_scope
from app.models import AuditEntry, Subscription, Tier, User, utcnow
from tests.support.app import create_user

STATS = "/api/v1/admin/stats"


def subscription(user_id: int, price: str, status: str = "active", **fields) -> None:  # noqa: ANN003
    now = utcnow()
    with session_scope() as session:
        tier = session.query(Tier).filter_by(slug="threat-pro").one()
        session.add(
            Subscription(
                user_id=user_id,
                tier_id=tier.id,
                source="stripe",
                status=status,
                stripe_price_id=price,
                stripe_subscription_id=f"sub_{user_id}_{status}_{price}",
                current_period_end=fields.pop("current_period_end", now + timedelta(days=20)),
                updated_at=fields.pop("updated_at", now),
                **fields,
            )
        )


def stats(client, admin) -> dict:  # noqa: ANN001
    response = client.get(STATS, headers=admin.headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_members_by_status_match_the_member_list(client, admin, catalog):
    subscription(create_user("paid@example.net"), "price_threat_month")
    subscription(create_user("late@example.net"), "price_threat_year", status="past_due")
    comp = create_user("comp@example.net")
    client.post(
        f"/api/v1/admin/users/{comp}/comps", headers=admin.headers, json={"tier": "threat-pro"}
    )
    create_user("fellow@uni.example.edu")
    client.post(
        "/api/v1/admin/organizations",
        headers=admin.headers,
        json={"name": "Uni", "tier": "threat-pro", "email_domains": ["uni.example.edu"]},
    )
    create_user("off@example.net", disabled=True)
    create_user("free@example.net")
    erased = create_user("erased@example.net")
    client.delete(f"/api/v1/admin/users/{erased}", headers=admin.headers)

    members = stats(client, admin)["members"]
    assert members == {"total": 7, "free": 2, "paid": 2, "comp": 1, "org": 1, "disabled": 1}
    for status in ("free", "paid", "comp", "org", "disabled"):
        listed = client.get(
            "/api/v1/admin/users", headers=admin.headers, params={"status": status}
        ).json()["items"]
        assert len(listed) == members[status], status


def test_mrr_and_paid_count_the_same_subscriptions(client, admin, catalog):
    subscription(create_user("a@example.net"), "price_threat_month")
    subscription(create_user("b@example.net"), "price_threat_year", status="past_due")
    subscription(create_user("c@example.net"), "price_threat_month", status="trialing")
    subscription(create_user("d@example.net", disabled=True), "price_threat_month")
    subscription(create_user("e@example.net"), "price_threat_month", status="canceled")
    subscription(create_user("f@example.net"), "price_threat_month", status="unpaid")
    subscription(
        create_user("g@example.net"),
        "price_threat_month",
        current_period_end=utcnow() - timedelta(days=1),  # its renewal webhook never came
    )
    body = stats(client, admin)
    assert body["members"]["paid"] == 3 == body["paid_subscriptions"]
    assert body["trialing_subscriptions"] == 1
    assert body["mrr"] == {"usd": 2900 + round(29000 / 12) + 2900}


def test_churn_comes_from_subscription_state(client, admin, catalog):
    now = utcnow()
    subscription(create_user("left@example.net"), "price_threat_month", status="canceled")
    subscription(
        create_user("lapsed@example.net"),
        "price_threat_month",
        current_period_end=now - timedelta(days=2),
    )
    subscription(
        create_user("long-gone@example.net"),
        "price_threat_month",
        status="canceled",
        updated_at=now - timedelta(days=45),
        current_period_end=now - timedelta(days=45),
    )
    switched = create_user("switched@example.net")
    subscription(switched, "price_threat_month", status="canceled")
    subscription(switched, "price_threat_year")
    with session_scope() as session:
        # Audit wording is not churn: an entry alone counts for nothing.
        session.add(AuditEntry(actor="system", action="access.revoke", target="user:999"))
    assert stats(client, admin)["churned_last_30_days"] == 2


def test_new_members_are_those_who_joined_in_the_last_30_days(client, admin):
    create_user("new@example.net")
    old = create_user("old@example.net")
    with session_scope() as session:
        session.get(User, old).created_at = utcnow() - timedelta(days=31)  # type: ignore[union-attr]
    assert stats(client, admin)["new_last_30_days"] == 2  # the admin and new@


def test_stats_have_a_documented_response_model(client):
    operation = client.get("/openapi.json").json()["paths"][STATS]["get"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/StatsOut"}
