"""R-A2 through search: after the cut, a query learns only whether each of its words is there.

Words are runs of letters and digits. No phrase, adjacency, NEAR, prefix, OR, negation or
column filter reaches the text after the cut, so word order there is never revealed, and
search is limited per client (429 with Retry-After).
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from app.config import get_settings
from app.main import create_app

PREVIEW = "Kestrel logistics hubs opened along the coast in March."
AFTER_CUT = (
    "Analysts saw quillmoss varnette orbisk trucks near the border, or so they wrote. "
    "A state-sponsored crew used relay.example.net and build 4.2.1."
)
BODY = f"{PREVIEW}\n\n<!-- paywall -->\n\n{AFTER_CUT}"
RIGHT = ("quillmoss", "varnette", "orbisk")  # adjacent, in this order, only after the cut
WRONG = ("orbisk", "quillmoss", "varnette")
REPORT_WORDS = {w.lower() for w in re.findall(r"[^\W_]+", f"Coastal notes Field notes {BODY}")}


@pytest.fixture
def cut_report(publish) -> dict:
    return publish(slug="cut-report", title="Coastal notes", summary="Field notes.", body=BODY)


def _slugs(client: TestClient, q: str, headers: dict | None = None) -> list[str]:
    response = client.get("/api/v1/search", params={"q": q}, headers=headers or {})
    assert response.status_code == 200, (q, response.text)
    return [hit["slug"] for hit in response.json()["items"]]


def _plain_words(q: str) -> str:
    return " ".join(re.findall(r"[^\W_]+", q))


ORDER_PROBES = {
    "words": lambda w: " ".join(w),
    "underscore-joined": lambda w: "_".join(w),
    "quoted phrase": lambda w: '"' + " ".join(w) + '"',
    "hyphen-joined": lambda w: "-".join(w),
    "dot-joined": lambda w: ".".join(w),
    "slash-joined": lambda w: "/".join(w),
    "NEAR": lambda w: "NEAR(" + " ".join(w) + ")",
    "NEAR with distance": lambda w: "NEAR(" + " ".join(w) + ", 0)",
    "fts5 plus concatenation": lambda w: " + ".join(w),
    "fts5 column filter": lambda w: "full_text: " + '"' + " ".join(w) + '"',
    "fts5 initial token": lambda w: "^" + " ".join(w),
    "websearch negation": lambda w: f"{w[0]} -{w[1]} {w[2]}",
    "tsquery followed-by": lambda w: " <-> ".join(w),
}


@pytest.mark.parametrize("probe", ORDER_PROBES, ids=list(ORDER_PROBES))
def test_anonymous_search_answers_the_same_for_either_word_order(client, cut_report, probe):
    build = ORDER_PROBES[probe]
    right, wrong = build(RIGHT), build(WRONG)
    assert _slugs(client, right) == _slugs(client, wrong), (right, wrong)
    # The answer is that of the query's bare words: found when each of them is in the report.
    present = all(word.lower() in REPORT_WORDS for word in _plain_words(right).split())
    assert _slugs(client, right) == _slugs(client, _plain_words(right))
    assert _slugs(client, right) == (["cut-report"] if present else [])


@pytest.mark.parametrize(
    "q",
    [
        "quillmoss OR absentword",
        "absentword OR quillmoss",
        "absentword | quillmoss",
        "quillmoss absentword",
    ],
)
def test_every_word_is_required_so_or_says_nothing_more(client, cut_report, q):
    assert _slugs(client, q) == []


@pytest.mark.parametrize("q", ["quill*", "quill", "quillmo", "varn*", "quillmo:*", "quill%"])
def test_a_partial_word_after_the_cut_finds_nothing(client, cut_report, q):
    assert _slugs(client, q) == []


@pytest.mark.parametrize("q", ["title:quillmoss", "{title summary}: quillmoss", "quillmoss^"])
def test_column_filters_and_syntax_characters_are_words(client, cut_report, q):
    # A filter word ("title") is looked up as a word: absent here, so nothing is found.
    expected = ["cut-report"] if q == "quillmoss^" else []
    assert _slugs(client, q) == expected


@pytest.mark.parametrize(
    ("right", "wrong"),
    [
        ("state-sponsored", "sponsored-state"),
        ("relay.example.net", "net.example.relay"),
        ("build 4.2.1", "build 1.2.4"),
    ],
)
def test_words_joined_in_the_text_are_still_only_words(client, cut_report, right, wrong):
    # A hyphenated word, a host or a version after the cut is its words, in no order.
    assert _slugs(client, right) == _slugs(client, wrong) == ["cut-report"]


def test_words_in_the_preview_are_found_in_either_order(client, cut_report):
    assert _slugs(client, "kestrel logistics") == ["cut-report"]
    assert _slugs(client, "logistics kestrel") == ["cut-report"]
    assert _slugs(client, "kestrel absentword") == []


def test_a_word_only_after_the_cut_finds_the_report_with_a_preview_snippet(client, cut_report):
    hits = client.get("/api/v1/search", params={"q": "varnette"}).json()["items"]
    assert [h["slug"] for h in hits] == ["cut-report"]
    assert hits[0]["access"] == "preview"
    snippet_words = set(re.findall(r"[^\W_]+", re.sub(r"</?mark>", "", hits[0]["snippet"])))
    assert snippet_words, "the snippet shows the preview"
    assert snippet_words <= set(re.findall(r"[^\W_]+", PREVIEW))


def test_an_entitled_reader_gets_the_full_text_snippet_and_the_same_word_rules(
    client, cut_report, admin, reader, catalog
):
    granted = client.post(
        f"/api/v1/admin/users/{reader.id}/comps", headers=admin.headers, json={"tier": catalog.tier}
    )
    assert granted.status_code == 201
    hits = client.get("/api/v1/search", params={"q": "varnette"}, headers=reader.headers).json()[
        "items"
    ]
    assert hits[0]["access"] == "full"
    assert "<mark>varnette</mark>" in hits[0]["snippet"].lower()
    # Bag of words for everyone: the order of the words does not matter to subscribers either.
    right, wrong = '"quillmoss varnette"', '"varnette quillmoss"'
    assert _slugs(client, right, reader.headers) == _slugs(client, wrong, reader.headers)


def test_how_often_a_word_occurs_after_the_cut_does_not_rank(client, publish):
    # Same title, summary and preview; only the count of a word after the cut differs. If
    # the count ranked, the older report with ten of them would come first.
    tail = "Ordinary closing text."
    often = publish(
        slug="often", body="Open lead.\n\n<!-- paywall -->\n\n" + "Zephyrite " * 10 + tail
    )
    once = publish(slug="once", body="Open lead.\n\n<!-- paywall -->\n\nZephyrite. " + tail)
    assert often["slug"] == "often" and once["slug"] == "once"
    assert _slugs(client, "zephyrite") == ["once", "often"]  # newest first, as on a tie


@pytest.fixture
def search_app(monkeypatch: pytest.MonkeyPatch):
    """A new app (so a new throttle) allowing three searches per minute per client."""
    monkeypatch.setenv("FOLIO_SEARCH_REQUESTS_PER_MINUTE", "3")
    get_settings.cache_clear()
    app = create_app()
    yield app
    get_settings.cache_clear()


def _client(app, ip: str) -> TestClient:
    return TestClient(app, base_url="http://folio.test", client=(ip, 50000))


def test_search_is_limited_per_client_ip(search_app, cut_report):
    with _client(search_app, "203.0.113.5") as first, _client(search_app, "198.51.100.9") as other:
        for _ in range(3):
            assert first.get("/api/v1/search", params={"q": "kestrel"}).status_code == 200
        refused = first.get("/api/v1/search", params={"q": "kestrel"})
        assert refused.status_code == 429
        assert refused.json()["detail"]
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert "kestrel" not in refused.text.lower()
        assert other.get("/api/v1/search", params={"q": "kestrel"}).status_code == 200


def test_search_is_limited_per_member_not_per_shared_address(search_app, cut_report, reader):
    with _client(search_app, "203.0.113.5") as office:
        for _ in range(3):
            response = office.get("/api/v1/search", params={"q": "kestrel"}, headers=reader.headers)
            assert response.status_code == 200
        refused = office.get("/api/v1/search", params={"q": "kestrel"}, headers=reader.headers)
        assert refused.status_code == 429
        assert "retry-after" in refused.headers
        # An anonymous colleague behind the same address still searches.
        assert office.get("/api/v1/search", params={"q": "kestrel"}).status_code == 200
