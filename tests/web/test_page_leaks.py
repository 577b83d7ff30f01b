"""R-A2 on the pages: a reader without full access never receives text from after the cut,
not in the body, the title, the meta description, Open Graph, JSON-LD or a search snippet;
and what crawlers read is the preview for everyone, the entitled included."""

from __future__ import annotations

import pytest

from tests.web.reader_support import grant_comp, page_head, section, sign_in

SECRET_SENTENCE = "The ambassador quietly signed the zanzibarite accord at midnight."
SECRET_WORD = "zanzibarite"
SECRET_NOTE = "Quixotrel Archive"
OPEN_SENTENCE = "A lead that cites a public source."
BODY = f"""{OPEN_SENTENCE}[^open]

A second paragraph before the cut.

<!-- paywall -->

## After the cut

{SECRET_SENTENCE}[^closed]

[^open]: Open Bulletin, No. 4, 2026.
[^closed]: {SECRET_NOTE}, file 12, 2026.
"""


@pytest.fixture
def secret_report(publish) -> dict:
    fields = {"summary": "", "tags": ["cut"], "authors": ["A. Writer"]}
    return publish(title="Cut test", slug="cut-test", body=BODY, **fields)


def assert_nothing_after_the_cut(html: str, where: str) -> None:
    assert SECRET_WORD not in html.lower(), f"{where} leaks a word from after the cut"
    assert SECRET_NOTE not in html, f"{where} leaks the note cited after the cut"
    assert "After the cut" not in html, f"{where} leaks the heading after the cut"


def test_anonymous_subscribers_page_ends_in_the_paywall_and_carries_nothing_after_the_cut(
    client, secret_report
):
    response = client.get("/reports/cut-test")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert OPEN_SENTENCE in html
    assert_nothing_after_the_cut(html, "the anonymous page")
    paywall = section(html, "paywall")
    assert "<h2" in paywall
    assert (
        "The full text of this report is available to subscribers. "
        "Please log in or register to request subscription information."
    ) in paywall
    assert 'href="http://folio.test/login?next=/reports/cut-test">Log in<' in paywall
    assert 'href="http://folio.test/register?next=/reports/cut-test">Register<' in paywall
    assert (
        'href="http://folio.test/account#request-subscription">Request subscription information<'
    ) in paywall
    assert "Threat Pro" in paywall and "29.00 USD a month" in paywall
    # The preview's text comes before the box; nothing of the report comes after it.
    assert html.index(OPEN_SENTENCE) < html.index('<aside class="paywall"')


def test_meta_open_graph_and_json_ld_come_from_the_preview_when_there_is_no_summary(
    client, secret_report
):
    title, meta, json_ld = page_head(client.get("/reports/cut-test").text)
    assert title.startswith("Cut test")
    assert meta["description"][0].startswith(OPEN_SENTENCE)
    assert meta["og:description"] == meta["description"]
    assert meta["og:url"] == ["http://folio.test/reports/cut-test"]
    assert meta["og:title"] == ["Cut test"]
    (article,) = json_ld
    assert article["@type"] == "Report"
    assert article["headline"] == "Cut test"
    assert article["isAccessibleForFree"] is False
    assert article["author"] == [{"@type": "Person", "name": "A. Writer"}]
    assert article["description"] == meta["description"][0]
    for text in [title, *sum(meta.values(), []), str(article)]:
        assert_nothing_after_the_cut(text, "the page head")


def test_entitled_reader_reads_the_full_text_privately_under_the_same_preview_meta(
    client, secret_report, admin, reader, catalog
):
    anonymous_head = page_head(client.get("/reports/cut-test").text)
    grant_comp(client, admin, reader, catalog.tier)
    sign_in(client, reader)
    response = client.get("/reports/cut-test")
    assert response.status_code == 200
    assert response.headers["cache-control"].startswith("private")
    assert "etag" not in response.headers
    html = response.text
    assert SECRET_SENTENCE in html and SECRET_NOTE in html
    assert '<aside class="paywall"' not in html
    assert page_head(html) == anonymous_head
    title, meta, json_ld = page_head(html)
    for text in [title, *sum(meta.values(), []), str(json_ld)]:
        assert_nothing_after_the_cut(text, "the entitled page's head")


def test_signed_in_reader_without_subscription_is_told_why_and_sees_no_more(
    client, secret_report, reader
):
    sign_in(client, reader)
    response = client.get("/reports/cut-test")
    assert response.headers["cache-control"].startswith("private")
    paywall = section(response.text, "paywall")
    assert 'data-reason="subscription_required"' in response.text
    assert "no subscription that includes Threat Monitor" in paywall
    assert ">Log in<" not in paywall
    assert "Request subscription information" in paywall
    assert_nothing_after_the_cut(response.text, "a signed-in reader's preview")


def test_search_page_finds_a_word_after_the_cut_but_shows_only_the_preview(client, secret_report):
    response = client.get("/search", params={"q": SECRET_WORD})
    assert response.status_code == 200
    assert 'href="/reports/cut-test"' in response.text
    # The query is echoed in the search boxes and the heading; the results never carry it.
    results = response.text.split('<div class="list">', 1)[1]
    assert SECRET_WORD not in results.lower()
    assert OPEN_SENTENCE.split()[0] in results  # a snippet from the preview is shown
    assert SECRET_NOTE not in response.text and "ambassador" not in response.text


def test_entitled_search_page_highlights_the_word_after_the_cut(
    client, secret_report, admin, reader, catalog
):
    grant_comp(client, admin, reader, catalog.tier)
    sign_in(client, reader)
    response = client.get("/search", params={"q": SECRET_WORD})
    assert f"<mark>{SECRET_WORD}</mark>" in response.text
    assert response.headers["cache-control"].startswith("private")


def test_json_ld_cannot_close_its_script_element(client, publish):
    hostile = "</script><script>alert(1)</script> & <!-- more"
    publish(slug="hostile", title=hostile, summary=hostile, authors=[hostile])
    html = client.get("/reports/hostile").text
    script = html.split('<script type="application/ld+json">', 1)[1].split("</script>", 1)[0]
    assert "<" not in script and ">" not in script and "&" not in script
    assert "\\u003c/script\\u003e" in script
    assert "<script>alert(1)" not in html
    (article,) = page_head(html)[2]
    assert article["headline"] == hostile


@pytest.mark.parametrize("who", ["anonymous", "reader"])
def test_no_reader_page_carries_text_after_the_cut(client, secret_report, reader, who):
    if who == "reader":
        sign_in(client, reader)
    pages = [
        "/",
        "/collections/threat-monitor",
        "/reports/cut-test",
        "/tags/cut",
        f"/search?q={SECRET_WORD}",
        "/search?q=ambassador+signed",
        "/sitemap.xml",
        "/robots.txt",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        text = response.text
        if "/search" in url:
            text = text.split('<div class="list">', 1)[-1]  # the query itself is echoed above
        assert_nothing_after_the_cut(text, f"{url} as {who}")
        assert "ambassador" not in text.lower(), url


def test_a_report_all_after_the_cut_is_described_by_its_title(client, publish):
    body = f"<!-- paywall -->\n\n{SECRET_SENTENCE}"
    publish(slug="all-closed", title="Closed report", summary="", body=body)
    html = client.get("/reports/all-closed").text
    _, meta, json_ld = page_head(html)
    assert meta["description"] == ["Closed report"]
    assert_nothing_after_the_cut(html, "a report cut at its start")
