"""Members as CSV: a streamed, injection-safe export; an import that reports bad rows."""

from __future__ import annotations

import csv
import io

from sqlalchemy import func, insert, select

from app.db import session_scope
from app.models import OutboxEmail, Subscription, User, utcnow
from tests.admin.conftest import audit_entries, reads_full

EXPORT = "/api/v1/admin/users.csv"
IMPORT = "/api/v1/admin/users/import"


def exported(client, admin, **params) -> list[dict[str, str]]:  # noqa: ANN001
    response = client.get(EXPORT, headers=admin.headers, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    return list(csv.DictReader(io.StringIO(response.text, newline="")))


def upload(client, admin, text: str, dry_run: bool = False):  # noqa: ANN001, ANN201
    return client.post(
        IMPORT,
        headers=admin.headers,
        files={"file": ("members.csv", text.encode(), "text/csv")},
        data={"dry_run": str(dry_run).lower()},
    )


def members() -> int:
    with session_scope(write=False) as session:
        return session.execute(select(func.count()).select_from(User)).scalar_one()


def test_the_export_streams_every_member_across_pages(client, admin):
    with session_scope() as session:
        session.execute(
            insert(User),
            [
                {"email": f"m{n:05d}@example.net", "name": f"M {n}", "created_at": utcnow()}
                for n in range(2100)
            ],
        )
    rows = exported(client, admin)
    assert len(rows) == 2101 and len({r["id"] for r in rows}) == 2101
    ids = [int(r["id"]) for r in rows]
    assert ids == sorted(ids, reverse=True)
    assert rows[0] == {
        "id": rows[0]["id"],
        "email": "m02099@example.net",
        "name": "M 2099",
        "role": "reader",
        "status": "free",
        "email_verified": "false",
        "disabled": "false",
        "created_at": rows[0]["created_at"],
    }
    assert [r["email"] for r in exported(client, admin, q="m0209")][:2] == [
        "m02099@example.net",
        "m02098@example.net",
    ]


def test_the_export_defuses_formulas(client, admin, reader):
    for name in ('=HYPERLINK("http://evil")', "+1", "-2", "@SUM(A1)"):
        client.patch(f"/api/v1/admin/users/{reader.id}", headers=admin.headers, json={"name": name})
        [row] = exported(client, admin, q=reader.email)
        assert row["name"] == "'" + name
    client.patch(f"/api/v1/admin/users/{reader.id}", headers=admin.headers, json={"name": "Ann"})
    assert exported(client, admin, q=reader.email)[0]["name"] == "Ann"


def test_the_export_takes_the_list_filters(client, admin, reader, catalog):
    client.post(
        f"/api/v1/admin/users/{reader.id}/comps", headers=admin.headers, json={"tier": catalog.tier}
    )
    assert [r["email"] for r in exported(client, admin, status="comp")] == [reader.email]
    assert [r["email"] for r in exported(client, admin, tier=catalog.tier)] == [reader.email]
    assert client.get(EXPORT, headers=admin.headers, params={"tier": "gold"}).status_code == 422


def test_imported_members_get_comps_and_an_invitation_to_set_a_password(
    client, admin, catalog, paid_report, mailbox
):
    text = (
        "email,name,tier,expires_at,note\r\n"
        "Ann@Example.net,Ann Example,threat-pro,2999-01-01,press desk\r\n"
        "bob@example.net,Bob,,,\r\n"
    )
    response = upload(client, admin, text)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "dry_run": False,
        "rows": 2,
        "created": 2,
        "comps": 1,
        "duplicates": [],
        "errors": [],
    }
    token = mailbox.token("reset", to="ann@example.net")
    assert "Threat Pro" in mailbox.last_text("ann@example.net")
    assert mailbox.token("reset", to="bob@example.net")
    chosen = client.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": token, "password": "a long imported passphrase"},
    )
    assert chosen.status_code == 204, chosen.text
    login = client.post(
        "/api/v1/auth/login",
        data={"username": "ann@example.net", "password": "a long imported passphrase"},
    )
    assert login.status_code == 200, login.text
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    assert reads_full(client, paid_report, headers)
    [entitlement] = client.get("/api/v1/me", headers=headers).json()["entitlements"]
    assert entitlement["source"] == "comp" and entitlement["until"].startswith("2999-01-01")
    [grant] = audit_entries("access.grant")
    assert grant.after["cause"] == "import" and grant.actor == f"user:{admin.id}"
    [summary] = audit_entries("user.import")
    assert summary.after["created"] == 2


