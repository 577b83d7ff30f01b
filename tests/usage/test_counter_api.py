"""The COUNTER_SUSHI API over HTTP: PR, PR_P1 and IR from a month of synthetic reads match a
count made by hand (double clicks, robots, staff and unattributed readers out), every
response validated against our schemas of COUNTER_API.json, and COUNTER's Exceptions."""

from __future__ import annotations

import json

from sqlalchemy import select

from app.db import session_scope
from app.models import AuditEntry, utcnow
from app.usage.counter import month_start, next_month
from tests.usage.conftest import World, issue_key
from tests.usage.counter_schemas import assert_valid

# By hand, from record_synthetic_month (conftest.py):
# University A: r1 read 10:00:00, 10:00:20 (one double click), 10:05:00 by one anonymous
# user, once by a colleague; three robot reads; r2 (public) once.
EXPECTED_PR_A = {
    "Total_Item_Investigations": 4,
    "Total_Item_Requests": 4,
    "Unique_Item_Investigations": 3,
    "Unique_Item_Requests": 3,
}
# University B: ada reads r1 at 14:00:00/29/58 (one chain), 14:59, 15:10 (a new hour),
# is refused r3 (No_License); bob's meter is spent on r3 (Limit_Exceeded).
EXPECTED_PR_B = {
    "Total_Item_Investigations": 5,
    "Total_Item_Requests": 3,
    "Unique_Item_Investigations": 4,
    "Unique_Item_Requests": 2,
}


def month_text(world: World) -> str:
    return world.month.strftime("%Y-%m")


def get(client, path: str, params: dict[str, str], kind: str, status: int = 200):  # noqa: ANN001, ANN201
    response = client.get(path, params=params)
    assert response.status_code == status, response.text
    assert_valid(kind, response.json())
    return response.json()


def performance(report: dict, item: int = 0) -> dict[str, int]:
    attribute = report["Report_Items"][item]["Attribute_Performance"][0]
    return {metric: sum(counts.values()) for metric, counts in attribute["Performance"].items()}


def test_the_platform_report_of_each_organization_matches_the_hand_count(client, counted_world):
    w = counted_world
    month = month_text(w)
    pr_a = get(client, "/r51/reports/pr", w.query(w.key_a, begin_date=month, end_date=month), "pr")
    pr_b = get(client, "/r51/reports/pr", w.query(w.key_b, begin_date=month, end_date=month), "pr")
    assert performance(pr_a) == EXPECTED_PR_A
    assert performance(pr_b) == EXPECTED_PR_B
    assert pr_a["Report_Header"]["Institution_Name"] == "University A"
    assert pr_a["Report_Items"][0]["Attribute_Performance"][0]["Data_Type"] == "Report"
    assert list(pr_a["Report_Items"][0]["Attribute_Performance"][0]["Performance"][
        "Total_Item_Requests"
    ]) == [month]  # fmt: skip
    assert "Exceptions" not in pr_a["Report_Header"]


def test_the_platform_usage_view_carries_requests_only(client, counted_world):
    w = counted_world
    month = month_text(w)
    view = get(
        client, "/r51/reports/pr_p1", w.query(w.key_b, begin_date=month, end_date=month), "pr_p1"
    )
    assert performance(view) == {"Total_Item_Requests": 3, "Unique_Item_Requests": 2}


def test_the_item_report_counts_each_report_with_its_denials(client, counted_world):
    w = counted_world
    month = month_text(w)
    params = w.query(
        w.key_b, begin_date=month, end_date=month, attributes_to_show="Access_Type|YOP|Authors"
    )
    report = get(client, "/r51/reports/ir", params, "ir")
    items = {item["Item"]: item for item in report["Report_Items"][0]["Items"]}
    assert set(items) == {"Port security in the Gulf", "Lab notes"}
    licensed = items["Port security in the Gulf"]
    assert licensed["Authors"] == [{"Name": "Ada Lovelace"}]
    attribute = licensed["Attribute_Performance"][0]
    assert attribute["Access_Type"] == "Controlled"
    totals = {m: sum(c.values()) for m, c in attribute["Performance"].items()}
    assert totals == {
        "Total_Item_Investigations": 3,
        "Total_Item_Requests": 3,
        "Unique_Item_Investigations": 2,
        "Unique_Item_Requests": 2,
    }
    denied = items["Lab notes"]["Attribute_Performance"][0]["Performance"]
    assert {m: sum(c.values()) for m, c in denied.items()} == {
        "Total_Item_Investigations": 2,
        "Unique_Item_Investigations": 2,
        "No_License": 1,
        "Limit_Exceeded": 1,
    }


