"""RSS 2.0 feeds that a validator accepts: authors, absolute links, self link, language.

The W3C feed validator (github.com/w3c/feedvalidator, Python 3) runs too when
FOLIO_TEST_FEEDVALIDATOR names a checkout of it (the folder holding `src/feedvalidator`)
and html5lib is installed; otherwise that one test is skipped and the checks below,
written against the RSS 2.0 specification, still run.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from app.config import get_settings

DC = "{http://purl.org/dc/elements/1.1/}"
ATOM = "{http://www.w3.org/2005/Atom}"
URL_ATTRIBUTE = re.compile(r'\s(?:href|src)="([^"]*)"')

BODY = """Lead with a citation.[^1] See [the collection](/collections/threat-monitor),
[a sibling](other-report) and ![a map](/static/map.png "Map").

<!-- paywall -->

Later text.

[^1]: Bulletin, see [the archive](/archive).
"""


@pytest.fixture
def reports(publish, catalog) -> None:
    publish(slug="one", title="One", body=BODY, authors=["A. Writer", "B. Analyst"])
    publish(slug="two", title="Two", access_level="public", collection=catalog.other_collection)


@pytest.fixture
def private_url(client, reader, reports) -> str:
    return client.post("/api/v1/me/feed-token", headers=reader.headers).json()["url"]


def _feed_urls(catalog, private_url: str) -> list[str]:
    return [
        "http://folio.test/feeds/rss.xml",
        f"http://folio.test/feeds/{catalog.collection}.xml",
        private_url,
    ]


def _get(client, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content


def _items(client, url: str) -> list[ET.Element]:
    return ET.fromstring(_get(client, url)).findall("channel/item")


def test_feeds_name_each_author_as_a_dc_creator_never_as_a_bare_author(
    client, reports, catalog, private_url
):
    for url in _feed_urls(catalog, private_url):
        one = next(i for i in _items(client, url) if i.findtext("title") == "One")
        assert [c.text for c in one.findall(f"{DC}creator")] == ["A. Writer", "B. Analyst"], url
        # RSS 2.0: <author> is one email address; names are not addresses.
        assert one.findall("author") == [], url


def test_links_inside_items_are_absolute_against_the_report_page(
    client, reports, catalog, private_url
):
    for url in _feed_urls(catalog, private_url):
        one = next(i for i in _items(client, url) if i.findtext("title") == "One")
        links = URL_ATTRIBUTE.findall(one.findtext("description"))
        assert "http://folio.test/reports/one#fn-1" in links, url
        assert "http://folio.test/collections/threat-monitor" in links, url
        assert "http://folio.test/reports/other-report" in links, url
        assert "http://folio.test/static/map.png" in links, url
        assert all(link.startswith("http://folio.test/") for link in links), (url, links)


def test_feeds_link_to_themselves_and_state_their_language(client, reports, catalog, private_url):
    for url in _feed_urls(catalog, private_url):
        channel = ET.fromstring(_get(client, url)).find("channel")
        selves = [link.attrib for link in channel.findall(f"{ATOM}link")]
        assert selves == [{"href": url, "rel": "self", "type": "application/rss+xml"}], url
        assert channel.findtext("language") == "en", url


def test_feed_language_follows_the_setting(client, reports, monkeypatch):
    monkeypatch.setenv("FOLIO_FEED_LANGUAGE", "fr-CA")
    get_settings.cache_clear()
    channel = ET.fromstring(_get(client, "/feeds/rss.xml")).find("channel")
    assert channel.findtext("language") == "fr-CA"


def test_a_malformed_feed_language_is_refused_at_start(monkeypatch):
    monkeypatch.setenv("FOLIO_FEED_LANGUAGE", "English, mostly")
    get_settings.cache_clear()
    with pytest.raises(ValueError, match="feed_language"):
        get_settings()


# Runs the validator in its own process: importing it changes the socket default timeout.
VALIDATE = """
import json, sys
sys.path.insert(0, sys.argv[1])
import io, feedvalidator
from feedvalidator import compatibility
from feedvalidator.formatter.text_plain import Formatter
found = {}
for url, text in json.load(sys.stdin).items():
    events = feedvalidator.validateStream(
        io.BytesIO(text.encode()), contentType="application/rss+xml; charset=utf-8", base=url
    )["loggedEvents"]
    found[url] = list(Formatter(compatibility.AAA(events)))
print(json.dumps(found))
"""


def _validator_source() -> Path:
    root = os.environ.get("FOLIO_TEST_FEEDVALIDATOR")
    if not root:
        pytest.skip("FOLIO_TEST_FEEDVALIDATOR does not name a w3c/feedvalidator checkout")
    for candidate in (Path(root) / "src", Path(root)):
        if (candidate / "feedvalidator" / "__init__.py").is_file():
            pytest.importorskip("html5lib", reason="the feed validator needs html5lib")
            return candidate
    pytest.fail(f"no feedvalidator package under {root}")


def test_the_w3c_feed_validator_finds_nothing_to_say(client, reports, catalog, private_url):
    source = _validator_source()
    feeds = {url: _get(client, url).decode() for url in _feed_urls(catalog, private_url)}
    ran = subprocess.run(
        [sys.executable, "-c", VALIDATE, str(source)],
        input=json.dumps(feeds),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    said = json.loads(ran.stdout)
    assert said == {url: [] for url in feeds}, json.dumps(said, indent=1)
