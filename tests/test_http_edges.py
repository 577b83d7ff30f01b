"""HTTP edges: HEAD answers every GET route like the GET, without a body; a trailing slash is
a 404, never a redirect built from the request's Host header."""

from __future__ import annotations

import re

import httpx

from tests.support.live_server import live_server

COMPARED_HEADERS = ("content-type", "content-length", "cache-control", "vary", "etag")
UNLISTED_GET_PATHS = ["/openapi.json", "/docs", "/redoc"]


def _get_paths(client, samples: dict[str, str]) -> list[str]:
    """Every GET path of the OpenAPI document, path parameters and required queries filled."""
    paths = []
    for path, operations in client.get("/openapi.json").json()["paths"].items():
        operation = operations.get("get")
        if operation is None:
            continue
        query = {}
        for param in operation.get("parameters", []):
            if param["in"] == "query" and param.get("required"):
                query[param["name"]] = samples[param["name"]]
        # An id with no sample row reads as a 404, which HEAD must answer alike too.
        filled = re.sub(r"\{(\w+)\}", lambda m: samples.get(m.group(1), "1"), path)
        paths.append(str(httpx.URL(filled, params=query)))
    return paths


def test_head_answers_every_get_route_like_the_get(client, admin, reader, catalog, publish):
    publish(slug="open", access_level="public")
    publish(slug="closed", access_level="subscribers")
    token = client.post("/api/v1/me/feed-token", headers=reader.headers).json()["token"]
    samples = {
        "slug": "open",
        "token": token,
        "collection": catalog.collection,
        "q": "report",
        "user_id": str(reader.id),
    }
    paths = _get_paths(client, samples) + UNLISTED_GET_PATHS + ["/api/v1/reports/closed"]
    assert len(paths) >= 14
    for headers in ({}, admin.headers):
        for path in paths:
            get = client.get(path, headers=headers)
            head = client.head(path, headers=headers)
            assert head.status_code == get.status_code, (path, head.status_code)
            assert head.content == b"", path
            for name in COMPARED_HEADERS:
                assert head.headers.get(name) == get.headers.get(name), (path, name)


def test_head_of_an_anonymous_preview_revalidates_like_the_get(client, publish):
    publish(slug="closed", access_level="subscribers")
    etag = client.get("/api/v1/reports/closed").headers["etag"]
    response = client.head("/api/v1/reports/closed", headers={"If-None-Match": etag})
    assert response.status_code == 304


def test_head_is_still_refused_where_get_is(client):
    response = client.head("/api/v1/auth/login")
    assert response.status_code == 405
    assert "POST" in response.headers["allow"]
    assert client.head("/api/v1/no-such-route").status_code == 404


def test_head_over_a_real_server_has_headers_and_no_body(catalog, publish):
    publish(slug="closed", access_level="subscribers")
    with live_server() as base:
        get = httpx.get(f"{base}/api/v1/reports/closed")
        head = httpx.head(f"{base}/api/v1/reports/closed")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"]
    assert head.headers["etag"] == get.headers["etag"]


def test_a_trailing_slash_is_a_404_not_a_redirect_to_the_request_host(client, admin, catalog):
    evil = {"Host": "evil.example"}
    for method, path, headers in (
        ("get", "/api/v1/reports/", evil),
        ("get", "/healthz/", evil),
        ("head", "/api/v1/collections/", evil),
        ("post", "/api/v1/admin/reports/", evil | admin.headers),
    ):
        response = client.request(method, path, headers=headers, follow_redirects=False)
        assert response.status_code == 404, (path, response.status_code)
        assert "location" not in response.headers, path
        if method != "head":
            assert response.json()["detail"], path
