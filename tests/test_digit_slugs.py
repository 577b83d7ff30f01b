"""A reference that is all digits reads as an id (tiers are named by slug or id): no slug
may be all digits, and a slug made from a title of digits is not."""

from __future__ import annotations

from sqlalchemy import func, select

from app.content import slugify
from app.db import session_scope
from app.models import AuditEntry, Collection, Report, Tier


def _counts() -> tuple[int, ...]:
    with session_scope(write=False) as session:
        return tuple(
            session.execute(select(func.count()).select_from(model)).scalar_one()
            for model in (Collection, Tier, Report, AuditEntry)
        )


def test_an_all_digit_slug_is_refused_everywhere(client, admin, catalog, publish):
    publish(slug="existing")
    before = _counts()
    attempts = [
        ("post", "/api/v1/admin/collections", {"slug": "2027", "name": "N"}),
        ("patch", f"/api/v1/admin/collections/{catalog.collection}", {"slug": "2027"}),
        ("post", "/api/v1/admin/tiers", {"slug": "1", "name": "T"}),
        ("patch", f"/api/v1/admin/tiers/{catalog.tier}", {"slug": "42"}),
        ("post", "/api/v1/admin/reports", {"slug": "2027", "title": "t", "collection": "x"}),
        ("patch", "/api/v1/admin/reports/existing", {"slug": "007"}),
    ]
    for method, url, body in attempts:
        response = getattr(client, method)(url, headers=admin.headers, json=body)
        assert response.status_code == 422, (url, response.text)
        assert "all digits" in str(response.json()["detail"]), url
    assert _counts() == before
    tier = client.get("/api/v1/admin/tiers", headers=admin.headers).json()[0]
    assert tier["slug"] == catalog.tier


def test_a_title_of_digits_gets_a_slug_that_is_not_all_digits(client, admin, catalog):
    response = client.post(
        "/api/v1/admin/reports",
        headers=admin.headers,
        json={"title": "2027", "collection": catalog.collection},
    )
    assert response.status_code == 201, response.text
    slug = response.json()["slug"]
    assert slug == "report-2027"
    assert client.get(f"/api/v1/admin/reports/{slug}", headers=admin.headers).status_code == 200


def test_slugify_never_returns_only_digits():
    assert slugify("2027") == "report-2027"
    assert slugify("  2027 !") == "report-2027"
    assert slugify("2027: the outlook") == "2027-the-outlook"
    for max_length in range(1, 12):
        slug = slugify("1234567890", max_length=max_length)
        assert not slug.isdigit() and 0 < len(slug) <= max_length, (max_length, slug)
