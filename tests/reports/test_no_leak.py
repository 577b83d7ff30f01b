"""R-A2: no response to a viewer without full access carries text from after the cut."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from app.deps import SESSION_COOKIE

SECRET_WORD = "zanzibarite"  # appears only after the cut
SECRET_NOTE = "Quixotrel Archive"  # text of the note cited only after the cut
OPEN_NOTE = "Open Bulletin"
BODY = f"""TUNIS, March 3, 2026 — A lead that cites a public source.[^open]

A second paragraph before the cut.

<!-- paywall -->

## After the cut

The word {SECRET_WORD} is for subscribers, as is this claim.[^closed]

[^open]: {OPEN_NOTE}, No. 4, 2026.
[^closed]: {SECRET_NOTE}, file 12, 2026.
"""


@pytest.fixture
def secret_report(publish, catalog) -> dict:
    return publish(title="Cut test", slug="cut-test", body=BODY, tags=["cut"])


def _fill_path(path: str, report: dict) -> str:
    values = {
        "slug": report["slug"],
        "collection": report["collection"],
        "token": "x" * 20,
        "ref": "threat-pro",
        "user_id": "1",
        "comp_id": "1",
        "id": "1",
        "tag": "cut",
    }
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: values.get(m.group(1), "1"), path)


def _get_routes(client) -> list[str]:
    """Every GET route the app serves: the API's (its OpenAPI document) and the pages',
    which the document leaves out."""
    spec = client.get("/openapi.json").json()
    documented = [path for path, ops in spec["paths"].items() if "get" in ops]
    pages = [
        context.path
        for context in iter_route_contexts(client.app.routes)
        if isinstance(context.original_route, APIRoute)
        and "GET" in (context.methods or ())
        and context.path not in documented
    ]
    return documented + pages


def _without_echoed_query(text: str) -> str:
    # A search page shows the query it was asked (title, heading, search boxes), and a
    # sign-in page the address to return to (`next=…?q=…`).
    text = re.sub(rf"q(=|%3D){SECRET_WORD}", "", text, flags=re.IGNORECASE)
    return re.sub(rf"[“\"]{SECRET_WORD}[”\"]", "", text, flags=re.IGNORECASE)


def _assert_clean(text: str, where: str) -> None:
    assert SECRET_WORD not in text.lower(), f"{where} leaks the word after the cut"
    assert SECRET_NOTE not in text, f"{where} leaks the note cited after the cut"


def test_preview_read_carries_only_the_note_cited_before_the_cut(client, secret_report):
    body = client.get("/api/v1/reports/cut-test").json()
    assert body["access"] == "preview"
    assert [n["n"] for n in body["footnotes"]] == [1]
    assert OPEN_NOTE in body["footnotes"][0]["html"]
    _assert_clean(str(body), "anonymous read")


def test_entitled_read_carries_the_word_and_both_notes(
    client, secret_report, admin, reader, catalog
):
    granted = client.post(
        f"/api/v1/admin/users/{reader.id}/comps", headers=admin.headers, json={"tier": catalog.tier}
    )
    assert granted.status_code == 201
    body = client.get("/api/v1/reports/cut-test", headers=reader.headers).json()
    assert body["access"] == "full"
    assert SECRET_WORD in body["body_html"]
    assert [n["n"] for n in body["footnotes"]] == [1, 2]
    assert SECRET_NOTE in body["footnotes"][1]["html"]


@pytest.mark.parametrize("who", ["anonymous", "reader"])
def test_every_get_route_hides_text_after_the_cut(client, secret_report, reader, who):
    headers = reader.headers if who == "reader" else {}
    if who == "reader":  # the pages' session: the same token in the cookie
        client.cookies.set(SESSION_COOKIE, reader.headers["Authorization"].split()[1])
    routes = _get_routes(client)
    assert len(routes) >= 8  # the walk must cover the API, not an empty document
    assert {"/", "/reports/{slug}", "/search", "/account", "/admin/members"} <= set(routes)
    for path in routes:
        url = _fill_path(path, secret_report)
        response = client.get(url, headers=headers, params={"q": SECRET_WORD})
        assert response.status_code < 500, url
        _assert_clean(_without_echoed_query(response.text), f"GET {url} as {who}")


def test_search_finds_the_word_after_the_cut_but_shows_only_the_preview(client, secret_report):
    hits = client.get("/api/v1/search", params={"q": SECRET_WORD}).json()["items"]
    assert [h["slug"] for h in hits] == ["cut-test"]
    assert hits[0]["access"] == "preview"
    _assert_clean(hits[0]["snippet"], "search snippet")


def test_entitled_search_snippet_highlights_the_word(client, secret_report, admin, reader, catalog):
    client.post(
        f"/api/v1/admin/users/{reader.id}/comps", headers=admin.headers, json={"tier": catalog.tier}
    )
    hits = client.get("/api/v1/search", params={"q": SECRET_WORD}, headers=reader.headers).json()[
        "items"
    ]
    assert f"<mark>{SECRET_WORD}</mark>" in hits[0]["snippet"].lower()


def test_feeds_carry_previews_only(client, secret_report, catalog):
    for url in ("/feeds/rss.xml", f"/feeds/{catalog.collection}.xml"):
        response = client.get(url)
        assert response.status_code == 200
        assert "Cut test" in response.text
        assert OPEN_NOTE in response.text
        _assert_clean(response.text, url)


def test_cached_and_refused_reads_carry_nothing_after_the_cut(client, secret_report):
    first = client.get("/api/v1/reports/cut-test")
    _assert_clean(json.dumps(first.json()["paywall"]), "paywall")
    etag = {"If-None-Match": first.headers["etag"]}
    cached = client.get("/api/v1/reports/cut-test", headers=etag)
    assert cached.status_code == 304 and cached.content == b""
    refused = client.get("/api/v1/reports/cut-test", headers={"Authorization": "Bearer forged"})
    assert refused.status_code == 401
    _assert_clean(refused.text, "401")
