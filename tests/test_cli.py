"""The `folio` command: create-admin, import-reports, seed-demo, migrate; refusals to start."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from app.cli import app
from app.config import DEFAULT_SECRET_KEY, get_settings
from app.db import session_scope
from app.models import Report, User
from tests.support.app import create_user, login
from tests.support.ports import free_port

runner = CliRunner()

GOOD = """---
title: Port security in the Gulf of Guinea
summary: Boarding incidents rose in the third quarter.
collection: threat-monitor
access_level: subscribers
status: published
published_at: 2026-10-02T09:00:00Z
tags: [ports, piracy]
authors: [A. Writer]
---
LAGOS, October 2, 2026 — Boardings rose.[^1]

<!-- paywall -->

Details for subscribers.

[^1]: Maritime Bulletin, No. 9, 2026.
"""


def _report_count() -> int:
    with session_scope(write=False) as session:
        return session.execute(select(func.count()).select_from(Report)).scalar_one()


def test_import_reports_names_a_bad_file_and_stores_nothing_of_it(tmp_path: Path, catalog, client):
    (tmp_path / "gulf-ports.md").write_text(GOOD, encoding="utf-8")
    (tmp_path / "broken.md").write_text(
        GOOD.replace("threat-monitor", "no-such-collection"), encoding="utf-8"
    )
    (tmp_path / "no-front-matter.md").write_text("Just text.\n", encoding="utf-8")
    result = runner.invoke(app, ["import-reports", str(tmp_path)])
    assert result.exit_code == 1
    assert "created gulf-ports" in result.output
    assert "broken.md" in result.output and "no-front-matter.md" in result.output
    assert _report_count() == 1
    body = client.get("/api/v1/reports/gulf-ports").json()
    assert body["access"] == "preview" and body["tags"] == ["piracy", "ports"]
    assert [n["n"] for n in body["footnotes"]] == [1]


def test_import_again_updates_by_slug(tmp_path: Path, catalog, client):
    (tmp_path / "gulf-ports.md").write_text(GOOD, encoding="utf-8")
    assert runner.invoke(app, ["import-reports", str(tmp_path)]).exit_code == 0
    (tmp_path / "gulf-ports.md").write_text(
        GOOD.replace("Boardings rose", "Boardings fell"), encoding="utf-8"
    )
    result = runner.invoke(app, ["import-reports", str(tmp_path)])
    assert "updated gulf-ports" in result.output
    assert _report_count() == 1
    assert "Boardings fell" in client.get("/api/v1/reports/gulf-ports").json()["body_html"]


def _front_matter_without(field: str) -> str:
    return "".join(line for line in GOOD.splitlines(keepends=True) if not line.startswith(field))


def test_reimport_without_published_at_keeps_the_date(tmp_path: Path, catalog, client):
    (tmp_path / "gulf-ports.md").write_text(GOOD, encoding="utf-8")
    runner.invoke(app, ["import-reports", str(tmp_path)])
    (tmp_path / "gulf-ports.md").write_text(
        _front_matter_without("published_at:").replace("rose", "fell"), encoding="utf-8"
    )
    result = runner.invoke(app, ["import-reports", str(tmp_path)])
    assert result.exit_code == 0, result.output
    body = client.get("/api/v1/reports/gulf-ports").json()
    assert "fell" in body["body_html"]
    assert body["published_at"] == "2026-10-02T09:00:00Z"


def test_reimport_leaves_fields_its_front_matter_does_not_name(
    tmp_path: Path, catalog, client, admin
):
    (tmp_path / "gulf-ports.md").write_text(GOOD, encoding="utf-8")
    runner.invoke(app, ["import-reports", str(tmp_path)])
    edited = client.patch(
        "/api/v1/admin/reports/gulf-ports",
        headers=admin.headers,
        json={"access_level": "public", "tags": ["edited"]},
    )
    assert edited.status_code == 200, edited.text
    (tmp_path / "gulf-ports.md").write_text(
        _front_matter_without("access_level:").replace("tags: [ports, piracy]\n", ""),
        encoding="utf-8",
    )
    runner.invoke(app, ["import-reports", str(tmp_path)])
    body = client.get("/api/v1/reports/gulf-ports").json()
    assert body["access_level"] == "public" and body["tags"] == ["edited"]
    assert body["published_at"] == "2026-10-02T09:00:00Z"


def test_import_prints_each_reports_outcome_and_status(tmp_path: Path, catalog, client):
    (tmp_path / "gulf-ports.md").write_text(GOOD, encoding="utf-8")
    (tmp_path / "notes.md").write_text(_front_matter_without("status:"), encoding="utf-8")
    first = runner.invoke(app, ["import-reports", str(tmp_path)])
    assert first.exit_code == 0, first.output
    assert "created gulf-ports: published 2026-10-02 09:00 UTC" in first.output
    assert "created notes: draft, not visible to readers" in first.output
    assert "2 created, 0 updated, 0 unchanged, 0 failed" in first.output
    (tmp_path / "notes.md").write_text(
        _front_matter_without("status:").replace("rose", "fell"), encoding="utf-8"
    )
    again = runner.invoke(app, ["import-reports", str(tmp_path)])
    assert "unchanged gulf-ports: published 2026-10-02 09:00 UTC" in again.output
    assert "updated notes: draft, not visible to readers" in again.output
    assert "0 created, 1 updated, 1 unchanged, 0 failed" in again.output


def test_an_unchanged_file_writes_nothing(tmp_path: Path, catalog, client, admin):
    (tmp_path / "gulf-ports.md").write_text(GOOD, encoding="utf-8")
    runner.invoke(app, ["import-reports", str(tmp_path)])
    before = client.get("/api/v1/reports/gulf-ports").json()["updated_at"]
    audit = client.get("/api/v1/admin/audit", headers=admin.headers).json()
    assert "unchanged gulf-ports" in runner.invoke(app, ["import-reports", str(tmp_path)]).output
    assert client.get("/api/v1/reports/gulf-ports").json()["updated_at"] == before
    assert client.get("/api/v1/admin/audit", headers=admin.headers).json() == audit


def test_a_date_without_offset_reads_as_utc_and_stays_unchanged(tmp_path: Path, catalog):
    naive = GOOD.replace("2026-10-02T09:00:00Z", "2026-10-02 09:00:00")
    (tmp_path / "gulf-ports.md").write_text(naive, encoding="utf-8")
    assert (
        "published 2026-10-02 09:00 UTC"
        in runner.invoke(app, ["import-reports", str(tmp_path)]).output
    )
    assert "unchanged gulf-ports" in runner.invoke(app, ["import-reports", str(tmp_path)]).output


def test_create_admin_then_log_in(client):
    result = runner.invoke(
        app, ["create-admin", "Boss@Example.org", "--password", "a long admin password"]
    )
    assert result.exit_code == 0, result.output
    login = client.post(
        "/api/v1/auth/login",
        data={"username": "boss@example.org", "password": "a long admin password"},
    )
    assert login.status_code == 200
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    assert client.get("/api/v1/admin/tiers", headers=headers).status_code == 200


def test_create_admin_refuses_a_short_password():
    result = runner.invoke(app, ["create-admin", "a@example.org", "--password", "short"])
    assert result.exit_code == 2 and "10 characters" in result.output
    with session_scope(write=False) as session:
        assert session.execute(select(func.count()).select_from(User)).scalar_one() == 0


def test_migrate_is_idempotent():
    assert runner.invoke(app, ["migrate"]).exit_code == 0


def test_seed_demo_loads_a_working_site(client):
    first = runner.invoke(app, ["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "12 created, 0 updated, 0 unchanged, 0 failed" in first.output
    assert "admin@example.com / admin-demo-pass" in first.output
    assert "reader@example.com / reader-demo-pass" in first.output
    assert _report_count() == 12
    listed = client.get("/api/v1/reports", params={"limit": 100}).json()["items"]
    assert len(listed) == 11  # the scheduled one is not out yet
    levels = [r["access_level"] for r in listed]
    assert levels.count("public") == 1 and levels.count("registered") == 1
    assert sum(r["complimentary"] for r in listed) == 2  # one flagged, one past free_after
    assert len(client.get("/api/v1/collections").json()) == 3
    headers = login(client, "subscriber@example.com", "subscriber-demo-pass")
    for report in listed:
        body = client.get(f"/api/v1/reports/{report['slug']}", headers=headers).json()
        assert body["access"] == "full", report["slug"]


DEMO_SLUG = "drone-procurement-sahel-2026"


def _edit_a_demo_report(client) -> None:
    headers = login(client, "admin@example.com", "admin-demo-pass")
    edited = client.patch(
        f"/api/v1/admin/reports/{DEMO_SLUG}", headers=headers, json={"title": "My own title"}
    )
    assert edited.status_code == 200, edited.text


def _title() -> str:
    with session_scope(write=False) as session:
        return session.execute(select(Report.title).where(Report.slug == DEMO_SLUG)).scalar_one()


def test_seed_demo_again_keeps_what_a_user_changed(client):
    runner.invoke(app, ["seed-demo"])
    _edit_a_demo_report(client)
    again = runner.invoke(app, ["seed-demo"])
    assert again.exit_code == 0, again.output
    assert "already holds 12 reports, 3 collections, 3 tiers, 3 accounts" in again.output
    assert "nothing changed" in again.output
    assert _title() == "My own title"


def test_seed_demo_again_prints_the_demo_accounts_whose_password_still_works(client):
    first = runner.invoke(app, ["seed-demo"])
    assert "the website: http://folio.test/" in first.output
    headers = login(client, "reader@example.com", "reader-demo-pass")
    changed = client.patch(
        "/api/v1/me",
        headers=headers,
        json={"password": "a-new-pass-of-mine", "current_password": "reader-demo-pass"},
    )
    assert changed.status_code == 200, changed.text
    again = runner.invoke(app, ["seed-demo"])
    assert "admin@example.com / admin-demo-pass" in again.output
    assert "subscriber@example.com / subscriber-demo-pass" in again.output
    assert "reader@example.com" not in again.output
    assert "the website: http://folio.test/" in again.output


def test_seed_demo_adds_nothing_beside_an_existing_account(client, reader):
    result = runner.invoke(app, ["seed-demo"])
    assert result.exit_code == 0 and "already holds 1 account:" in result.output
    assert _report_count() == 0


def test_seed_demo_reset_starts_over(client):
    runner.invoke(app, ["seed-demo"])
    _edit_a_demo_report(client)
    create_user("someone@example.org")
    result = runner.invoke(app, ["seed-demo", "--reset", "--yes"])
    assert result.exit_code == 0, result.output
    assert "deleted everything: 12 reports, 3 collections, 3 tiers, 4 accounts" in result.output
    assert "12 created" in result.output
    assert _title() != "My own title" and _report_count() == 12
    with session_scope(write=False) as session:
        emails = set(session.execute(select(User.email)).scalars())
    assert emails == {"admin@example.com", "reader@example.com", "subscriber@example.com"}
    login(client, "subscriber@example.com", "subscriber-demo-pass")


def test_seed_demo_reset_outside_a_terminal_wants_yes_and_changes_nothing(client, reader):
    result = runner.invoke(app, ["seed-demo", "--reset"])
    assert result.exit_code == 1 and "--yes" in result.output
    login(client, reader.email)
    assert _report_count() == 0


def test_swagger_authorize_uses_the_password_login(client):
    schemes = client.get("/openapi.json").json()["components"]["securitySchemes"]
    flow = schemes["OAuth2PasswordBearer"]["flows"]["password"]
    assert flow["tokenUrl"] == "/api/v1/auth/login"
    assert client.get("/docs").status_code == 200


def test_rerender_reports_applies_a_new_preview_length(client, publish, monkeypatch):
    body = "\n\n".join(f"Paragraph {word}." for word in ("one", "two", "three", "four"))
    publish(slug="no-marker", body=body)
    assert "three" in client.get("/api/v1/reports/no-marker").json()["body_html"]
    monkeypatch.setenv("FOLIO_PREVIEW_PARAGRAPHS", "1")
    get_settings.cache_clear()
    result = runner.invoke(app, ["rerender-reports"])
    assert result.exit_code == 0 and "1 reports rendered again" in result.output
    preview = client.get("/api/v1/reports/no-marker").json()["body_html"]
    assert "one" in preview and "two" not in preview


FOLIO = Path(sys.executable).parent / "folio"
REFUSED_SECRET = "hunter2-a-refused-secret"


def _folio(*args: str, cwd: Path, **env: str | None) -> subprocess.CompletedProcess:
    if args[0] == "serve":  # should a refusal regress, the server gets a port of its own
        args = (*args, "--port", str(free_port()))
    environment = dict(os.environ)
    for name, value in env.items():
        environment.pop(name, None)
        if value is not None:
            environment[name] = value
    return subprocess.run(
        [str(FOLIO), *args], cwd=cwd, env=environment, capture_output=True, text=True, timeout=60
    )


def _empty_sqlite(path: Path) -> str:
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE unrelated (id INTEGER)")
    return f"sqlite:///{path}"


START_UP_REFUSALS = {
    "production-default-secret": (
        ["serve"],
        {"FOLIO_ENV": "production", "FOLIO_SECRET_KEY": None},
        "FOLIO_SECRET_KEY must be set",
    ),
    "production-published-secret": (
        ["migrate"],
        {"FOLIO_ENV": "production", "FOLIO_SECRET_KEY": DEFAULT_SECRET_KEY},
        "FOLIO_SECRET_KEY must be set",
    ),
    "production-short-secret": (
        ["serve"],
        {"FOLIO_ENV": "production", "FOLIO_SECRET_KEY": REFUSED_SECRET},
        "FOLIO_SECRET_KEY must be set",
    ),
    "not-a-number": (["serve"], {"FOLIO_PREVIEW_PARAGRAPHS": "abc"}, "FOLIO_PREVIEW_PARAGRAPHS"),
    "not-a-url": (
        ["migrate"],
        {"FOLIO_DATABASE_URL": f"postgres//admin:{REFUSED_SECRET}@db"},
        "FOLIO_DATABASE_URL",
    ),
    "unknown-driver": (
        ["serve"],
        {"FOLIO_DATABASE_URL": f"mysql+nosuch://admin:{REFUSED_SECRET}@db/folio"},
        "FOLIO_DATABASE_URL",
    ),
    "unreachable-database-migrate": (
        ["migrate"],
        {"FOLIO_DATABASE_URL": f"postgresql://nobody@127.0.0.1:{free_port()}/folio"},
        "cannot use the database",
    ),
    "unreachable-database-serve": (
        ["serve"],
        {"FOLIO_DATABASE_URL": f"postgresql://nobody@127.0.0.1:{free_port()}/folio"},
        "cannot use the database",
    ),
    "missing-sqlite-file": (
        ["serve"],
        {"FOLIO_DATABASE_URL": "sqlite:///./no-such.db"},
        "run `folio migrate` first",
    ),
    "published-secret-on-a-public-address": (
        ["serve", "--host", "0.0.0.0"],  # noqa: S104
        {"FOLIO_SECRET_KEY": DEFAULT_SECRET_KEY},
        "published",
    ),
}


@pytest.fixture(scope="module")
def refusals(tmp_path_factory: pytest.TempPathFactory) -> dict[str, subprocess.CompletedProcess]:
    """Every case of START_UP_REFUSALS run at once (each is a whole Python start-up)."""
    with ThreadPoolExecutor(max_workers=len(START_UP_REFUSALS)) as pool:
        running = {
            case: pool.submit(_folio, *args, cwd=tmp_path_factory.mktemp(case), **env)
            for case, (args, env, _) in START_UP_REFUSALS.items()
        }
        return {case: future.result() for case, future in running.items()}


@pytest.mark.parametrize("case", START_UP_REFUSALS)
def test_a_refused_start_says_why_in_one_line_without_traceback_or_secret(case, refusals):
    reason = START_UP_REFUSALS[case][2]
    result = refusals[case]
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("folio: "), result.stderr
    assert reason in lines[0]
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    assert REFUSED_SECRET not in output and DEFAULT_SECRET_KEY not in output


def test_serve_refuses_a_database_not_at_the_latest_migration(tmp_path):
    result = _folio("serve", cwd=tmp_path, FOLIO_DATABASE_URL=_empty_sqlite(tmp_path / "old.db"))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "folio: the database is not migrated (it is at no migration, this Folio needs "
        f"{_head()}): run `folio migrate` first"
    ]


def test_a_missing_postgresql_database_is_one_line(tmp_path):
    server = os.environ.get("FOLIO_TEST_DATABASE_URL")
    if not server:
        pytest.skip("needs FOLIO_TEST_DATABASE_URL (a PostgreSQL server)")
    missing = make_url(server).set(database="folio_no_such_database").render_as_string(False)
    result = _folio("migrate", cwd=tmp_path, FOLIO_DATABASE_URL=missing)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert 'database "folio_no_such_database" does not exist' in line


def _head() -> str:
    from alembic.script import ScriptDirectory

    from app.cli import _alembic_config

    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def test_migrate_cuts_again_the_reports_an_older_renderer_stored(client, publish):
    # A short paid report and a reference defined after the cut, both stored the way the
    # renderer before version 2 stored them: the whole body as the preview.
    body = (
        "Read [the source][s].\n\n<!-- paywall -->\n\nSecret tail.\n\n[s]: https://leak.example/x"
    )
    publish(slug="old-cut", body=body)
    publish(slug="old-short", body="Only paragraph, for subscribers: quillmoss.")
    with session_scope() as session:
        for report in session.execute(select(Report)).scalars():
            report.preview_html, report.preview_text = report.full_html, report.full_text
            report.render_version = 0
    assert "leak.example" in client.get("/api/v1/reports/old-cut").text

    result = runner.invoke(app, ["migrate"])

    assert result.exit_code == 0, result.output
    assert "2 reports stored by an older renderer were rendered again" in result.output
    assert "leak.example" not in client.get("/api/v1/reports/old-cut").text
    assert "quillmoss" not in client.get("/api/v1/reports/old-short").text
    again = runner.invoke(app, ["migrate"])
    assert "rendered again" not in again.output  # current renderings are left alone