def test_open_usage_is_reported_as_open_and_robots_never(client, counted_world):
    w = counted_world
    month = month_text(w)
    params = w.query(w.key_a, begin_date=month, end_date=month, attributes_to_show="Access_Type")
    report = get(client, "/r51/reports/ir", params, "ir")
    by_item = {
        item["Item"]: {
            a["Access_Type"]: a["Performance"]["Total_Item_Requests"][month]
            for a in item["Attribute_Performance"]
        }
        for item in report["Report_Items"][0]["Items"]
    }
    assert by_item == {"Open brief": {"Open": 1}, "Port security in the Gulf": {"Controlled": 3}}


def test_granularity_total_and_a_metric_filter(client, counted_world):
    w = counted_world
    begin = month_text(w)
    end = next_month(w.month).strftime("%Y-%m")
    params = w.query(
        w.key_a,
        begin_date=begin,
        end_date=end,
        granularity="Total",
        metric_type="Total_Item_Requests|Unique_Item_Requests",
    )
    report = get(client, "/r51/reports/pr", params, "pr")
    assert report["Report_Header"]["Report_Attributes"] == {"Granularity": "Total"}
    assert report["Report_Header"]["Report_Filters"]["Metric_Type"] == [
        "Total_Item_Requests",
        "Unique_Item_Requests",
    ]
    assert report["Report_Items"][0]["Attribute_Performance"][0]["Performance"] == {
        "Total_Item_Requests": {begin: 4},
        "Unique_Item_Requests": {begin: 3},
    }


def test_a_month_without_usage_is_exception_3030(client, counted_world):
    w = counted_world
    empty = next_month(w.month).strftime("%Y-%m")  # ended and processed, no reads
    report = get(
        client, "/r51/reports/pr", w.query(w.key_a, begin_date=empty, end_date=empty), "pr"
    )
    assert report["Report_Items"] == []
    assert [e["Code"] for e in report["Report_Header"]["Exceptions"]] == [3030]


def test_the_current_month_is_not_ready_3031_and_the_end_date_is_cut(client, counted_world):
    w = counted_world
    current = month_start(utcnow())
    begin = month_text(w)
    params = w.query(w.key_a, begin_date=begin, end_date=current.strftime("%Y-%m"))
    report = get(client, "/r51/reports/pr", params, "pr")
    header = report["Report_Header"]
    assert [e["Code"] for e in header["Exceptions"]] == [3031]
    assert header["Report_Filters"]["End_Date"] < current.isoformat()
    assert performance(report) == EXPECTED_PR_A


def test_an_ended_month_not_yet_processed_is_3031(client, world):
    month = month_text(world)  # reads exist, but usage-aggregate has not run
    params = world.query(world.key_a, begin_date=month, end_date=month)
    report = get(client, "/r51/reports/pr", params, "pr")
    assert report["Report_Items"] == []
    assert [e["Code"] for e in report["Report_Header"]["Exceptions"]] == [3031]


def test_bad_dates_are_3020_and_missing_ones_1030(client, counted_world):
    w = counted_world
    current = month_start(utcnow()).strftime("%Y-%m")
    for begin, end in (("2025-13", "2025-12"), ("2025-06", "2025-01"), (current, current)):
        body = get(
            client,
            "/r51/reports/pr",
            w.query(w.key_a, begin_date=begin, end_date=end),
            "error",
            400,
        )
        assert body["Code"] == 3020
    body = get(client, "/r51/reports/ir", w.query(w.key_a, begin_date="2025-01"), "error", 400)
    assert body["Code"] == 1030


