"""The audit trail over HTTP: one entry per admin write, filtered and paged."""

from __future__ import annotations

from datetime import timedelta

from app.db import session_scope
from app.models import AuditEntry, utcnow

AUDIT = "/api/v1/admin/audit"


def listed(client, admin, **params) -> list[dict]:  # noqa: ANN001
    response = client.get(AUDIT, headers=admin.headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_every_admin_write_leaves_one_entry(client, admin, reader, catalog):
    before = len(listed(client, admin, limit=200))
    org = client.post(
        "/api/v1/admin/organizations",
        headers=admin.headers,
        json={"name": "Uni", "tier": catalog.tier, "ip_ranges": ["192.0.2.0/24"]},
    ).json()
    client.patch(
        f"/api/v1/admin/organizations/{org['id']}", headers=admin.headers, json={"notes": "n"}
    )
    comp = client.post(
        f"/api/v1/admin/users/{reader.id}/comps", headers=admin.headers, json={"tier": catalog.tier}
    ).json()
    client.delete(f"/api/v1/admin/comps/{comp['id']}", headers=admin.headers)
    client.patch(f"/api/v1/admin/users/{reader.id}", headers=admin.headers, json={"role": "editor"})
    client.delete(f"/api/v1/admin/organizations/{org['id']}", headers=admin.headers)
    entries = listed(client, admin, limit=200)
    assert [e["action"] for e in entries[: len(entries) - before]] == [
        "organization.delete",
        "user.update",
        "access.revoke",
        "access.grant",
        "organization.update",
        "organization.create",
    ]
    newest = entries[0]
    assert newest["actor"] == f"user:{admin.id}" and newest["target"] == f"organization:{org['id']}"
    assert newest["before"]["name"] == "Uni" and newest["after"] is None and newest["at"]


def test_the_trail_filters_by_actor_action_target_and_time(client, admin, reader, catalog):
    for _ in range(2):
        client.post(
            f"/api/v1/admin/users/{reader.id}/comps",
            headers=admin.headers,
            json={"tier": catalog.tier},
        )
    client.post(
        "/api/v1/admin/organizations",
        headers=admin.headers,
        json={"name": "Uni", "tier": catalog.tier, "ip_ranges": ["192.0.2.0/24"]},
    )
    with session_scope() as session:
        session.add(
            AuditEntry(
                actor="stripe:evt_old",
                action="access.grant",
                target=f"user:{reader.id}",
                at=utcnow() - timedelta(days=40),
            )
        )
    grants = listed(client, admin, action="access.grant", target=f"user:{reader.id}")
    assert len(grants) == 3
    assert len(listed(client, admin, action="access.grant", actor=f"user:{admin.id}")) == 2
    assert [e["actor"] for e in listed(client, admin, actor="stripe:evt_old")] == ["stripe:evt_old"]
    since = (utcnow() - timedelta(days=1)).replace(tzinfo=None).isoformat()
    assert len(listed(client, admin, action="access.grant", since=since)) == 2
    assert [e["action"] for e in listed(client, admin, action="organization.")] == [
        "organization.create"
    ]
    assert listed(client, admin, action="access.") and not listed(client, admin, action="access")
    assert (
        client.get(AUDIT, headers=admin.headers, params={"since": "yesterday"}).status_code == 422
    )


def test_the_trail_pages_by_cursor(client, admin):
    with session_scope() as session:
        for n in range(5):
            session.add(AuditEntry(actor="system", action="test.entry", target=f"t:{n}"))
    seen, cursor = [], None
    while True:
        params = {"limit": 2, "action": "test.entry"} | ({"cursor": cursor} if cursor else {})
        page = client.get(AUDIT, headers=admin.headers, params=params).json()
        seen += [e["target"] for e in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert seen == [f"t:{n}" for n in (4, 3, 2, 1, 0)]
    assert client.get(AUDIT, headers=admin.headers, params={"cursor": "zz"}).status_code == 400
