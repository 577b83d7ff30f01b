"""The anonymous preview served from prepared bytes (app/reports/preview_cache.py).

Two app objects over the same database and FOLIO_DATA_DIR stand for two workers: a write
through one must show in the next read through the other, and what a viewer holds is read
fresh on every request through either (R-A1).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from app.models import utcnow
from app.reports import preview_fast_path, routes
from app.reports.preview_cache import NetworkIndex

BODY = "The lead anyone may read.\n\n<!-- paywall -->\n\nThe secret analysis after the cut."
SLUG = "sahel-drones"
URL = f"/api/v1/reports/{SLUG}"


@pytest.fixture
def report(publish: Callable[..., dict]) -> str:
    return publish(slug=SLUG, title="Sahel drones", body=BODY)["slug"]


@pytest.fixture
def other_worker(client_with: Callable[..., TestClient]) -> TestClient:
    """A second app (its own preview cache and token cache) on the same database."""
    return client_with()


def anonymous(client: TestClient) -> dict:
    response = client.get(URL)
    assert response.status_code == 200, response.text
    body = response.json()
    # Only the anonymous preview is public; a full text is private whoever reads it.
    public = response.headers["cache-control"].startswith("public")
    assert public == (body["access"] == "preview")
    return body


def test_the_cached_preview_is_the_uncached_one(client, other_worker, report):
    first = client.get(URL)  # built and kept
    second = client.get(URL)  # served from the kept bytes
    fresh = other_worker.get(URL)  # another worker builds its own
    assert first.json()["access"] == "preview"
    assert "secret analysis" not in first.text
    assert first.content == second.content == fresh.content
    assert first.headers["etag"] == second.headers["etag"] == fresh.headers["etag"]
    assert second.headers["cache-control"] == first.headers["cache-control"]
    not_modified = client.get(URL, headers={"If-None-Match": second.headers["etag"]})
    assert not_modified.status_code == 304 and not_modified.headers["etag"]


def test_an_edit_through_one_worker_shows_on_both(client, other_worker, admin, report):
    assert anonymous(client)["title"] == anonymous(other_worker)["title"] == "Sahel drones"
    edited = client.patch(
        f"/api/v1/admin/reports/{SLUG}",
        headers=admin.headers,
        json={"title": "Sahel drones, revised", "tags": ["uav"]},
    )
    assert edited.status_code == 200, edited.text
    for worker in (other_worker, client):
        body = anonymous(worker)
        assert body["title"] == "Sahel drones, revised" and body["tags"] == ["uav"]
    # and back the other way
    other_worker.patch(
        f"/api/v1/admin/reports/{SLUG}", headers=admin.headers, json={"summary": "New lead."}
    )
    assert anonymous(client)["summary"] == anonymous(other_worker)["summary"] == "New lead."


def test_a_collection_edit_shows_in_the_cached_preview(
    client, other_worker, admin, catalog, report
):
    assert anonymous(other_worker)["collection"]["name"] == "Threat Monitor"
    response = client.patch(
        f"/api/v1/admin/collections/{catalog.collection}",
        headers=admin.headers,
        json={"name": "Threat Watch"},
    )
    assert response.status_code == 200, response.text
    assert anonymous(other_worker)["collection"]["name"] == "Threat Watch"


def paywall_prices(body: dict) -> dict[str, list[int]]:
    return {t["slug"]: [p["amount"] for p in t["prices"]] for t in body["paywall"]["tiers"]}


def test_a_tier_price_change_shows_in_the_paywall(client, other_worker, admin, catalog, report):
    assert paywall_prices(anonymous(other_worker))[catalog.tier] == [2900, 29000]
    response = client.patch(
        f"/api/v1/admin/tiers/{catalog.tier}",
        headers=admin.headers,
        json={"prices": [{"interval": "month", "amount": 3500, "currency": "usd"}]},
    )
    assert response.status_code == 200, response.text
    assert paywall_prices(anonymous(other_worker))[catalog.tier] == [3500]
    client.patch(
        f"/api/v1/admin/tiers/{catalog.tier}", headers=admin.headers, json={"active": False}
    )
    assert catalog.tier not in paywall_prices(anonymous(other_worker))


def test_an_anonymous_reader_on_a_licensed_network_reads_in_full_privately(
    client, client_with, admin, report
):
    campus = client_with(ip="192.0.2.77")
    outside = client_with(ip="198.51.100.7")
    # The preview is kept by this worker before the licence exists and after.
    assert anonymous(campus)["access"] == "preview"
    response = client.post(
        "/api/v1/admin/organizations",
        headers=admin.headers,
        json={"name": "Example University", "tier": "threat-pro", "ip_ranges": ["192.0.2.0/24"]},
    )
    assert response.status_code == 201, response.text
    assert anonymous(outside)["access"] == "preview"
    for _ in range(2):
        full = campus.get(URL)
        assert full.json()["access"] == "full" and "secret analysis" in full.text
        assert full.headers["cache-control"].startswith("private")
        assert "etag" not in full.headers
    assert anonymous(outside)["access"] == "preview"
    # Another worker's edit of the ranges: the campus is back to the public preview.
    org = response.json()["id"]
    patched = client.patch(
        f"/api/v1/admin/organizations/{org}", headers=admin.headers, json={"ip_ranges": []}
    )
    assert patched.status_code == 200, patched.text
    assert anonymous(campus)["access"] == "preview"
    campus_v6 = client_with(ip="2001:db8:42::9")
    assert anonymous(campus_v6)["access"] == "preview"
    client.patch(
        f"/api/v1/admin/organizations/{org}",
        headers=admin.headers,
        json={"ip_ranges": ["2001:db8:42::/48"]},
    )
    assert campus_v6.get(URL).json()["access"] == "full"


def test_a_range_whose_tier_does_not_cover_the_report_gets_the_public_preview(
    client, client_with, admin, report
):
    campus = client_with(ip="192.0.2.77")
    response = client.post(
        "/api/v1/admin/organizations",
        headers=admin.headers,
        json={"name": "Cyber School", "tier": "threat-pro", "ip_ranges": ["192.0.2.0/24"]},
    )
    assert response.status_code == 201
    cyber = client.post(
        "/api/v1/admin/reports",
        headers=admin.headers,
        json={
            "slug": "cyber-note",
            "title": "Cyber note",
            "summary": "S.",
            "body": BODY,
            "collection": "cyber-lab",
            "access_level": "subscribers",
            "status": "published",
        },
    )
    assert cyber.status_code == 201, cyber.text
    for _ in range(2):
        shown = campus.get("/api/v1/reports/cyber-note")
        assert shown.json()["access"] == "preview"
        assert shown.headers["cache-control"].startswith("public")


def test_the_network_index_answers_like_the_ranges():
    index = NetworkIndex(["192.0.2.0/24", "2001:db8:42::/48", "198.51.100.9/32"])
    for inside in ("192.0.2.77", "::ffff:192.0.2.1", "2001:db8:42:ffff::1", "198.51.100.9"):
        assert index.may_hold(inside), inside
    for outside in ("192.0.3.1", "198.51.100.10", "2001:db8:43::1", "::1", "testclient", None):
        assert not index.may_hold(outside), outside
    assert not NetworkIndex([]).may_hold("192.0.2.77")


def clock_at(monkeypatch: pytest.MonkeyPatch, instant: datetime) -> None:
    """Time passes for the route and for the layer that answers cached previews first."""
    for module in (routes, preview_fast_path):
        monkeypatch.setattr(module, "utcnow", lambda: instant)


def test_free_after_passing_is_reflected_without_a_write(
    client, publish, monkeypatch: pytest.MonkeyPatch
):
    now = utcnow()
    publish(slug=SLUG, body=BODY, free_after=(now + timedelta(days=1)).isoformat())
    assert anonymous(client)["access"] == "preview"
    assert anonymous(client)["access"] == "preview"  # kept
    clock_at(monkeypatch, now + timedelta(days=2))
    body = anonymous(client)
    assert body["access"] == "full" and body["complimentary"] is True
    assert "secret analysis" in body["body_html"] and body["paywall"] is None


def test_a_scheduled_report_going_live_is_reflected_without_a_write(
    client, publish, monkeypatch: pytest.MonkeyPatch
):
    now = utcnow()
    publish(
        slug=SLUG,
        body=BODY,
        status="scheduled",
        published_at=(now + timedelta(hours=1)).isoformat(),
        free_after=(now + timedelta(days=1)).isoformat(),
    )
    assert client.get(URL).status_code == 404
    clock_at(monkeypatch, now + timedelta(hours=2))
    assert anonymous(client)["access"] == "preview"
    assert anonymous(client)["access"] == "preview"
    clock_at(monkeypatch, now + timedelta(days=2))
    assert anonymous(client)["access"] == "full"


def test_a_revoked_comp_is_honoured_by_the_other_worker(
    client, other_worker, admin, reader, catalog, report
):
    comp = client.post(
        f"/api/v1/admin/users/{reader.id}/comps", headers=admin.headers, json={"tier": catalog.tier}
    )
    assert comp.status_code == 201, comp.text
    for _ in range(2):  # the second read uses the worker's verified token
        assert other_worker.get(URL, headers=reader.headers).json()["access"] == "full"
    revoked = client.delete(f"/api/v1/admin/comps/{comp.json()['id']}", headers=admin.headers)
    assert revoked.status_code == 204
    after = other_worker.get(URL, headers=reader.headers)
    assert after.json()["access"] == "preview"
    assert after.headers["cache-control"].startswith("private")


def test_a_disabled_user_is_refused_by_the_other_worker(
    client, other_worker, admin, reader, report
):
    for _ in range(2):
        assert other_worker.get(URL, headers=reader.headers).status_code == 200
    disabled = client.patch(
        f"/api/v1/admin/users/{reader.id}", headers=admin.headers, json={"disabled": True}
    )
    assert disabled.status_code == 200, disabled.text
    assert other_worker.get(URL, headers=reader.headers).status_code == 401
    assert anonymous(other_worker)["access"] == "preview"


def test_a_logged_out_session_is_refused_by_the_other_worker(client, other_worker, reader, report):
    pair = client.post(
        "/api/v1/auth/login", data={"username": reader.email, "password": reader.password}
    ).json()
    headers = {"Authorization": f"Bearer {pair['access_token']}"}
    for _ in range(2):
        assert other_worker.get(URL, headers=headers).status_code == 200
    logout = client.post("/api/v1/auth/logout", json={"refresh_token": pair["refresh_token"]})
    assert logout.status_code == 204
    assert other_worker.get(URL, headers=headers).status_code == 401


def test_a_token_is_verified_once_and_again_after_its_expiry(
    reader, monkeypatch: pytest.MonkeyPatch
):
    from app.accounts import tokens
    from app.config import get_settings

    token = reader.headers["Authorization"].removeprefix("Bearer ")
    settings = get_settings()
    verifications = []
    verify = tokens._verify_access_token

    def counted(*args):  # noqa: ANN002, ANN202
        verifications.append(args)
        return verify(*args)

    monkeypatch.setattr(tokens, "_verify_access_token", counted)
    tokens.verified_tokens.clear()
    for _ in range(3):
        assert tokens.read_access_token(token, settings)[0] == reader.id
    assert len(verifications) == 1
    # Past its exp the kept claims are dropped: the token is verified afresh (and jose,
    # on the real clock of an expired token, refuses it).
    later = time.time() + settings.access_token_minutes * 60 + 5
    monkeypatch.setattr(tokens.time, "time", lambda: later)
    tokens.read_access_token(token, settings)
    assert len(verifications) == 2
    kept = tokens.VerifiedTokens()
    kept.put("t", "claims", expires=100.0)
    assert kept.get("t", 99.0) == "claims" and kept.get("t", 100.0) is None