def test_credentials_unknown_customer_2010_bad_key_2020_none_1030(client, counted_world):
    w = counted_world
    month = month_text(w)
    dates = {"begin_date": month, "end_date": month}
    unknown = {"customer_id": "folio-nobody", "api_key": w.key_a["api_key"]} | dates
    assert get(client, "/r51/reports/pr", unknown, "error", 403)["Code"] == 2010
    wrong_key = {"customer_id": w.key_a["customer_id"], "api_key": w.key_b["api_key"]} | dates
    assert get(client, "/r51/reports/pr", wrong_key, "error", 401)["Code"] == 2020
    no_key = {"customer_id": w.key_a["customer_id"]} | dates
    assert get(client, "/r51/members", no_key, "error", 401)["Code"] == 2020
    assert get(client, "/r51/reports", dates, "error", 400)["Code"] == 1030


def test_rotating_the_key_stops_the_old_one_and_keeps_the_customer_id(client, admin, world):
    old = world.key_a
    new = issue_key(client, admin, world.org_a["id"])
    assert new["customer_id"] == old["customer_id"] and new["api_key"] != old["api_key"]
    assert get(client, "/r51/members", world.query(old), "error", 401)["Code"] == 2020
    members = get(client, "/r51/members", world.query(new), "members")
    assert members[0]["Customer_ID"] == old["customer_id"]
    with session_scope() as session:
        target = f"organization:{old['organization_id']}"
        entries = session.execute(
            select(AuditEntry.action, AuditEntry.before, AuditEntry.after).where(
                AuditEntry.target == target
            )
        ).all()
    assert "organization.counter_key.rotate" in [entry.action for entry in entries]
    # The key is shown once: neither the old nor the new one is in what the audit keeps.
    kept = json.dumps([[entry.before, entry.after] for entry in entries], default=str)
    assert old["api_key"] not in kept and new["api_key"] not in kept


def test_only_an_admin_issues_keys(client, reader, world):
    response = client.post(
        f"/api/v1/admin/organizations/{world.org_a['id']}/counter-key", headers=reader.headers
    )
    assert response.status_code == 403
    missing = client.post("/api/v1/admin/organizations/999999/counter-key", headers={})
    assert missing.status_code == 401


def test_status_is_public_and_the_lists_validate(client, counted_world):
    w = counted_world
    get(client, "/r51/status", {}, "status")
    reports = get(client, "/r51/reports", w.query(w.key_a), "reports")
    assert {r["Report_ID"] for r in reports} == {"PR", "PR_P1", "IR"}
    assert reports[0]["First_Month_Available"] == month_text(w)


def test_unknown_filters_and_parameters_are_reported_and_ignored(client, counted_world):
    w = counted_world
    month = month_text(w)
    params = w.query(
        w.key_a,
        begin_date=month,
        end_date=month,
        metric_type="Total_Item_Requests|Unique_Item_Requests|Bogus",
        attributes_to_show="Nope",
        format="xml",
    )
    report = get(client, "/r51/reports/pr", params, "pr")
    assert sorted(e["Code"] for e in report["Report_Header"]["Exceptions"]) == [3050, 3060, 3062]
    assert performance(report) == {"Total_Item_Requests": 4, "Unique_Item_Requests": 3}


def test_the_tabular_form_has_the_header_rows_and_the_totals(client, counted_world):
    w = counted_world
    month = month_text(w)
    response = client.get(
        "/r51/reports/pr",
        params=w.query(w.key_a, begin_date=month, end_date=month),
        headers={"Accept": "text/tab-separated-values"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/tab-separated-values")
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeffReport_Name\tPlatform Report")
    lines = [line.split("\t") for line in text.lstrip("\ufeff").split("\r\n")[:-1]]
    assert lines[12][0] == "Registry_Record" and set(lines[13]) == {""}
    columns = lines[14]
    assert columns[:5] == ["Platform", "Data_Type", "Metric_Type", "Reporting_Period_Total",
                           w.month.strftime("%b-%Y")]  # fmt: skip
    totals = {line[2]: int(line[3]) for line in lines[15:]}
    assert totals == EXPECTED_PR_A
