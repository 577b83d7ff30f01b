"""Refusals before serving, each said in one line: bad settings, an unreachable or
unmigrated database, a published secret on a public address."""

from __future__ import annotations

import ipaddress
import logging
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from app.config import Settings


class StartupError(Exception):
    """Folio cannot start; the message says why and what to do, in one line."""


def check_secret_for_host(settings: Settings, host: str) -> None:
    if settings.secret_is_published and not is_loopback(host):
        raise StartupError(
            f"FOLIO_SECRET_KEY is a published example value: refusing to serve on {host}; "
            "set a random one, or unset it to use this installation's generated secret"
        )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve anywhere


def check_database_is_migrated(settings: Settings) -> None:
    """The database answers and stands at the migrations this code ships (alembic head)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from app.cli import _alembic_config
    from app.db import build_engine

    url = make_url(settings.database_url)
    file = url.database if url.get_backend_name() == "sqlite" else None
    if file and file != ":memory:" and not Path(file).exists():
        # Connecting would create an empty file; say what is missing instead.
        raise StartupError(f"no database at {file}: run `folio migrate` first")
    wanted = set(ScriptDirectory.from_config(_alembic_config()).get_heads())
    engine = build_engine(settings.database_url)
    chatter = logging.getLogger("alembic.runtime.migration")
    level = chatter.level
    chatter.setLevel(logging.WARNING)  # "Context impl ..." is noise before the refusal
    try:
        with engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
    finally:
        engine.dispose()
        chatter.setLevel(level)
    if current != wanted:
        at = ", ".join(sorted(current)) or "no migration"
        raise StartupError(
            f"the database is not migrated (it is at {at}, this Folio needs "
            f"{', '.join(sorted(wanted))}): run `folio migrate` first"
        )


def describe(exc: BaseException) -> str | None:
    """One line for an error that stops start-up, or None for a real bug (keep its traceback)."""
    if isinstance(exc, StartupError):
        return str(exc)
    if isinstance(exc, ValidationError):
        # Where and what only: pydantic's own text would echo the values (a secret).
        parts = []
        for error in exc.errors(include_url=False, include_input=False):
            name = "FOLIO_" + str(error["loc"][0]).upper() + ": " if error["loc"] else ""
            parts.append(name + error["msg"].removeprefix("Value error, "))
        return "invalid settings: " + "; ".join(parts)
    if isinstance(exc, OperationalError):
        reason = str(exc.orig or exc).strip().splitlines()[0]
        return f"cannot use the database: {reason}"
    return None
