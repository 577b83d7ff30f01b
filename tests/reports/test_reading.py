"""Reading reports: visibility (R-A3), free_after, caching headers, lists and pagination."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.models import utcnow

FUTURE = (datetime.now(UTC) + timedelta(days=30)).isoformat()
PAST = (datetime.now(UTC) - timedelta(days=2)).isoformat()


@pytest.mark.parametrize(
    "fields",
    [{"status": "draft"}, {"status": "scheduled", "published_at": FUTURE}],
    ids=["draft", "scheduled"],
)
def test_unpublished_reports_are_404_to_readers_and_visible_to_editors(
    client, publish, reader, editor, fields
):
    publish(slug="hidden", title="Hidden", **fields)
    assert client.get("/api/v1/reports/hidden").status_code == 404
    assert client.get("/api/v1/reports/hidden", headers=reader.headers).status_code == 404
    assert client.get("/api/v1/reports").json()["items"] == []
    assert client.get("/api/v1/search", params={"q": "hidden"}).json()["items"] == []
    assert "Hidden" not in client.get("/feeds/rss.xml").text
    as_editor = client.get("/api/v1/reports/hidden", headers=editor.headers)
    assert as_editor.status_code == 200 and as_editor.json()["access"] == "full"
    listed = client.get("/api/v1/reports", headers=editor.headers).json()["items"]
    assert [r["slug"] for r in listed] == ["hidden"]


def test_scheduled_report_goes_live_when_its_time_comes(client, publish):
    publish(slug="due", status="scheduled", published_at=PAST)
    assert client.get("/api/v1/reports/due").status_code == 200


def test_report_whose_free_after_passed_reads_as_complimentary(client, publish):
    publish(slug="aged", body="One.\n\n<!-- paywall -->\n\nLateword.", free_after=PAST)
    body = client.get("/api/v1/reports/aged").json()
    assert body["access"] == "full" and body["complimentary"] is True
    assert "Lateword" in body["body_html"] and body["paywall"] is None
    listed = client.get("/api/v1/reports").json()["items"][0]
    assert listed["complimentary"] is True


def test_complimentary_report_is_full_for_anonymous(client, publish):
    publish(slug="gift", body="One.\n\n<!-- paywall -->\n\nGiftword.", complimentary=True)
    body = client.get("/api/v1/reports/gift").json()
    assert body["access"] == "full" and "Giftword" in body["body_html"]


def test_registered_report_is_full_for_a_verified_reader(client, publish, reader):
    publish(slug="reg", access_level="registered", body="One.\n\n<!-- paywall -->\n\nRegword.")
    anonymous = client.get("/api/v1/reports/reg").json()
    assert anonymous["paywall"]["reason"] == "login_required"
    member = client.get("/api/v1/reports/reg", headers=reader.headers).json()
    assert member["access"] == "full" and "Regword" in member["body_html"]


def test_subscribers_report_tells_a_reader_to_subscribe(client, publish, reader, catalog):
    publish(slug="subs")
    paywall = client.get("/api/v1/reports/subs", headers=reader.headers).json()["paywall"]
    assert paywall["reason"] == "subscription_required"
    assert {t["slug"] for t in paywall["tiers"]} == {catalog.tier, catalog.all_access_tier}
    assert paywall["login_url"].startswith("http://folio.test/login")


def test_comp_revoked_takes_effect_on_the_next_request(client, publish, admin, reader, catalog):
    publish(slug="subs")
    comp = client.post(
        f"/api/v1/admin/users/{reader.id}/comps", headers=admin.headers, json={"tier": catalog.tier}
    ).json()
    assert client.get("/api/v1/reports/subs", headers=reader.headers).json()["access"] == "full"
    assert (
        client.delete(f"/api/v1/admin/comps/{comp['id']}", headers=admin.headers).status_code == 204
    )
    assert client.get("/api/v1/reports/subs", headers=reader.headers).json()["access"] == "preview"


def test_comp_for_another_collection_does_not_open_this_one(client, publish, admin, reader):
    client.post(
        "/api/v1/admin/tiers",
        headers=admin.headers,
        json={"slug": "cyber-only", "name": "Cyber", "collections": ["cyber-lab"]},
    )
    client.post(
        f"/api/v1/admin/users/{reader.id}/comps", headers=admin.headers, json={"tier": "cyber-only"}
    )
    publish(slug="subs")
    assert client.get("/api/v1/reports/subs", headers=reader.headers).json()["access"] == "preview"


def test_anonymous_preview_is_publicly_cacheable_with_an_etag(client, publish):
    publish(slug="subs")
    response = client.get("/api/v1/reports/subs")
    assert response.headers["cache-control"].startswith("public, max-age=")
    assert int(response.headers["cache-control"].split("max-age=")[1]) <= 300
    assert response.headers["vary"] == "Authorization, Cookie"
    etag = response.headers["etag"]
    again = client.get("/api/v1/reports/subs", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""


def test_full_and_personal_reads_are_private(client, publish, reader, admin, catalog):
    publish(slug="subs")
    publish(slug="open", access_level="public")
    anonymous_full = client.get("/api/v1/reports/open")
    assert anonymous_full.headers["cache-control"].startswith("private")
    personal_preview = client.get("/api/v1/reports/subs", headers=reader.headers)
    assert personal_preview.headers["cache-control"].startswith("private")
    assert "etag" not in personal_preview.headers
    for response in (anonymous_full, personal_preview):
        assert response.headers["vary"] == "Authorization, Cookie"


def test_organization_ip_read_is_never_publicly_cached(client, publish, admin, catalog):
    from app.db import session_scope
    from app.models import Organization, Tier

    publish(slug="subs")
    with session_scope() as session:
        tier = session.query(Tier).filter_by(slug=catalog.tier).one()
        session.add(Organization(name="Campus", tier_id=tier.id, ip_ranges=["10.20.0.0/16"]))
    from fastapi.testclient import TestClient

    from app.main import create_app

    with TestClient(create_app(), client=("10.20.3.4", 5000)) as campus:
        response = campus.get("/api/v1/reports/subs")
    assert response.json()["access"] == "full"
    assert response.headers["cache-control"].startswith("private")


def test_list_is_newest_first_with_opaque_cursors(client, publish):
    base = utcnow() - timedelta(days=10)
    same_instant = (base + timedelta(days=5)).isoformat()
    for i in range(7):
        # Two reports share an instant: the id breaks the tie without skipping either.
        at = same_instant if i in (3, 4) else (base + timedelta(days=i)).isoformat()
        publish(slug=f"r{i}", title=f"R{i}", published_at=at)
    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = client.get("/api/v1/reports", params=params).json()
        seen += [item["slug"] for item in page["items"]]
        assert all("body" not in item and "body_html" not in item for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["r6", "r5", "r4", "r3", "r2", "r1", "r0"]


def test_list_filters_by_collection_and_tag(client, publish, catalog):
    publish(slug="a", tags=["drones", "Sahel"])
    publish(slug="b", collection=catalog.other_collection, tags=["ransomware"])
    by_collection = client.get("/api/v1/reports", params={"collection": catalog.other_collection})
    assert [r["slug"] for r in by_collection.json()["items"]] == ["b"]
    by_tag = client.get("/api/v1/reports", params={"tag": "sahel"}).json()["items"]
    assert [r["slug"] for r in by_tag] == ["a"] and by_tag[0]["tags"] == ["drones", "sahel"]


def test_collections_and_tiers_are_public(client, catalog):
    collections = client.get("/api/v1/collections").json()
    assert {c["slug"] for c in collections} == {catalog.collection, catalog.other_collection}
    tiers = {t["slug"]: t for t in client.get("/api/v1/tiers").json()}
    assert tiers[catalog.tier]["prices"][0] == {
        "interval": "month",
        "amount": 2900,
        "currency": "usd",
    }
    assert "stripe_price_id" not in tiers[catalog.tier]["prices"][0]
