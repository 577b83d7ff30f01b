"""What a search costs in statements (R-P1): the ranking with the page's hits, what the
viewer holds (kept per worker while the access generation stands, as for a read), the
snippets. A statement count is behaviour, not timing."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.support.statements import statements
from tests.web.reader_support import sign_in


def _queries(sent: list[str]) -> list[str]:
    # Transaction control and PostgreSQL's per-statement planning setting are not reads.
    return [
        s
        for s in sent
        if not s.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK"))
        and "plan_cache_mode" not in s
    ]


def _search(client, q: str, headers: dict | None = None) -> list[dict]:
    response = client.get("/api/v1/search", params={"q": q}, headers=headers or {})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_a_page_of_hits_costs_the_same_statements_as_one_hit(client, publish):
    publish(slug="one", title="Lone trawler", access_level="public", tags=["fishing"])
    with statements() as sent:
        assert len(_search(client, "trawler")) == 1
    one = len(_queries(sent))
    for n in range(12):
        publish(slug=f"more-{n}", title=f"Trawler {n}", access_level="public", tags=[f"t{n}"])
    with statements() as sent:
        assert len(_search(client, "trawler")) == 13
    assert len(_queries(sent)) == one, sent


def test_a_member_s_second_search_does_not_read_their_holdings_again(client, publish, reader):
    publish(slug="kept", title="Kept trawler", access_level="public", tags=["fishing"])
    with statements() as sent:
        _search(client, "trawler", reader.headers)
    first = _queries(sent)
    with statements() as sent:
        _search(client, "trawler", reader.headers)
    # Who the token's member is, the ranking with the page's hits, the snippets: what the
    # member holds is this worker's copy now, good until a write bumps the access generation.
    assert len(_queries(sent)) == len(first) - 1 == 3, (first, sent)


@pytest.fixture
def comp_revoker(client, publish, admin, reader, catalog) -> Callable[[], None]:
    """A report whose text after the cut says "secret", the reader's comp to its tier, and
    what revokes that comp (through the admin API, as a worker would see it)."""
    publish(
        slug="cut",
        title="Trawler fleets",
        body="Fleets left port.\n\n<!-- paywall -->\n\nThe trawler owners met in secret.",
    )
    granted = client.post(
        f"/api/v1/admin/users/{reader.id}/comps", headers=admin.headers, json={"tier": catalog.tier}
    )
    assert granted.status_code == 201, granted.text

    def revoke() -> None:
        comp = granted.json()["id"]
        revoked = client.delete(f"/api/v1/admin/comps/{comp}", headers=admin.headers)
        assert revoked.status_code in (200, 204), revoked.text

    return revoke


def test_a_revoked_comp_turns_full_snippets_back_into_previews_at_once(
    client, reader, comp_revoker
):
    for _ in range(2):  # the second answer comes from the worker's kept holdings
        [hit] = _search(client, "trawler", reader.headers)
        assert hit["access"] == "full" and "secret" in hit["snippet"]
    comp_revoker()
    [hit] = _search(client, "trawler", reader.headers)
    assert hit["access"] == "preview" and "secret" not in hit["snippet"]


def test_the_search_page_honours_a_revoked_comp_on_its_next_search(client, reader, comp_revoker):
    """The page reads holdings from the same kept copy as the API (R-A1 all the same)."""
    sign_in(client, reader)
    for _ in range(2):  # the second page comes from the worker's kept holdings
        page = client.get("/search", params={"q": "trawler"})
        assert page.status_code == 200 and "secret" in page.text
    comp_revoker()
    page = client.get("/search", params={"q": "trawler"})
    assert page.status_code == 200 and "Trawler fleets" in page.text
    assert "secret" not in page.text
