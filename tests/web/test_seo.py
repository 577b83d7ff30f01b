"""What crawlers read: sitemap.xml of live reports only, robots.txt, and /favicon.ico."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree as ET

from tests.support.statements import statements

NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
FUTURE = (datetime.now(UTC) + timedelta(days=30)).isoformat()
PAST = (datetime.now(UTC) - timedelta(days=2)).isoformat()


def sitemap_entries(client) -> dict[str, str | None]:
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(response.content)
    return {
        url.findtext("s:loc", namespaces=NS): url.findtext("s:lastmod", namespaces=NS)
        for url in root.findall("s:url", NS)
    }


def test_sitemap_lists_home_collections_and_live_reports_only(client, publish, catalog):
    live = publish(slug="live-one")
    publish(slug="was-scheduled", status="scheduled", published_at=PAST)
    publish(slug="a-draft", status="draft")
    publish(slug="not-yet", status="scheduled", published_at=FUTURE)
    entries = sitemap_entries(client)
    assert set(entries) == {
        "http://folio.test/",
        "http://folio.test/collections/threat-monitor",
        "http://folio.test/collections/cyber-lab",
        "http://folio.test/reports/live-one",
        "http://folio.test/reports/was-scheduled",
    }
    lastmod = datetime.fromisoformat(entries["http://folio.test/reports/live-one"])
    updated = datetime.fromisoformat(live["updated_at"])
    assert lastmod.tzinfo is not None
    assert abs((lastmod - updated).total_seconds()) < 1


def test_sitemap_lastmod_follows_an_edit(client, publish, admin):
    publish(slug="edited")
    before = sitemap_entries(client)["http://folio.test/reports/edited"]
    edited = client.patch(
        "/api/v1/admin/reports/edited", headers=admin.headers, json={"title": "Edited"}
    )
    assert edited.status_code == 200, edited.text
    after = sitemap_entries(client)["http://folio.test/reports/edited"]
    assert datetime.fromisoformat(after) >= datetime.fromisoformat(before)
    assert after == datetime.fromisoformat(edited.json()["updated_at"]).isoformat(
        timespec="seconds"
    )


def test_robots_allows_reading_and_keeps_crawlers_out_of_private_paths(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    lines = response.text.splitlines()
    assert lines[:2] == ["User-agent: *", "Allow: /"]
    for path in ("/admin", "/account", "/api/", "/feeds/private/"):
        assert f"Disallow: {path}" in lines
    assert "Sitemap: http://folio.test/sitemap.xml" in lines


def test_favicon_ico_serves_the_svg_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert response.content == client.get("/static/favicon.svg").content
    assert b"<svg" in response.content


def test_a_report_without_a_summary_costs_its_page_no_extra_statement(client, publish):
    """The description falls back to the preview's text, which the read already holds."""
    body = "A lead anyone may read.\n\n<!-- paywall -->\n\nThe analysis after the cut."
    publish(slug="summed", summary="Who buys what.", body=body)
    publish(slug="bare", summary="", body=body)
    counts = {}
    for slug in ("summed", "bare"):
        client.get(f"/reports/{slug}")  # the report's rows are kept after the first read
        with statements() as sent:
            page = client.get(f"/reports/{slug}")
        assert page.status_code == 200
        counts[slug] = len(sent)
    assert 'content="A lead anyone may read.' in page.text  # bare: the preview describes it
    assert "analysis after the cut" not in page.text
    assert counts["bare"] == counts["summed"], counts
