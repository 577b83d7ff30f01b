"""Institutional licences: CRUD, validated domains and CIDRs, and access by domain or network."""

from __future__ import annotations

from tests.admin.conftest import audit_entries, reads_full

ORGS = "/api/v1/admin/organizations"


def create(client, admin, **fields) -> dict:  # noqa: ANN001
    body = {"name": "Example University", "tier": "threat-pro"} | fields
    response = client.post(ORGS, headers=admin.headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_an_organization_is_created_read_listed_changed_and_deleted(client, admin, catalog):
    created = create(
        client,
        admin,
        email_domains=[" @Uni.Example.EDU ", "uni.example.edu"],
        ip_ranges=["192.0.2.7/24", "2001:DB8:42::/48", "198.51.100.9"],
        expires_at="2999-01-01T00:00:00",
        notes="Contract 2026-14, contact: library.",
    )
    assert created["email_domains"] == ["uni.example.edu"]
    assert created["ip_ranges"] == ["192.0.2.0/24", "2001:db8:42::/48", "198.51.100.9/32"]
    assert created["expires_at"] == "2999-01-01T00:00:00Z"  # no offset sent: UTC
    assert created["active"] is True and created["tier"] == catalog.tier
    assert created["notes"] == "Contract 2026-14, contact: library."
    org_id = created["id"]
    assert client.get(f"{ORGS}/{org_id}", headers=admin.headers).json() == created
    assert [o["id"] for o in client.get(ORGS, headers=admin.headers).json()["items"]] == [org_id]

    changed = client.patch(
        f"{ORGS}/{org_id}",
        headers=admin.headers,
        json={"name": "Example Univ.", "expires_at": None, "tier": catalog.all_access_tier},
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["name"] == "Example Univ." and body["expires_at"] is None
    assert body["tier"] == catalog.all_access_tier
    assert body["ip_ranges"] == created["ip_ranges"]  # not sent, not changed

    assert client.delete(f"{ORGS}/{org_id}", headers=admin.headers).status_code == 204
    assert client.get(f"{ORGS}/{org_id}", headers=admin.headers).status_code == 404
    assert client.delete(f"{ORGS}/{org_id}", headers=admin.headers).status_code == 404


def test_a_tier_is_named_by_slug_or_id_and_an_unknown_one_is_a_422(client, admin, catalog):
    tier_id = next(
        t["id"]
        for t in client.get("/api/v1/admin/tiers", headers=admin.headers).json()
        if t["slug"] == catalog.tier
    )
    assert create(client, admin, tier=tier_id)["tier"] == catalog.tier
    unknown = client.post(ORGS, headers=admin.headers, json={"name": "X", "tier": "gold"})
    assert unknown.status_code == 422 and "gold" in unknown.json()["detail"]


def test_a_bad_range_or_domain_is_named_and_nothing_is_stored(client, admin, catalog):
    cases = {
        "ip_ranges": ["10.0.0.0/8", "10.0.0.0/33"],
        "email_domains": ["example.org", "not a domain"],
    }
    for field, values in cases.items():
        response = client.post(
            ORGS, headers=admin.headers, json={"name": "X", "tier": catalog.tier, field: values}
        )
        assert response.status_code == 422, response.text
        assert values[1] in str(response.json()["detail"])
    for bad in (["0.0.0.0/0"], ["::/0"], ["fe80::1%eth0/64"], ["192.168.1"], [""]):
        response = client.post(
            ORGS, headers=admin.headers, json={"name": "X", "tier": catalog.tier, "ip_ranges": bad}
        )
        assert response.status_code == 422, bad
    for bad in (["localhost"], ["-bad.org"], ["*.example.org"], ["a..b"]):
        response = client.post(
            ORGS,
            headers=admin.headers,
            json={"name": "X", "tier": catalog.tier, "email_domains": bad},
        )
        assert response.status_code == 422, bad
    assert client.get(ORGS, headers=admin.headers).json()["items"] == []

    org_id = create(client, admin, ip_ranges=["10.0.0.0/8"])["id"]
    response = client.patch(
        f"{ORGS}/{org_id}", headers=admin.headers, json={"ip_ranges": ["10.1.0.0/16", "nope"]}
    )
    assert response.status_code == 422 and "nope" in str(response.json()["detail"])
    assert client.get(f"{ORGS}/{org_id}", headers=admin.headers).json()["ip_ranges"] == [
        "10.0.0.0/8"
    ]


def test_an_expiry_in_the_past_is_refused_on_creation(client, admin, catalog):
    response = client.post(
        ORGS,
        headers=admin.headers,
        json={"name": "X", "tier": catalog.tier, "expires_at": "2001-01-01T00:00:00Z"},
    )
    assert response.status_code == 422


def test_a_domain_covers_its_subdomains_and_never_a_look_alike(
    client, admin, make_account, paid_report
):
    create(client, admin, name="Example Org", email_domains=["example.org"])
    member = make_account("staff@example.org")
    sub = make_account("desk@news.example.org")
    look_alike = make_account("spy@evil-example.org")
    suffix = make_account("spy@example.org.evil.test")
    assert reads_full(client, paid_report, member.headers)
    assert reads_full(client, paid_report, sub.headers)
    assert not reads_full(client, paid_report, look_alike.headers)
    assert not reads_full(client, paid_report, suffix.headers)
    assert client.get("/api/v1/me", headers=look_alike.headers).json()["entitlements"] == []


def test_an_unverified_address_is_not_covered(client, admin, reader, paid_report):
    from app.db import session_scope
    from app.models import User

    create(client, admin, email_domains=["example.org"])
    assert reads_full(client, paid_report, reader.headers)
    with session_scope() as session:
        session.get(User, reader.id).email_verified_at = None  # type: ignore[union-attr]
    assert not reads_full(client, paid_report, reader.headers)


def test_me_names_the_organization_that_grants_access(client, admin, reader, catalog):
    create(client, admin, name="Example Org", email_domains=["example.org"])
    entitlements = client.get("/api/v1/me", headers=reader.headers).json()["entitlements"]
    assert entitlements == [
        {
            "collection": catalog.collection,
            "tier": catalog.tier,
            "source": "organization",
            "until": None,
            "organization": "Example Org",
        }
    ]


def test_an_anonymous_reader_on_the_network_reads_the_full_text(
    client, admin, paid_report, client_from
):
    create(client, admin, ip_ranges=["192.0.2.0/24", "2001:db8:42::/48"])
    assert reads_full(client_from("192.0.2.77"), paid_report)
    assert reads_full(client_from("2001:db8:42::5"), paid_report)
    assert not reads_full(client_from("198.51.100.1"), paid_report)


def test_a_forged_forwarded_for_from_an_untrusted_peer_reads_the_preview(
    client, admin, paid_report, client_from
):
    create(client, admin, ip_ranges=["192.0.2.0/24"])
    forged = {"X-Forwarded-For": "192.0.2.77"}
    assert not reads_full(client_from("198.51.100.1"), paid_report, forged)
    # Not trusted either: a proxy list that names some other network.
    outsider = client_from("198.51.100.1", trusted_proxies="10.0.0.0/8")
    assert not reads_full(outsider, paid_report, forged)
    # Through the trusted proxy, the forwarded address is the client.
    assert reads_full(client_from("10.0.0.2", trusted_proxies="10.0.0.0/8"), paid_report, forged)


def test_expiry_and_deletion_take_effect_on_the_next_request(
    client, admin, reader, paid_report, client_from
):
    org_id = create(client, admin, email_domains=["example.org"], ip_ranges=["192.0.2.0/24"])["id"]
    campus = client_from("192.0.2.77")
    assert reads_full(client, paid_report, reader.headers) and reads_full(campus, paid_report)
    ended = client.patch(
        f"{ORGS}/{org_id}", headers=admin.headers, json={"expires_at": "2020-01-01T00:00:00Z"}
    )
    assert ended.status_code == 200 and ended.json()["active"] is False
    assert not reads_full(client, paid_report, reader.headers)
    assert not reads_full(campus, paid_report)
    assert client.get("/api/v1/me", headers=reader.headers).json()["entitlements"] == []

    client.patch(f"{ORGS}/{org_id}", headers=admin.headers, json={"expires_at": None})
    assert reads_full(client, paid_report, reader.headers)
    client.delete(f"{ORGS}/{org_id}", headers=admin.headers)
    assert not reads_full(client, paid_report, reader.headers)


def test_every_organization_write_is_audited_with_before_and_after(client, admin, catalog):
    org_id = create(client, admin, email_domains=["example.org"])["id"]
    client.patch(f"{ORGS}/{org_id}", headers=admin.headers, json={"ip_ranges": ["192.0.2.0/24"]})
    client.delete(f"{ORGS}/{org_id}", headers=admin.headers)
    created, updated, deleted = audit_entries()[-3:]
    assert (created.action, updated.action, deleted.action) == (
        "organization.create",
        "organization.update",
        "organization.delete",
    )
    assert {e.target for e in (created, updated, deleted)} == {f"organization:{org_id}"}
    assert {e.actor for e in (created, updated, deleted)} == {f"user:{admin.id}"}
    assert created.before is None and created.after["email_domains"] == ["example.org"]
    assert updated.before == {"ip_ranges": []} and updated.after == {"ip_ranges": ["192.0.2.0/24"]}
    assert deleted.before["name"] == "Example University" and deleted.after is None


def test_an_unknown_organization_is_a_404_and_a_bad_id_a_422(client, admin):
    assert client.get(f"{ORGS}/424242", headers=admin.headers).status_code == 404
    assert client.patch(f"{ORGS}/424242", headers=admin.headers, json={}).status_code == 404
    assert client.get(f"{ORGS}/abc", headers=admin.headers).status_code == 422
    assert client.get(f"{ORGS}/99999999999", headers=admin.headers).status_code == 422
