"""Every report read records one event in the ledger: the API route, the cached preview
answered before routing, the report page and each full-text item of a private feed; a
spent meter is recorded as meter_exhausted (COUNTER Limit_Exceeded)."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select

from app.db import session_scope
from app.models import ReadingEvent
from app.usage import recorder
from tests.web.reader_support import sign_in

BODY = "A lead anyone may read.\n\n<!-- paywall -->\n\nThe analysis after the cut."


@pytest.fixture
def ledger():
    """An empty ledger: reads of earlier tests (still pending, or written) are cleared."""
    recorder.flush()
    with session_scope() as session:
        session.execute(delete(ReadingEvent))

    def events() -> list[tuple[int, str, str, int | None]]:
        """One tuple a read: a row of identical reads counts `repeats` times."""
        recorder.flush()
        with session_scope() as session:
            rows = session.execute(
                select(
                    ReadingEvent.report_id,
                    ReadingEvent.outcome,
                    ReadingEvent.reason,
                    ReadingEvent.member_id,
                    ReadingEvent.repeats,
                ).order_by(ReadingEvent.id)
            )
            return [tuple(row[:4]) for row in rows for _ in range(row.repeats)]  # type: ignore[misc]

    return events


def test_api_reads_and_cached_previews_are_each_one_event(client, publish, reader, ledger):
    report = publish(slug="r1", body=BODY)
    url = "/api/v1/reports/r1"
    assert client.get(url).status_code == 200  # the route: decided, cached
    cached = client.get(url)  # the fast path, from cached bytes
    assert cached.status_code == 200
    assert client.get(url, headers={"If-None-Match": cached.headers["etag"]}).status_code == 304
    assert client.get(url, headers=reader.headers).status_code == 200
    anonymous = (report["id"], "preview", "login_required", None)
    assert ledger() == [
        anonymous,
        anonymous,
        anonymous,
        (report["id"], "preview", "subscription_required", reader.id),
    ]


def test_a_missing_report_records_nothing(client, catalog, ledger):
    assert client.get("/api/v1/reports/nothing-here").status_code == 404
    assert client.get("/reports/nothing-here").status_code == 404
    assert ledger() == []


def test_the_page_records_its_read(client, publish, reader, ledger):
    report = publish(slug="r1", body=BODY)
    open_report = publish(slug="open", body=BODY, access_level="public")
    assert client.get("/reports/open").status_code == 200
    sign_in(client, reader)
    assert client.get("/reports/r1").status_code == 200
    assert ledger() == [
        (open_report["id"], "full", "public", None),
        (report["id"], "preview", "subscription_required", reader.id),
    ]


def test_a_private_feed_records_each_item_it_carries_in_full(
    client, publish, make_account, admin, catalog, ledger
):
    entitled = publish(slug="entitled", body=BODY)
    other = publish(slug="other", body=BODY, collection=catalog.other_collection)
    open_report = publish(slug="open", body=BODY, access_level="public")
    subscriber = make_account("subscriber@example.org")
    comp = client.post(
        f"/api/v1/admin/users/{subscriber.id}/comps",
        headers=admin.headers,
        json={"tier": catalog.tier},
    )
    assert comp.status_code == 201, comp.text
    feed = client.post("/api/v1/me/feed-token", headers=subscriber.headers).json()["url"]
    assert client.get(feed.removeprefix("http://folio.test")).status_code == 200
    events = ledger()
    assert sorted(events) == sorted(
        [
            (entitled["id"], "full", "entitled", subscriber.id),
            (open_report["id"], "full", "public", subscriber.id),
        ]
    )
    assert other["id"] not in {e[0] for e in events}  # a preview item is not a read


def test_metered_and_meter_exhausted_reads_are_recorded(client_with, publish, reader, ledger):
    metered = client_with(metered_free_reads=1)
    first, second = publish(slug="r1", body=BODY), publish(slug="r2", body=BODY)
    assert metered.get("/api/v1/reports/r1", headers=reader.headers).json()["access"] == "full"
    spent = metered.get("/api/v1/reports/r2", headers=reader.headers).json()
    assert spent["paywall"]["reason"] == "meter_exhausted"
    sign_in(metered, reader)
    assert metered.get("/reports/r2").status_code == 200
    assert ledger() == [
        (first["id"], "full", "metered", reader.id),
        (second["id"], "preview", "meter_exhausted", reader.id),
        (second["id"], "preview", "meter_exhausted", reader.id),
    ]


def test_a_signed_in_read_answered_from_kept_answers_is_still_one_event(
    client, publish, reader, ledger
):
    """The second and third reads are answered before routing from this worker's kept
    answers (app.holdings_cache): no database, and still recorded."""
    report = publish(slug="r1", body=BODY)
    url = "/api/v1/reports/r1"
    for _ in range(3):
        response = client.get(url, headers=reader.headers)
        assert response.status_code == 200 and response.json()["access"] == "preview"
    member_read = (report["id"], "preview", "subscription_required", reader.id)
    assert ledger() == [member_read] * 3
