"""Search ranks only the newest matches (R-P1): the bound, and the ranking within it.

`search_reports(candidates=N)` ranks the newest N matching reports the viewer may see; the
route uses RANKED_CANDIDATES. Here the bound is lowered to a handful of reports.
"""

from __future__ import annotations

import pytest

from app.access import Anonymous
from app.db import session_scope
from app.models import utcnow
from app.reports import search
from app.reports.search import search_reports


def _search(query: str, candidates: int, limit: int = 20) -> list[str]:
    with session_scope() as session:
        hits = search_reports(
            session, Anonymous(), utcnow(), query, limit=limit, candidates=candidates
        )
        return [hit.slug for hit in hits]


def _http(client, query: str) -> list[str]:
    response = client.get("/api/v1/search", params={"q": query})
    assert response.status_code == 200, response.text
    return [hit["slug"] for hit in response.json()["items"]]


@pytest.fixture
def harbour_reports(publish) -> list[str]:
    """Five reports that all mention "harbour"; the oldest one alone mentions "zyxolite"
    and has "harbour" in its title, so only the bound can keep it from a "harbour" search."""
    publish(
        slug="oldest",
        title="Harbour cranes",
        access_level="public",
        body="Harbour cranes were sold with zyxolite coatings.",
    )
    for n in range(1, 5):
        publish(
            slug=f"newer-{n}",
            title=f"Shipping note {n}",
            access_level="public",
            body=f"Note {n} mentions the harbour once.",
        )
    return ["newer-4", "newer-3", "newer-2", "newer-1", "oldest"]


def test_with_every_match_a_candidate_the_title_match_ranks_first(harbour_reports):
    assert _search("harbour", candidates=5) == [
        "oldest",
        "newer-4",
        "newer-3",
        "newer-2",
        "newer-1",
    ]


def test_a_common_word_returns_only_the_newest_candidates(harbour_reports):
    # The title match is older than the newest three matches: not ranked, not returned.
    assert _search("harbour", candidates=3) == ["newer-4", "newer-3", "newer-2"]


def test_an_old_report_is_still_found_by_a_word_only_it_contains(harbour_reports):
    assert _search("zyxolite", candidates=3) == ["oldest"]
    assert _search("harbour zyxolite", candidates=3) == ["oldest"]


def test_the_page_is_the_best_of_the_candidates_not_the_newest(publish):
    for n in range(3):
        publish(slug=f"body-{n}", title=f"Note {n}", access_level="public", body="Once: kelp.")
    publish(slug="titled", title="Kelp farms", access_level="public", body="Farms grew.")
    for n in range(3, 5):
        publish(slug=f"body-{n}", title=f"Note {n}", access_level="public", body="Once: kelp.")
    # The title match is the third newest of six: inside a bound of four, first on the page.
    assert _search("kelp", candidates=4, limit=2) == ["titled", "body-4"]
    assert _search("kelp", candidates=2, limit=2) == ["body-4", "body-3"]


def test_reports_the_viewer_cannot_see_do_not_use_up_the_bound(publish, harbour_reports):
    publish(slug="draft", title="Harbour draft", status="draft", body="Harbour plans.")
    assert _search("harbour", candidates=2) == ["newer-4", "newer-3"]


def test_the_route_ranks_the_newest_ranked_candidates(client, harbour_reports, monkeypatch):
    assert _http(client, "harbour")[0] == "oldest"
    monkeypatch.setattr(search, "RANKED_CANDIDATES", 3)
    assert _http(client, "harbour") == ["newer-4", "newer-3", "newer-2"]
    assert _http(client, "zyxolite") == ["oldest"]
