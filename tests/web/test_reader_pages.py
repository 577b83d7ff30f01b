"""The reader's pages: home, collections, reports, tags and search, as HTML over HTTP."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.web.reader_support import section, sign_in

FUTURE = (datetime.now(UTC) + timedelta(days=30)).isoformat()
PAST = (datetime.now(UTC) - timedelta(days=2)).isoformat()


def cards(html: str) -> list[str]:
    """The report slugs a list page links as cards, in order."""
    return re.findall(r'<h[23]><a href="/reports/([^"]+)">', html)


def test_home_lists_live_reports_by_collection_and_never_a_draft(client, publish, catalog):
    publish(slug="lab-note", title="Lab note", collection=catalog.other_collection)
    publish(slug="monitor-one", title="Monitor one", summary="First look.", tags=["Maritime"])
    publish(slug="monitor-draft", title="Monitor draft", status="draft")
    publish(slug="monitor-later", title="Monitor later", status="scheduled", published_at=FUTURE)
    response = client.get("/")
    assert response.status_code == 200
    html = response.text
    assert cards(html) == ["lab-note", "monitor-one"]  # Cyber Lab sorts before Threat Monitor
    assert '<a href="/collections/threat-monitor">Threat Monitor</a>' in html
    assert '<a href="/collections/cyber-lab">Cyber Lab</a>' in html
    assert "First look." in html and '<a class="tag" href="/tags/maritime">maritime</a>' in html
    assert ">Subscribers<" in html
    assert "Monitor draft" not in html and "Monitor later" not in html
    assert response.headers["cache-control"].startswith("public")


def test_access_badges_name_each_kind_of_report(client, publish):
    publish(slug="free-one", access_level="public")
    publish(slug="reg-one", access_level="registered")
    publish(slug="gift-one", complimentary=True)
    publish(slug="aged-one", free_after=PAST)
    html = client.get("/").text
    card = r'class="badge[^"]*">([^<]+)</span>.*?<a href="/reports/([^"]+)"'
    found = re.findall(card, html, re.S)
    assert {slug: badge for badge, slug in found} == {
        "free-one": "Free",
        "reg-one": "Registered",
        "gift-one": "Complimentary",
        "aged-one": "Complimentary",
    }


def test_signed_in_home_is_private_and_offers_log_out(client, publish, reader):
    publish(slug="monitor-one")
    sign_in(client, reader)
    response = client.get("/")
    assert response.headers["cache-control"].startswith("private")
    assert 'action="/logout"' in response.text and 'name="csrftoken"' in response.text


def test_anonymous_pages_carry_no_form_token_or_cookie(client, publish):
    publish(slug="monitor-one")
    for url in ("/", "/collections/threat-monitor", "/reports/monitor-one"):
        response = client.get(url)
        assert 'name="csrftoken"' not in response.text, url
        assert "set-cookie" not in response.headers, url


def test_collection_page_shows_its_description_and_reports_newest_first(client, publish, catalog):
    publish(slug="older", title="Older")
    publish(slug="newer", title="Newer")
    publish(slug="elsewhere", collection=catalog.other_collection)
    response = client.get("/collections/threat-monitor")
    assert response.status_code == 200
    assert "<h1>Threat Monitor</h1>" in response.text
    assert "Threat Monitor covers its field." in response.text
    assert cards(response.text) == ["newer", "older"]
    assert "Older reports" not in response.text


def test_collection_page_pages_older_reports_with_the_api_cursor(client, publish):
    for n in range(21):
        publish(slug=f"r{n:02d}", title=f"Report {n}")
    first = client.get("/collections/threat-monitor")
    assert cards(first.text) == [f"r{n:02d}" for n in range(20, 0, -1)]
    link = re.search(r'<a rel="next" href="([^"]+)">Older reports</a>', first.text)
    assert link, "no Older reports link"
    api_cursor = client.get(
        "/api/v1/reports", params={"collection": "threat-monitor", "limit": 20}
    ).json()["next_cursor"]
    assert link.group(1) == f"/collections/threat-monitor?cursor={api_cursor}"
    second = client.get(link.group(1))
    assert cards(second.text) == ["r00"]
    assert "Older reports" not in second.text and 'content="noindex, follow"' in second.text


@pytest.mark.parametrize(
    "url", ["/collections/nope", "/reports/nope", "/tags/nothing-here", "/reports/" + "x" * 300]
)
def test_unknown_pages_are_html_404s(client, catalog, url):
    response = client.get(url)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "<h1>Page not found</h1>" in response.text


@pytest.mark.parametrize(
    "fields",
    [{"status": "draft"}, {"status": "scheduled", "published_at": FUTURE}],
    ids=["draft", "scheduled"],
)
def test_unpublished_report_page_is_404_to_readers_and_shown_to_editors(
    client, publish, editor, fields
):
    publish(slug="hidden", title="Hidden work", **fields)
    anonymous = client.get("/reports/hidden")
    assert anonymous.status_code == 404 and "Hidden work" not in anonymous.text
    sign_in(client, editor)
    as_editor = client.get("/reports/hidden")
    assert as_editor.status_code == 200 and "Hidden work" in as_editor.text
    assert as_editor.headers["cache-control"].startswith("private")


def test_bad_cursor_is_an_html_400(client, catalog):
    response = client.get("/collections/threat-monitor", params={"cursor": "not-a-cursor"})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert "Invalid cursor" in response.text


def test_report_page_shows_title_authors_date_tags_and_summary_as_lede(client, publish):
    publish(
        slug="full-read",
        title="Ports in winter",
        summary="Ice closes three ports.",
        authors=["Ana Ruiz", "Li Wei"],
        tags=["Shipping"],
        access_level="public",
    )
    html = client.get("/reports/full-read").text
    assert "<h1>Ports in winter</h1>" in html
    assert "By Ana Ruiz, Li Wei" in html
    assert re.search(r'<time datetime="[^"]+">\d{1,2} \w+ \d{4}</time>', html)
    assert '<a class="tag" href="/tags/shipping">shipping</a>' in html
    assert '<p class="lede">Ice closes three ports.</p>' in html
    about = section(html, "collection-about prose")
    assert "Threat Monitor covers its field." in about


def test_anonymous_preview_is_public_with_an_etag_and_answers_304(client, publish):
    publish(slug="subs")
    response = client.get("/reports/subs")
    assert response.headers["cache-control"].startswith("public, max-age=")
    etag = response.headers["etag"]
    again = client.get("/reports/subs", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag


def test_anonymous_full_read_of_a_public_report_is_private(client, publish):
    publish(slug="open", access_level="public")
    assert client.get("/reports/open").headers["cache-control"].startswith("private")


@pytest.mark.parametrize(
    "fields", [{"complimentary": True}, {"free_after": PAST}], ids=["flag", "free-after"]
)
def test_complimentary_report_shows_its_banner_and_the_full_text(client, publish, fields):
    publish(slug="gift", body="Before.\n\n<!-- paywall -->\n\nGiftword after the cut.", **fields)
    html = client.get("/reports/gift").text
    banner = section(html, "banner")
    assert "This report is now a complimentary offering from Threat Monitor." in banner
    assert 'href="/account#request-subscription"' in banner
    assert "Giftword after the cut." in html
    assert '<aside class="paywall"' not in html


def test_footnotes_are_numbered_notes_linked_both_ways(client, publish):
    body = "First claim.[^a] Second claim.[^b] First again.[^a]\n\n[^a]: Note A.\n[^b]: Note B.\n"
    publish(slug="noted", body=body, access_level="public")
    html = client.get("/reports/noted").text
    notes = section(html, "footnotes")
    assert re.search(r'<li id="fn-1" value="1">.*Note A\..*href="#fnref-1"', notes)
    assert re.search(r'<li id="fn-2" value="2">.*Note B\..*href="#fnref-2"', notes)
    assert 'href="#fn-1" id="fnref-1"' in html and 'href="#fn-2" id="fnref-2"' in html
    assert 'href="#fn-1" id="fnref-1-2"' in html  # a second citation of the same note


def test_registered_report_asks_anonymous_readers_to_log_in_or_register(client, publish):
    publish(slug="reg", access_level="registered", body="Open.\n\n<!-- paywall -->\n\nLater.")
    paywall = section(client.get("/reports/reg").text, "paywall")
    assert "available to registered readers" in paywall
    assert ">Log in<" in paywall and ">Register<" in paywall


def test_tag_page_lists_the_reports_with_that_tag(client, publish, catalog):
    publish(slug="tagged", title="Tagged one", tags=["Red Sea"])
    publish(slug="tagged-lab", tags=["red sea"], collection=catalog.other_collection)
    publish(slug="untagged", title="Untagged one", tags=["other"])
    publish(slug="tagged-draft", tags=["red sea"], status="draft")
    response = client.get("/tags/red%20sea")
    assert response.status_code == 200
    assert "Reports tagged “red sea”" in response.text
    assert cards(response.text) == ["tagged-lab", "tagged"]
    assert client.get("/tags/Red%20Sea").status_code == 200


def test_tag_with_a_slash_links_to_its_own_page(client, publish):
    publish(slug="slashed", tags=["a/b"])
    html = client.get("/reports/slashed").text
    assert '<a class="tag" href="/tags/a%2Fb">a/b</a>' in html
    assert cards(client.get("/tags/a%2Fb").text) == ["slashed"]


def test_search_page_without_a_query_is_just_the_form(client, catalog):
    response = client.get("/search")
    assert response.status_code == 200
    assert '<label for="search-q">' in response.text
    assert "results for" not in response.text


def test_search_page_highlights_hits_and_echoes_the_query(client, publish):
    body = "Icebreakers reach the harbour at dawn."
    publish(slug="ice", title="Ice ports", body=body, access_level="public")
    publish(slug="sand", title="Sand", body="Deserts spread.", access_level="public")
    response = client.get("/search", params={"q": "harbour"})
    assert response.status_code == 200
    assert cards(response.text) == ["ice"]
    assert "<mark>harbour</mark>" in response.text
    masthead_box = re.search(r'<input id="site-search"[^>]*>', response.text)
    assert masthead_box and 'value="harbour"' in masthead_box.group(0)
    assert response.headers["cache-control"].startswith("private")


def test_search_page_escapes_the_query_it_echoes(client, catalog):
    response = client.get("/search", params={"q": '"><script>alert(1)</script>'})
    assert response.status_code == 200
    assert "<script>alert(1)" not in response.text
    assert "&lt;script&gt;" in response.text


def test_search_page_for_an_unknown_collection_says_so(client, catalog):
    response = client.get("/search", params={"q": "ice", "collection": "nope"})
    assert response.status_code == 404
    assert "Unknown collection: nope" in response.text


def test_throttled_search_page_shows_the_message_with_429(client_with, publish):
    publish(slug="ice", body="Icebreakers at dawn.")
    throttled = client_with(search_requests_per_minute=1)
    assert throttled.get("/search", params={"q": "dawn"}).status_code == 200
    refused = throttled.get("/search", params={"q": "dawn"})
    assert refused.status_code == 429
    assert "Too many searches" in refused.text
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.headers["content-type"].startswith("text/html")
