"""What a search hit says about its report: the list item's fields, read with the ranking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient


def _hits(client: TestClient, q: str, headers: dict | None = None) -> list[dict]:
    response = client.get("/api/v1/search", params={"q": q}, headers=headers or {})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_a_hit_carries_the_list_item_of_its_report(client, publish, catalog):
    report = publish(
        slug="tagged",
        title="Cable repair ships",
        summary="Who mends the cables.",
        body="Repair crews sail within days.",
        tags=["sanctions", "Cable", "maritime"],
        collection=catalog.other_collection,
    )
    [hit] = _hits(client, "repair")
    assert hit == {
        "slug": "tagged",
        "title": "Cable repair ships",
        "summary": "Who mends the cables.",
        "collection": catalog.other_collection,
        "published_at": report["published_at"],
        "access_level": "subscribers",
        "complimentary": False,
        "tags": ["cable", "maritime", "sanctions"],
        "snippet": hit["snippet"],
        "access": "preview",
    }
    assert "+00:00" in hit["published_at"] or hit["published_at"].endswith("Z")


def test_a_hit_without_tags_has_an_empty_list(client, publish):
    publish(slug="bare", title="Untagged tanker notes", access_level="public")
    assert [h["tags"] for h in _hits(client, "tanker")] == [[]]


def test_each_hit_has_its_own_tags(client, publish):
    publish(slug="one", title="Grid notes one", access_level="public", tags=["power"])
    publish(slug="two", title="Grid notes two", access_level="public", tags=["water", "gas"])
    assert {h["slug"]: h["tags"] for h in _hits(client, "grid")} == {
        "one": ["power"],
        "two": ["gas", "water"],
    }


def test_a_report_free_after_a_past_instant_is_a_complimentary_full_hit(client, publish):
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    publish(slug="freed", title="Freed dossier on smelters", free_after=past)
    publish(slug="paid", title="Paid dossier on smelters")
    hits = {h["slug"]: h for h in _hits(client, "smelters")}
    assert (hits["freed"]["complimentary"], hits["freed"]["access"]) == (True, "full")
    assert (hits["paid"]["complimentary"], hits["paid"]["access"]) == (False, "preview")


def test_staff_find_a_draft_and_readers_do_not(client, publish, admin):
    publish(slug="draft", title="Draft on quarries", status="draft")
    assert [h["slug"] for h in _hits(client, "quarries", admin.headers)] == ["draft"]
    assert _hits(client, "quarries") == []
