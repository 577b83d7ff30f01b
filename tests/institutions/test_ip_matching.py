"""Licences found by the client's address or the member's domain through the indexed rows.

Reads go through HTTP from behind a trusted proxy (X-Forwarded-For names the client), so
one client can stand at any address. Every change is made through the admin API and the
very next read must see it (R-A1).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from app.access import Anonymous
from app.access.decide import decide_access
from app.db import session_scope
from app.holdings import load_entitlements
from app.models import Report, utcnow

ORGS = "/api/v1/admin/organizations"
BODY = "The lead anyone may read.\n\n<!-- paywall -->\n\nThe secret analysis after the cut."
INSIDE = ["192.0.2.77", "2001:db8:42::9", "::ffff:192.0.2.77", "2001:db8:42:ffff::1"]
OUTSIDE = ["192.0.3.1", "198.51.100.7", "2001:db8:43::1", "::1", "10.0.0.1"]


@pytest.fixture
def proxied(client_with: Callable[..., TestClient]) -> TestClient:
    return client_with(ip="127.0.0.1", trusted_proxies="127.0.0.1")


@pytest.fixture
def report(publish: Callable[..., dict]) -> str:
    return publish(slug="sahel-drones", title="Sahel drones", body=BODY)["slug"]


def access_from(client: TestClient, slug: str, ip: str, headers: dict | None = None) -> str:
    body = client.get(
        f"/api/v1/reports/{slug}", headers={"X-Forwarded-For": ip} | (headers or {})
    ).json()
    assert ("secret analysis" in body["body_html"]) == (body["access"] == "full")
    return body["access"]


def create(client: TestClient, admin, **fields) -> int:  # noqa: ANN001
    body = {"name": "Example University", "tier": "threat-pro"} | fields
    response = client.post(ORGS, headers=admin.headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def patch(client: TestClient, admin, org_id: int, **fields) -> None:  # noqa: ANN001
    response = client.patch(f"{ORGS}/{org_id}", headers=admin.headers, json=fields)
    assert response.status_code == 200, response.text


def test_ipv4_and_ipv6_clients_inside_a_range_read_in_full_outside_the_preview(
    proxied, admin, report
):
    create(proxied, admin, ip_ranges=["192.0.2.0/24", "2001:db8:42::/48"])
    for ip in INSIDE:
        assert access_from(proxied, report, ip) == "full", ip
    for ip in OUTSIDE:
        assert access_from(proxied, report, ip) == "preview", ip


def test_a_host_range_and_a_tier_that_does_not_cover_the_report(
    proxied, admin, catalog, publish, report
):
    cyber = publish(slug="cyber", collection=catalog.other_collection, body=BODY)["slug"]
    create(proxied, admin, ip_ranges=["198.51.100.9"])
    create(proxied, admin, name="Other", tier="all-access", ip_ranges=["203.0.113.0/25"])
    assert access_from(proxied, report, "198.51.100.9") == "full"
    assert access_from(proxied, report, "198.51.100.10") == "preview"
    # threat-pro covers the report's collection only: the address matches, the tier does not.
    assert access_from(proxied, cyber, "198.51.100.9") == "preview"
    assert access_from(proxied, cyber, "203.0.113.5") == "full"


def test_an_expired_organizations_ranges_grant_nothing(proxied, admin, report):
    org_id = create(proxied, admin, ip_ranges=["192.0.2.0/24"], expires_at="2999-01-01T00:00:00Z")
    assert access_from(proxied, report, "192.0.2.77") == "full"
    patch(proxied, admin, org_id, expires_at="2020-01-01T00:00:00Z")
    assert access_from(proxied, report, "192.0.2.77") == "preview"
    patch(proxied, admin, org_id, expires_at=None)
    assert access_from(proxied, report, "192.0.2.77") == "full"


def test_editing_and_deleting_ranges_take_effect_on_the_next_request(proxied, admin, report):
    org_id = create(proxied, admin, ip_ranges=["192.0.2.0/24"])
    assert access_from(proxied, report, "192.0.2.77") == "full"
    patch(proxied, admin, org_id, ip_ranges=["2001:db8:42::/48", "198.51.100.0/24"])
    assert access_from(proxied, report, "192.0.2.77") == "preview"
    assert access_from(proxied, report, "2001:db8:42::9") == "full"
    assert access_from(proxied, report, "198.51.100.200") == "full"
    patch(proxied, admin, org_id, name="Renamed")  # ranges not sent: kept
    assert access_from(proxied, report, "198.51.100.200") == "full"
    patch(proxied, admin, org_id, ip_ranges=[])
    assert access_from(proxied, report, "198.51.100.200") == "preview"
    patch(proxied, admin, org_id, ip_ranges=["198.51.100.0/24"])
    assert access_from(proxied, report, "198.51.100.200") == "full"
    assert proxied.delete(f"{ORGS}/{org_id}", headers=admin.headers).status_code == 204
    assert access_from(proxied, report, "198.51.100.200") == "preview"


def test_editing_domains_takes_effect_on_the_next_request(proxied, admin, make_account, report):
    member = make_account("staff@news.uni.example.edu")
    unverified = make_account("late@uni.example.edu", verified=False)
    outsider = make_account("someone@example.edu")
    org_id = create(proxied, admin, email_domains=["uni.example.edu"])
    off_campus = "198.51.100.7"
    assert access_from(proxied, report, off_campus, member.headers) == "full"
    assert access_from(proxied, report, off_campus, unverified.headers) == "preview"
    assert access_from(proxied, report, off_campus, outsider.headers) == "preview"
    patch(proxied, admin, org_id, email_domains=["other.example.edu"])
    assert access_from(proxied, report, off_campus, member.headers) == "preview"
    patch(proxied, admin, org_id, email_domains=["news.uni.example.edu"])
    assert access_from(proxied, report, off_campus, member.headers) == "full"
    assert proxied.delete(f"{ORGS}/{org_id}", headers=admin.headers).status_code == 204
    assert access_from(proxied, report, off_campus, member.headers) == "preview"


def _attributed(ip: str, slug: str) -> str | None:
    with session_scope(write=False) as session:
        now = utcnow()
        row = session.query(Report).filter_by(slug=slug).one()
        held = load_entitlements(session, Anonymous(client_ip=ip), now)
        decision = decide_access(row, Anonymous(client_ip=ip), held, now)
        return decision.entitlement.organization if decision.entitlement else None


def test_overlapping_ranges_are_attributed_to_the_most_specific_then_the_oldest(
    proxied, admin, report
):
    """The documented rule: the organization with the longest matching prefix that grants
    the report; among equal prefixes the oldest organization (lowest id)."""
    create(proxied, admin, name="Consortium", tier="all-access", ip_ranges=["10.0.0.0/8"])
    create(proxied, admin, name="University", ip_ranges=["10.1.0.0/16"])
    create(proxied, admin, name="Library", ip_ranges=["10.1.2.0/24"])
    create(proxied, admin, name="Library annex", ip_ranges=["10.1.2.0/24"])
    create(proxied, admin, name="Other network", ip_ranges=["10.1.2.0/23"], tier="threat-pro")
    assert _attributed("10.1.2.3", report) == "Library"
    assert _attributed("10.1.3.3", report) == "Other network"
    assert _attributed("10.1.200.3", report) == "University"
    assert _attributed("10.200.0.1", report) == "Consortium"
    assert _attributed("11.0.0.1", report) is None
    for _ in range(3):  # the same answer every time
        assert _attributed("10.1.2.3", report) == "Library"


def test_a_more_specific_licence_that_does_not_grant_the_report_gives_way(
    proxied, admin, catalog, publish
):
    cyber = publish(slug="cyber", collection=catalog.other_collection, body=BODY)["slug"]
    create(proxied, admin, name="Consortium", tier="all-access", ip_ranges=["10.0.0.0/8"])
    create(proxied, admin, name="Department", tier="threat-pro", ip_ranges=["10.1.0.0/16"])
    # threat-pro does not cover the other collection: the broader licence grants it.
    assert _attributed("10.1.2.3", cyber) == "Consortium"
    assert access_from(proxied, cyber, "10.1.2.3") == "full"


@pytest.mark.parametrize(
    "ranges",
    [
        ["10.0.0.0/33"],
        ["not-an-ip"],
        ["0.0.0.0/0"],
        ["::/0"],
        ["fe80::1%eth0/64"],
        ["2001:db8::/129"],
        ["192.0.2.0/24", "300.1.1.1"],
        [""],
    ],
)
def test_bad_cidrs_are_refused_everywhere_they_are_written(
    proxied, admin, make_account, report, ranges
):
    refused = proxied.post(
        ORGS,
        headers=admin.headers,
        json={"name": "X", "tier": "threat-pro"} | {"ip_ranges": ranges},
    )
    assert refused.status_code == 422, refused.text
    org_id = create(proxied, admin, ip_ranges=["192.0.2.0/24"])
    changed = proxied.patch(f"{ORGS}/{org_id}", headers=admin.headers, json={"ip_ranges": ranges})
    assert changed.status_code == 422, changed.text
    assert access_from(proxied, report, "192.0.2.77") == "full"  # the old ranges stand
    requester = make_account("head@harbour.example")
    request = proxied.post(
        "/api/v1/subscription-requests",
        headers=requester.headers,
        json={"organization": "Harbour", "message": "Seats."},
    )
    approved = proxied.post(
        f"/api/v1/admin/subscription-requests/{request.json()['id']}/approve",
        headers=admin.headers,
        json={"as": "organization", "tier": "threat-pro", "ip_ranges": ranges},
    )
    assert approved.status_code == 422, approved.text


def test_an_approval_as_organization_licenses_its_ranges_at_once(
    proxied, admin, make_account, report
):
    requester = make_account("head@harbour.example")
    request = proxied.post(
        "/api/v1/subscription-requests",
        headers=requester.headers,
        json={"organization": "Harbour", "message": "Seats."},
    )
    assert access_from(proxied, report, "2001:db8:77::1") == "preview"
    approved = proxied.post(
        f"/api/v1/admin/subscription-requests/{request.json()['id']}/approve",
        headers=admin.headers,
        json={
            "as": "organization",
            "tier": "threat-pro",
            "ip_ranges": ["2001:db8:77::/48"],
            "email_domains": ["harbour.example"],
        },
    )
    assert approved.status_code == 200, approved.text
    assert access_from(proxied, report, "2001:db8:77::1") == "full"
    assert access_from(proxied, report, "198.51.100.7", requester.headers) == "full"
