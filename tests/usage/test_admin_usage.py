"""The admin's usage API: an organization's usage by month and report (JSON and CSV) from a
month of synthetic reads, matching a hand count; the turnaway lead list by organization and
by email domain, naming no person; admins only; bad months refused with why."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.access import Member
from app.cli import app
from app.db import session_scope
from app.models import User
from app.usage import recorder
from app.usage.counter import next_month
from app.usage.statistics import count_domain_turnaways, turnaways
from tests.support.app import Account, create_user
from tests.usage.conftest import (
    CHROME,
    DENIED,
    FIREFOX,
    GOOGLEBOT,
    SPENT,
    World,
    at,
    record_synthetic_month,
)

ORGS = "/api/v1/admin/organizations"
OUTSIDER_EMAIL = "jane.outsider@independent-lab.example"
OUTSIDER_NAME = "Jane Q. Outsider"
OUTSIDER_IP = "203.0.113.77"


def text(month: date) -> str:
    return month.strftime("%Y-%m")


def record_outsider_denials(world: World) -> None:
    """A verified reader no organization covers, refused: two clicks 10 s apart (one
    denial), one 5 minutes later, a spent meter, and the same reader's robot (never counted)."""
    user_id = create_user(OUTSIDER_EMAIL)
    with session_scope() as session:
        user = session.get(User, user_id)
        assert user is not None
        user.name = OUTSIDER_NAME
        session.add(user)
    jane = Member(user_id, OUTSIDER_EMAIL, "reader", True, client_ip=OUTSIDER_IP)
    m, r1, r3 = world.month, world.licensed["id"], world.unlicensed["id"]
    reads = [
        (r3, DENIED, FIREFOX, at(m, 12, 9, 0, 0)),
        (r3, DENIED, FIREFOX, at(m, 12, 9, 0, 10)),
        (r3, DENIED, FIREFOX, at(m, 12, 9, 5, 0)),
        (r1, SPENT, CHROME, at(m, 13, 9)),
        (r1, DENIED, GOOGLEBOT, at(m, 14, 9)),
    ]
    for report_id, decision, agent, when in reads:
        recorder.record_read(report_id, decision, jane, agent, now=when)
    recorder.flush()


@pytest.fixture
def usage_world(world: World) -> World:
    record_synthetic_month(world)
    record_outsider_denials(world)
    result = CliRunner().invoke(app, ["usage-aggregate"])  # closes the months, as in production
    assert result.exit_code == 0, result.output
    return world