def test_bad_rows_and_duplicates_are_reported_by_line_and_the_rest_imported(
    client, admin, reader, catalog
):
    text = "\n".join(
        [
            "email,name,tier",
            "good1@example.net,One,",
            "not-an-address,Two,",
            "good2@example.net,Three,gold",
            f"{reader.email},Four,",
            "GOOD1@example.net,Five,",
            "good3@example.net,Six,all-access,extra",
            "good4@example.net,Seven,all-access",
        ]
    )
    response = upload(client, admin, text)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["rows"] == 7 and report["created"] == 2 and report["comps"] == 1
    assert [(e["line"], e["email"]) for e in report["errors"]] == [
        (3, "not-an-address"),
        (4, "good2@example.net"),
        (7, "good3@example.net"),
    ]
    assert "unknown tier: gold" in report["errors"][1]["detail"]
    assert [(d["line"], d["detail"]) for d in report["duplicates"]] == [
        (5, "already a member"),
        (6, "repeats line 2"),
    ]
    emails = {r["email"] for r in exported(client, admin)}
    assert {"good1@example.net", "good4@example.net"} <= emails
    assert "good2@example.net" not in emails


def test_a_dry_run_reports_the_same_and_writes_nothing(client, admin, catalog):
    text = "email,tier\nnew@example.net,threat-pro\nbad,\n"
    before = members()
    dry = upload(client, admin, text, dry_run=True)
    assert dry.status_code == 200, dry.text
    assert dry.json()["dry_run"] is True and dry.json()["created"] == 1
    assert [e["line"] for e in dry.json()["errors"]] == [3]
    assert members() == before and audit_entries("user.import") == []
    real = upload(client, admin, text)
    assert {k: v for k, v in real.json().items() if k != "dry_run"} == {
        k: v for k, v in dry.json().items() if k != "dry_run"
    }
    assert members() == before + 1


def test_a_file_that_is_not_csv_is_a_400_and_imports_nothing(client, admin):
    before = members()
    cases = {
        "binary": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        "no email column": b"name,tier\nAnn,\n",
        "unknown column": b"email,role\nann@example.net,admin\n",
        "latin-1": "email,name\nann@example.net,Jos\xe9\n".encode("latin-1"),
        "empty": b"",
    }
    for label, body in cases.items():
        response = client.post(
            IMPORT, headers=admin.headers, files={"file": ("x.csv", body, "text/csv")}
        )
        assert response.status_code == 400, label
        assert response.json()["detail"], label
    assert (
        "role"
        in client.post(
            IMPORT, headers=admin.headers, files={"file": ("x.csv", cases["unknown column"])}
        ).json()["detail"]
    )
    assert client.post(IMPORT, headers=admin.headers).status_code == 422
    assert members() == before


def test_a_file_over_the_body_limit_is_a_413_and_imports_nothing(client, admin):
    before = members()
    line = "someone{}@example.net,A name long enough to fill the file quickly\n"
    text = "email,name\n" + "".join(line.format(n) for n in range(20_000))
    assert len(text) > 1_000_000
    response = upload(client, admin, text)
    assert response.status_code == 413
    assert members() == before


def test_ten_thousand_rows_with_bad_ones_import_the_rest(client, admin, catalog):
    lines = ["email,name,tier"]
    for n in range(10_000):
        if n % 1000 == 7:
            lines.append(f"broken-{n},Bad {n},")
        elif n % 1000 == 8:
            lines.append(f"member{n}@example.net,Bad tier {n},platinum")
        else:
            lines.append(f"member{n}@example.net,Member {n},{'threat-pro' if n % 2 else ''}")
    before = members()
    response = upload(client, admin, "\n".join(lines))
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["rows"] == 10_000 and len(report["errors"]) == 20
    assert report["errors"][0]["line"] == 9  # header is line 1, row n=7 is line 9
    assert report["created"] == 9_980 and members() == before + 9_980
    with session_scope(write=False) as session:
        comps = session.execute(
            select(func.count()).select_from(Subscription).where(Subscription.source == "comp")
        ).scalar_one()
        invites = session.execute(
            select(func.count()).select_from(OutboxEmail).where(OutboxEmail.kind == "invite")
        ).scalar_one()
    assert comps == report["comps"] == 4_990 and invites == 9_980
