"""Metered reading (SPEC §4): with FOLIO_METERED_FREE_READS=N a verified reader without an
entitlement reads N distinct subscribers reports in full per rolling 30 days; the meter is
decided inside decide_access, shown as `meter`, and shared by every worker."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from app.access import (
    Access,
    Anonymous,
    Member,
    Meter,
    Reason,
    ReportFacts,
    decide_access,
)
from app.db import session_scope
from app.instants import to_utc
from app.models import MeterRead, utcnow
from tests.reports import test_no_leak as no_leak
from tests.support.app import bearer_for, create_user
from tests.support.served import served
from tests.web.reader_support import sign_in

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
SECRET = "zanzibarite"
BODY = f"A lead anyone may read.\n\n<!-- paywall -->\n\nThe {SECRET} analysis after the cut."
READER = Member(1, "reader@example.org", "reader", True)


def facts(level: str = "subscribers") -> ReportFacts:
    return ReportFacts(level, False, None, 1, "published", NOW - timedelta(days=1))


class Asked:
    """A meter that remembers whether the decision asked for it."""

    def __init__(self, state: Meter) -> None:
        self.state, self.asked = state, False

    def __call__(self) -> Meter:
        self.asked = True
        return self.state


# --- the decision itself (pure) ---


def test_a_free_read_is_full_and_counts_this_report():
    oldest = NOW - timedelta(days=10)
    decision = decide_access(facts(), READER, [], NOW, Asked(Meter(1, 3, False, oldest)))
    assert (decision.access, decision.reason) == (Access.FULL, Reason.METERED)
    assert decision.meter == Meter(2, 3, True, oldest)
    assert decision.meter.resets_at == oldest + timedelta(days=30)


def test_a_spent_meter_is_a_preview_and_a_reread_is_still_free():
    spent = decide_access(facts(), READER, [], NOW, Asked(Meter(3, 3, False, NOW)))
    assert (spent.access, spent.reason) == (Access.PREVIEW, Reason.METER_EXHAUSTED)
    assert spent.meter == Meter(3, 3, False, NOW)
    reread = decide_access(facts(), READER, [], NOW, Asked(Meter(3, 3, True, NOW)))
    assert (reread.reason, reread.meter.used) == (Reason.METERED, 3)


@pytest.mark.parametrize(
    ("viewer", "level", "reason"),
    [
        (Anonymous(), "subscribers", Reason.LOGIN_REQUIRED),
        (Member(2, "new@example.org", "reader", False), "subscribers", Reason.LOGIN_REQUIRED),
        (READER, "registered", Reason.REGISTERED),
        (READER, "public", Reason.PUBLIC),
        (Member(3, "ed@folio.test", "editor", True), "subscribers", Reason.STAFF),
    ],
)
def test_the_meter_is_asked_only_for_a_verified_reader_of_a_subscribers_report(
    viewer, level, reason
):
    meter = Asked(Meter(0, 3))
    decision = decide_access(facts(level), viewer, [], NOW, meter)
    assert decision.reason is reason and decision.meter is None
    assert not meter.asked


def test_metering_off_is_subscription_required():
    assert decide_access(facts(), READER, [], NOW).reason is Reason.SUBSCRIPTION_REQUIRED
    zero = decide_access(facts(), READER, [], NOW, Asked(Meter(0, 0)))
    assert zero.reason is Reason.SUBSCRIPTION_REQUIRED and zero.meter is None


# --- over HTTP ---


@pytest.fixture
def metered(client_with):
    return client_with(metered_free_reads=2)


def read(client, slug: str, headers: dict[str, str] | None = None) -> dict:
    response = client.get(f"/api/v1/reports/{slug}", headers=headers or {})
    assert response.status_code == 200, response.text
    return response.json()


def test_n_free_reads_then_meter_exhausted_and_rereads_are_free(
    metered, publish, make_account, catalog
):
    for slug in ("r1", "r2", "r3"):
        publish(slug=slug, body=BODY)
    publish(slug="reg", body=BODY, access_level="registered")
    publish(slug="open", body=BODY, access_level="public")
    reader = make_account("reader@example.org")
    before = utcnow()

    # Registered and public reports are full without touching the meter.
    for slug in ("reg", "open"):
        body = read(metered, slug, reader.headers)
        assert body["access"] == "full" and body["meter"] is None

    first = read(metered, "r1", reader.headers)
    assert first["access"] == "full" and SECRET in first["body_html"]
    assert first["paywall"] is None
    assert (first["meter"]["used"], first["meter"]["limit"]) == (1, 2)
    resets_at = datetime.fromisoformat(first["meter"]["resets_at"])
    assert before + timedelta(days=30) <= resets_at <= utcnow() + timedelta(days=30)

    assert read(metered, "r1", reader.headers)["meter"]["used"] == 1  # a reread counts once
    second = read(metered, "r2", reader.headers)
    assert second["access"] == "full" and second["meter"]["used"] == 2
    assert second["meter"]["resets_at"] == first["meter"]["resets_at"]  # the oldest read's

    spent = read(metered, "r3", reader.headers)
    assert spent["access"] == "preview" and SECRET not in str(spent)
    assert spent["paywall"]["reason"] == "meter_exhausted"
    assert spent["meter"] == second["meter"]

    again = read(metered, "r1", reader.headers)  # one of the N: still full, still 2
    assert again["access"] == "full" and again["meter"]["used"] == 2

    # The page follows the same decision, and says so.
    sign_in(metered, reader)
    page = metered.get("/reports/r3")
    assert page.status_code == 200
    assert SECRET not in page.text.lower()
    assert 'data-reason="meter_exhausted"' in page.text
    assert "You have read 2 of 2 free reports; resets on" in page.text
    full_page = metered.get("/reports/r2")
    assert SECRET in full_page.text and "You have read 2 of 2 free reports" in full_page.text


def test_anonymous_unverified_and_entitled_readers_see_no_meter(
    metered, publish, make_account, admin, catalog
):
    publish(slug="r1", body=BODY)
    unverified = make_account("new@example.org", verified=False)
    subscriber = make_account("subscriber@example.org")
    comp = metered.post(
        f"/api/v1/admin/users/{subscriber.id}/comps",
        headers=admin.headers,
        json={"tier": catalog.tier},
    )
    assert comp.status_code == 201, comp.text
    for headers in ({}, unverified.headers):
        body = read(metered, "r1", headers)
        assert body["paywall"]["reason"] == "login_required" and body["meter"] is None
    entitled = read(metered, "r1", subscriber.headers)
    assert entitled["access"] == "full" and entitled["meter"] is None
    with session_scope() as session:
        assert session.query(MeterRead).count() == 0


def test_the_window_is_rolling_30_days(metered, publish, make_account):
    ids = {slug: publish(slug=slug, body=BODY)["id"] for slug in ("r1", "r2", "r3")}
    reader = make_account("reader@example.org")
    now = utcnow()
    with session_scope() as session:
        session.add(
            MeterRead(user_id=reader.id, report_id=ids["r1"], read_at=now - timedelta(days=31))
        )
        session.add(
            MeterRead(user_id=reader.id, report_id=ids["r2"], read_at=now - timedelta(days=20))
        )
    # r1's read left the window: reading it again spends a read; r2's still counts.
    body = read(metered, "r1", reader.headers)
    assert body["access"] == "full" and body["meter"]["used"] == 2
    resets_at = datetime.fromisoformat(body["meter"]["resets_at"])
    assert abs(resets_at - to_utc(now + timedelta(days=10))) < timedelta(seconds=5)
    assert read(metered, "r3", reader.headers)["paywall"]["reason"] == "meter_exhausted"


def test_two_app_objects_on_one_database_share_the_meter(client_with, publish, make_account):
    first, second = client_with(metered_free_reads=1), client_with(metered_free_reads=1)
    publish(slug="r1", body=BODY)
    publish(slug="r2", body=BODY)
    reader = make_account("reader@example.org")
    assert read(first, "r1", reader.headers)["access"] == "full"
    assert read(second, "r2", reader.headers)["paywall"]["reason"] == "meter_exhausted"
    assert read(second, "r1", reader.headers)["access"] == "full"


def test_two_apps_racing_on_one_database_hand_out_exactly_n(client_with, publish, make_account):
    apps = [client_with(metered_free_reads=2), client_with(metered_free_reads=2)]
    slugs = [f"race-{n}" for n in range(6)]
    for slug in slugs:
        publish(slug=slug, body=BODY)
    reader = make_account("racer@example.org")
    with ThreadPoolExecutor(max_workers=len(slugs)) as pool:
        bodies = list(
            pool.map(lambda n: read(apps[n % 2], slugs[n], reader.headers), range(len(slugs)))
        )
    assert sum(b["access"] == "full" for b in bodies) == 2
    with session_scope() as session:
        assert session.query(MeterRead).count() == 2


def test_two_workers_racing_for_the_last_reads_hand_out_exactly_n(
    tmp_path, client, publish, catalog
):
    """`folio serve --workers 2`, 8 distinct reports requested at once by one reader with a
    meter of 3: exactly 3 full texts, whichever worker served them."""
    limit, slugs = 3, [f"race-{n}" for n in range(8)]
    for slug in slugs:
        publish(slug=slug, body=BODY)
    reader_id = create_user("racer@example.org")
    headers = bearer_for(reader_id)
    env = {"FOLIO_METERED_FREE_READS": str(limit), "FOLIO_USAGE_RECORDING": "false"}
    with served(tmp_path, workers=2, env=env) as server:

        def get(slug: str) -> dict:
            response = httpx.get(
                f"{server.base}/api/v1/reports/{slug}", headers=headers, timeout=30
            )
            assert response.status_code == 200, response.text
            return response.json()

        with ThreadPoolExecutor(max_workers=len(slugs)) as pool:
            bodies = list(pool.map(get, slugs))
    full = [b for b in bodies if b["access"] == "full"]
    assert len(full) == limit
    assert sorted(b["meter"]["used"] for b in full) == [1, 2, 3]
    assert all(b["paywall"]["reason"] == "meter_exhausted" for b in bodies if b not in full)
    with session_scope() as session:
        assert session.query(MeterRead).count() == limit


def test_a_spent_meter_leaks_nothing_after_the_cut_on_any_get_route(
    client_with, publish, make_account
):
    """R-A2 with metering on: tests/reports/test_no_leak.py's walk of every GET route, as a
    verified reader whose one free read went to another report."""
    metered = client_with(metered_free_reads=1)
    publish(slug="spent-on", body=BODY)
    secret = publish(title="Cut test", slug="cut-test", body=no_leak.BODY, tags=["cut"])
    reader = make_account("reader@example.org")
    assert read(metered, "spent-on", reader.headers)["access"] == "full"
    assert read(metered, "cut-test", reader.headers)["paywall"]["reason"] == "meter_exhausted"
    sign_in(metered, reader)
    for path in no_leak._get_routes(metered):
        url = no_leak._fill_path(path, secret)
        response = metered.get(url, headers=reader.headers, params={"q": no_leak.SECRET_WORD})
        assert response.status_code < 500, url
        no_leak._assert_clean(no_leak._without_echoed_query(response.text), f"GET {url}")


def test_a_free_read_on_the_page_is_spent_like_one_through_the_api(
    client_with, publish, make_account
):
    metered = client_with(metered_free_reads=1)
    publish(slug="r1", body=BODY)
    publish(slug="r2", body=BODY)
    reader = make_account("reader@example.org")
    sign_in(metered, reader)
    page = metered.get("/reports/r1")
    assert SECRET in page.text and "You have read 1 of 1 free reports; resets on" in page.text
    metered.cookies.clear()
    assert read(metered, "r2", reader.headers)["paywall"]["reason"] == "meter_exhausted"