def usage_of(client: TestClient, admin: Account, org_id: int, **params: str) -> dict:
    response = client.get(f"{ORGS}/{org_id}/usage", headers=admin.headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def metrics(row: dict) -> tuple[int, int, int, int]:
    return (
        row["total_item_requests"],
        row["unique_item_requests"],
        row["no_license"],
        row["limit_exceeded"],
    )


def test_usage_by_month_and_report_matches_the_hand_count(client, admin, usage_world):
    w = usage_world
    span = {"begin": text(w.month), "end": text(next_month(w.month))}
    a = usage_of(client, admin, w.org_a["id"], **span)
    b = usage_of(client, admin, w.org_b["id"], **span)
    # By hand (tests/usage/conftest.py): A's r1 three times once the double click is out,
    # by two anonymous users in one hour each (two unique), and the public r2 once; robots
    # and staff are nobody's. B: ada's r1 chain once, 14:59, 15:10 (two hours: two unique);
    # ada refused r3 (No_License), bob's meter spent on r3 (Limit_Exceeded).
    assert [m["month"] for m in a["months"]] == [span["begin"], span["end"]]
    assert metrics(a["months"][0]) == (4, 3, 0, 0)
    assert metrics(a["months"][1]) == (0, 0, 0, 0)
    assert {r["report_id"]: metrics(r) for r in a["reports"]} == {
        w.licensed["id"]: (3, 2, 0, 0),
        w.public["id"]: (1, 1, 0, 0),
    }
    assert metrics(b["totals"]) == (3, 2, 1, 1)
    assert {r["report_id"]: metrics(r) for r in b["reports"]} == {
        w.licensed["id"]: (3, 2, 0, 0),
        w.unlicensed["id"]: (0, 0, 1, 1),
    }
    assert [(r["month"], r["title"]) for r in b["rows"]] == [
        (span["begin"], "Lab notes"),
        (span["begin"], "Port security in the Gulf"),
    ]
    assert (b["name"], b["processed_through"]) == ("University B", span["end"])


def test_the_default_range_is_the_twelve_months_to_the_last_one_counted(client, admin, usage_world):
    usage = usage_of(client, admin, usage_world.org_a["id"])
    assert len(usage["months"]) == 12
    assert usage["end"] == text(next_month(usage_world.month))
    assert metrics(usage["totals"]) == (4, 3, 0, 0)


def test_the_csv_has_a_line_per_month_and_report_with_the_same_totals(client, admin, usage_world):
    w = usage_world
    for org, expected in ((w.org_a, (4, 3, 0, 0)), (w.org_b, (3, 2, 1, 1))):
        response = client.get(
            f"{ORGS}/{org['id']}/usage.csv",
            headers=admin.headers,
            params={"begin": text(w.month), "end": text(w.month)},
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/csv")
        assert "attachment" in response.headers["content-disposition"]
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert {row["month"] for row in rows} == {text(w.month)}
        columns = ("total_item_requests", "unique_item_requests", "no_license", "limit_exceeded")
        assert tuple(sum(int(row[c]) for row in rows) for c in columns) == expected


def test_the_turnaway_list_names_organizations_and_domains_never_a_person(
    client, admin, usage_world
):
    w = usage_world
    span = {"begin": text(w.month), "end": text(w.month)}
    response = client.get("/api/v1/admin/turnaways", headers=admin.headers, params=span)
    assert response.status_code == 200, response.text
    lead_list = response.json()
    [org_b] = lead_list["organizations"]  # University A was refused nothing
    assert (org_b["organization_id"], org_b["no_license"], org_b["limit_exceeded"]) == (
        w.org_b["id"],
        1,
        1,
    )
    assert [r["title"] for r in org_b["reports"]] == ["Lab notes"]
    # The outsider: three refusals of r3 of which two are one double click, a spent
    # meter on r1, and a robot's refusal left out. Nobody else outside was refused.
    [domain] = lead_list["domains"]
    assert domain["domain"] == "independent-lab.example"
    assert (domain["no_license"], domain["limit_exceeded"], domain["denials"]) == (2, 1, 3)
    assert {r["title"]: r["denials"] for r in domain["reports"]} == {
        "Lab notes": 2,
        "Port security in the Gulf": 1,
    }
    bodies = [response.text]
    for org in (w.org_a, w.org_b):
        for suffix in ("usage", "usage.csv"):
            bodies.append(client.get(f"{ORGS}/{org['id']}/{suffix}", headers=admin.headers).text)
    for body in bodies:
        for personal in (OUTSIDER_EMAIL, OUTSIDER_NAME, "jane.outsider", OUTSIDER_IP):
            assert personal.lower() not in body.lower()


def test_counting_a_month_again_replaces_its_domain_turnaways(usage_world):
    with session_scope() as session:
        count_domain_turnaways(session, [usage_world.month])
        count_domain_turnaways(session, [usage_world.month])
        lead_list = turnaways(session, usage_world.month, usage_world.month)
    assert [d.denials for d in lead_list.domains] == [3]


def test_only_admins_see_usage(client, admin, editor, reader, world):
    paths = [
        f"{ORGS}/{world.org_a['id']}/usage",
        f"{ORGS}/{world.org_a['id']}/usage.csv",
        "/api/v1/admin/turnaways",
    ]
    for path in paths:
        assert client.get(path).status_code == 401
        assert client.get(path, headers=editor.headers).status_code == 403
        assert client.get(path, headers=reader.headers).status_code == 403
        assert client.get(path, headers=admin.headers).status_code == 200


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"begin": "2026-13"}, "begin: 2026-13 is not a month"),
        ({"end": "March"}, "end: expected a month as YYYY-MM"),
        ({"begin": "2026-01-05"}, "begin: expected a month as YYYY-MM"),
        ({"begin": "2026-06", "end": "2026-01"}, "begin (2026-06) is after end (2026-01)"),
        ({"begin": "1990-01", "end": "2026-01"}, "more than 120 months"),
        ({"end": "0001-01"}, "end: 0001-01 is outside 1900-2999"),
        ({"begin": "9999-12", "end": "9999-12"}, "9999-12 is outside 1900-2999"),
    ],
)
def test_bad_months_are_refused_with_why(client, admin, world, params, detail):
    for path in (
        f"{ORGS}/{world.org_a['id']}/usage",
        f"{ORGS}/{world.org_a['id']}/usage.csv",
        "/api/v1/admin/turnaways",
    ):
        response = client.get(path, headers=admin.headers, params=params)
        assert response.status_code == 422, (path, response.text)
        assert detail in response.json()["detail"]


def test_an_unknown_organization_is_a_404(client, admin, world):
    response = client.get(f"{ORGS}/999999/usage", headers=admin.headers)
    assert response.status_code == 404
    assert response.json()["detail"] == "Organization not found"
