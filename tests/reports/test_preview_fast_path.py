"""A cached anonymous preview answered before FastAPI's routing (app/reports/preview_fast_path.py)
is the route's answer, and steps aside for whatever the route would decide differently:
credentials, a licensed network, an oversized body. Plus R-A1 for licences across workers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient

from app.models import utcnow

BODY = "The lead anyone may read.\n\n<!-- paywall -->\n\nThe secret analysis after the cut."
SLUG = "sahel-drones"
URL = f"/api/v1/reports/{SLUG}"


def test_the_cached_answer_is_the_route_s_answer(client, publish):
    publish(slug=SLUG, body=BODY)
    by_route = client.get(URL)  # a miss: the route reads, serialises and keeps it
    cached = client.get(URL)
    assert by_route.status_code == cached.status_code == 200
    assert cached.content == by_route.content and "secret" not in cached.text
    assert list(cached.headers.items()) == list(by_route.headers.items())
    assert cached.headers["cache-control"] == "public, max-age=60"
    assert cached.headers["vary"] == "Authorization, Cookie"
    etag = cached.headers["etag"]
    not_modified = client.get(URL, headers={"If-None-Match": etag})
    assert not_modified.status_code == 304 and not_modified.content == b""
    assert not_modified.headers["etag"] == etag and "content-length" not in not_modified.headers
    head = client.head(URL)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["etag"] == etag


def test_credentials_always_reach_the_route(client, publish, reader):
    publish(slug=SLUG, body=BODY)
    client.get(URL)  # cached now
    assert client.get(URL, headers={"Authorization": "Bearer not-a-token"}).status_code == 401
    token = reader.headers["Authorization"].removeprefix("Bearer ")
    client.cookies.set("folio_session", "not-a-token")
    assert client.get(URL).status_code == 401
    client.cookies.set("folio_session", token)
    as_cookie = client.get(URL)
    assert as_cookie.status_code == 200
    assert as_cookie.headers["cache-control"] == "private, no-cache"
    assert as_cookie.json()["paywall"]["reason"] == "subscription_required"


def test_an_oversized_body_is_refused_even_for_a_cached_preview(client, publish):
    publish(slug=SLUG, body=BODY)
    client.get(URL)
    refused = client.request("GET", URL, content=b"x" * 64, headers={"Content-Length": "10000000"})
    assert refused.status_code == 413


def test_a_campus_reader_gets_the_full_text_while_others_get_the_cached_preview(
    client, client_with: Callable[..., TestClient], admin, catalog, publish
):
    publish(slug=SLUG, body=BODY)
    created = client.post(
        "/api/v1/admin/organizations",
        headers=admin.headers,
        json={"name": "Campus", "tier": catalog.tier, "ip_ranges": ["10.20.0.0/16"]},
    )
    assert created.status_code == 201, created.text
    outside = client_with(ip="198.51.100.7")
    for _ in range(3):  # the preview kept, and this worker's network index loaded
        assert outside.get(URL).json()["access"] == "preview"
    campus = TestClient(outside.app, base_url="http://folio.test", client=("10.20.3.4", 1))
    on_campus = campus.get(URL)
    assert on_campus.json()["access"] == "full" and "secret" in on_campus.text
    assert on_campus.headers["cache-control"] == "private, no-cache"
    assert outside.get(URL).json()["access"] == "preview"


def test_an_expired_organization_is_honoured_on_the_next_read_by_the_other_worker(
    client, client_with: Callable[..., TestClient], admin, make_account, catalog, publish
):
    """R-A1 for licences, by domain and by address, through two app objects (workers)."""
    publish(slug=SLUG, body=BODY)
    created = client.post(
        "/api/v1/admin/organizations",
        headers=admin.headers,
        json={
            "name": "University",
            "tier": catalog.tier,
            "email_domains": ["uni.example"],
            "ip_ranges": ["10.30.0.0/16"],
        },
    )
    assert created.status_code == 201, created.text
    member = make_account("scholar@dept.uni.example")
    worker = client_with(ip="10.30.1.2")
    for _ in range(2):
        assert worker.get(URL).json()["access"] == "full"
        assert worker.get(URL, headers=member.headers).json()["access"] == "full"
    expired = client.patch(
        f"/api/v1/admin/organizations/{created.json()['id']}",
        headers=admin.headers,
        json={"expires_at": (utcnow() - timedelta(minutes=1)).isoformat()},
    )
    assert expired.status_code == 200, expired.text
    assert worker.get(URL).json()["access"] == "preview"
    assert worker.get(URL, headers=member.headers).json()["access"] == "preview"
