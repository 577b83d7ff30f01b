"""Test fixtures: a real database built by `alembic upgrade head`, the app over HTTP.

SQLite by default (a temp file). With FOLIO_TEST_DATABASE_URL=postgresql://… a fresh
database is created on that server for the session and dropped after.
"""

from __future__ import annotations

import atexit
import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

_TMP = Path(tempfile.mkdtemp(prefix="folio-tests-"))
_SERVER_URL = os.environ.get("FOLIO_TEST_DATABASE_URL")


def _fresh_postgres(server_url: str) -> str:
    url = make_url(server_url).set(drivername="postgresql+psycopg")
    name = f"folio_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def _drop_postgres(database_url: str) -> None:
    url = make_url(database_url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
    admin.dispose()


if _SERVER_URL:
    os.environ["FOLIO_DATABASE_URL"] = _fresh_postgres(_SERVER_URL)
    # The xdist controller imports this file too but runs no session fixture: its database
    # goes at exit (a worker's is dropped by migrated_database; twice is harmless).
    atexit.register(_drop_postgres, os.environ["FOLIO_DATABASE_URL"])
else:
    os.environ["FOLIO_DATABASE_URL"] = f"sqlite:///{_TMP / 'folio.db'}"
os.environ["FOLIO_ENV"] = "test"
# The content generation file (app/reports/preview_cache.py) lives here, not in the checkout.
os.environ["FOLIO_DATA_DIR"] = str(_TMP)
os.environ["FOLIO_BASE_URL"] = "http://folio.test"
os.environ.setdefault("FOLIO_SECRET_KEY", "test-secret-key-0123456789abcdef0123456789")
for name in (
    "FOLIO_SMTP_HOST",
    "FOLIO_REDIS_URL",
    "FOLIO_STRIPE_SECRET_KEY",
    "FOLIO_STRIPE_WEBHOOK_SECRET",
    "FOLIO_STRIPE_API_BASE",
    "FOLIO_TRUSTED_PROXIES",
):
    os.environ.pop(name, None)

from tests.support.app import *  # noqa: E402,F403  (fixtures)

# Tests that start real servers (`folio serve` workers, a PostgreSQL cluster, the wheel) or
# time a server's answers: one xdist worker runs them one after another (`--dist
# loadgroup`), so two of them never fight over the two cores while the other worker runs
# the rest of the suite.
SERVER_TESTS = (
    "tests/faults/",
    "tests/scale/",
    "tests/test_load.py",
    "tests/test_cli.py",
    "tests/test_packaging.py",
)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.nodeid.startswith(SERVER_TESTS):
            item.add_marker(pytest.mark.xdist_group("servers"))


@pytest.fixture(scope="session", autouse=True)
def migrated_database() -> Iterator[str]:
    from alembic import command

    from app.cli import _alembic_config
    from app.db import get_engine

    command.upgrade(_alembic_config(), "head")
    yield os.environ["FOLIO_DATABASE_URL"]
    get_engine().dispose()
    if _SERVER_URL:
        _drop_postgres(os.environ["FOLIO_DATABASE_URL"])
