"""The engine (SQLite pragmas or a PostgreSQL pool) and the one-transaction-per-request session."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlmodel import Session

from app.config import get_settings
from app.errors import BadRequest

SQLITE_BUSY_TIMEOUT_MS = 10_000


def build_engine(database_url: str) -> Engine:
    engine = _create(database_url)
    event.listen(engine, "before_cursor_execute", _refuse_nul_characters)
    return engine


def _refuse_nul_characters(_conn, _cursor, _statement, parameters, _context, _many) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL cannot store NUL in text and SQLite can: refuse it on both, as a 400."""
    if _has_nul(parameters):
        raise BadRequest("Text may not contain NUL characters")


def _has_nul(value: object) -> bool:
    # Parameters come as a dict, a tuple, or (executemany) a list of either.
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


def _create(database_url: str) -> Engine:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            # pysqlite's own transaction handling is switched off so BEGIN is ours (see below).
            isolation_level=None,
            pool_pre_ping=False,
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, pool_recycle=1800)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:  # type: ignore[no-untyped-def]
        # A deferred transaction that reads then writes fails with SQLITE_BUSY at once
        # under contention, whatever the timeout; writers take the lock up front.
        immediate = connection.get_execution_options().get("sqlite_immediate", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@lru_cache
def get_engine() -> Engine:
    return build_engine(get_settings().database_url)


def writer_bind(engine: Engine) -> Engine:
    """The engine as used by a transaction that will write."""
    if engine.dialect.name == "sqlite":
        return engine.execution_options(sqlite_immediate=True)
    return engine


@contextmanager
def session_scope(*, write: bool = True, engine: Engine | None = None) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back wholly on any error."""
    engine = engine or get_engine()
    with Session(writer_bind(engine) if write else engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def insert_ignoring_conflict(session: Session, model: type, values: dict, key: list[str]) -> None:
    """INSERT … ON CONFLICT (key) DO NOTHING on SQLite and PostgreSQL alike."""
    table = model.__table__  # type: ignore[attr-defined]
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    session.execute(insert(table).values(**values).on_conflict_do_nothing(index_elements=key))
