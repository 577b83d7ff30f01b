"""The engine (SQLite pragmas or a PostgreSQL pool), its waits, and background sessions.

The serving engine (get_engine) is built for requests (R-S7): its pool holds a connection
for every worker thread, and every wait is short, so a busy database is answered with a
503 and Retry-After (app.main) instead of threads piling up behind it. Background work
(session_scope: CLI, outbox sender, webhooks) may wait longer; migrations and bulk loads
use a plain engine with no request limits.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlmodel import Session

from app.config import get_settings
from app.errors import BadRequest

SQLITE_BUSY_TIMEOUT_MS = 10_000  # background work and plain engines
STATEMENT_TIMEOUT_SECONDS = 15  # PostgreSQL, requests: no query of ours comes close
POOL_HEADROOM = 4  # connections beyond the worker threads: outbox sender, readiness, CLI
# PostgreSQL SQLSTATEs that mean "busy, try again": lock_timeout, statement_timeout,
# serialization failure, deadlock, too many connections.
BUSY_SQLSTATES = frozenset({"55P03", "57014", "40001", "40P01", "53300"})
SQLITE_BUSY_CODES = frozenset({5, 6})  # SQLITE_BUSY, SQLITE_LOCKED (and their extended codes)
# The database is gone rather than busy: PostgreSQL's connection exceptions (class 08) and
# server shutdowns; SQLite's file unreadable or unopenable.
GONE_SQLSTATE_CLASSES = ("08",)
GONE_SQLSTATES = frozenset({"57P01", "57P02", "57P03"})  # admin/crash shutdown, starting up
SQLITE_GONE_CODES = frozenset({10, 14})  # SQLITE_IOERR, SQLITE_CANTOPEN
MIN_CONNECT_TIMEOUT_SECONDS = 2  # libpq's own floor


def build_engine(
    database_url: str, *, worker_threads: int | None = None, wait_seconds: float = 3.0
) -> Engine:
    """A plain engine; with `worker_threads`, the serving engine: a connection for each
    thread, and requests wait at most `wait_seconds` for a connection or a lock."""
    engine = _create(database_url, worker_threads, wait_seconds)
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


def _create(database_url: str, worker_threads: int | None, wait_seconds: float) -> Engine:
    url = make_url(database_url)
    serving = worker_threads is not None
    pool: dict = {}
    if serving and url.database not in (None, "", ":memory:"):
        # A thread holds at most one connection, and only within its own hop (app.deps),
        # so with one per thread the pool never makes a request wait; if something does,
        # the wait is short and answered 503.
        pool = {
            "pool_size": worker_threads + POOL_HEADROOM,
            "max_overflow": 0,
            "pool_timeout": wait_seconds,
        }
    if url.get_backend_name() == "sqlite":
        busy_ms = round(wait_seconds * 1000) if serving else SQLITE_BUSY_TIMEOUT_MS
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": busy_ms / 1000},
            # pysqlite's own transaction handling is switched off so BEGIN is ours (see below).
            isolation_level=None,
            pool_pre_ping=False,
            **pool,
        )
        _configure_sqlite(engine, busy_ms)
        return engine
    if not serving:
        return create_engine(url, pool_pre_ping=True, pool_recycle=1800)
    waits = (
        f"-c lock_timeout={round(wait_seconds * 1000)}ms"
        f" -c statement_timeout={STATEMENT_TIMEOUT_SECONDS}s"
    )
    # A server that does not answer (stopped, unreachable) fails a request within the same
    # short wait, not after the operating system gives up on the connection.
    connect_timeout = max(MIN_CONNECT_TIMEOUT_SECONDS, math.ceil(wait_seconds))
    engine = create_engine(
        url,
        connect_args={"options": waits, "connect_timeout": connect_timeout},
        # Connections that died with the server are replaced at checkout, so the first
        # request after it returns succeeds (and SQLAlchemy empties the pool on a disconnect).
        pool_pre_ping=True,
        pool_recycle=1800,
        **pool,
    )
    _configure_postgresql(engine)
    return engine


def _configure_sqlite(engine: Engine, busy_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, record) -> None:  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        record.info["busy_timeout_ms"] = busy_ms

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:  # type: ignore[no-untyped-def]
        options = connection.get_execution_options()
        # busy_timeout is a connection setting, not transactional: switched only when a
        # pooled connection passes between a request and background work.
        wanted = SQLITE_BUSY_TIMEOUT_MS if options.get("background") else busy_ms
        if connection.info.get("busy_timeout_ms") != wanted:
            connection.exec_driver_sql(f"PRAGMA busy_timeout={wanted}")
            connection.info["busy_timeout_ms"] = wanted
        # A deferred transaction that reads then writes fails with SQLITE_BUSY at once
        # under contention, whatever the timeout; writers take the lock up front.
        immediate = options.get("sqlite_immediate", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _configure_postgresql(engine: Engine) -> None:
    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:  # type: ignore[no-untyped-def]
        # Background transactions lift the request limits for themselves only (LOCAL).
        if connection.get_execution_options().get("background"):
            connection.exec_driver_sql(
                "SELECT set_config('lock_timeout', '0', true),"
                " set_config('statement_timeout', '0', true)"
            )


@lru_cache
def get_engine() -> Engine:
    settings = get_settings()
    return build_engine(
        settings.database_url,
        worker_threads=settings.worker_threads,
        wait_seconds=settings.db_wait_seconds,
    )


@lru_cache(maxsize=32)
def bind_for(engine: Engine, *, write: bool, background: bool = False) -> Engine:
    """The engine as used by one kind of transaction: a writer takes SQLite's write lock
    up front; background work may wait longer than a request."""
    options = {"background": True} if background else {}
    if write and engine.dialect.name == "sqlite":
        options["sqlite_immediate"] = True
    return engine.execution_options(**options) if options else engine


@lru_cache(maxsize=32)
def _reader_of(bind: Engine) -> Engine:
    return bind.execution_options(sqlite_immediate=False)


@contextmanager
def reading_apart(session: Session) -> Iterator[Session]:
    """A short read transaction of its own beside `session`, which has not begun yet: for
    what slow CPU work (argon2) must read before a request's writes begin. A writer holds
    SQLite's one write lock from its first statement to its commit, so reading with it
    would hold that lock, which every other worker's write waits for, through the hashing.
    On PostgreSQL it is one more pooled connection, held only while `session` holds none."""
    reader = Session(_reader_of(session.get_bind()), expire_on_commit=False)  # type: ignore[arg-type]
    try:
        yield reader
    finally:
        reader.close()


def is_busy(exc: BaseException) -> bool:
    """The database said "not now" (a full pool, a lock or statement timeout, SQLite's
    writer lock held too long): worth a 503 and a retry, not a 500."""
    if isinstance(exc, PoolTimeout):
        return True
    if not isinstance(exc, OperationalError):
        return False
    sqlite_code = getattr(exc.orig, "sqlite_errorcode", None)
    if sqlite_code is not None:
        return sqlite_code & 0xFF in SQLITE_BUSY_CODES
    return getattr(exc.orig, "sqlstate", None) in BUSY_SQLSTATES


def is_unreachable(exc: BaseException) -> bool:
    """The database is down or cannot be reached (stopped, restarting, its file gone): a
    503 with Retry-After while it lasts, not a 500; pooled connections recover by themselves."""
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    if not isinstance(exc, OperationalError):
        return False
    sqlite_code = getattr(exc.orig, "sqlite_errorcode", None)
    if sqlite_code is not None:
        return sqlite_code & 0xFF in SQLITE_GONE_CODES
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate is None:
        # psycopg: an error the server never answered (connection refused, connection closed).
        return True
    return sqlstate.startswith(GONE_SQLSTATE_CLASSES) or sqlstate in GONE_SQLSTATES


@contextmanager
def session_scope(
    *, write: bool = True, engine: Engine | None = None, background: bool = True
) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back wholly on any error.
    `background=False` gives it a request's limits (a busy database is a 503, not a wait)."""
    engine = engine or get_engine()
    bind = bind_for(engine, write=write, background=background)
    with Session(bind, expire_on_commit=False) as session:
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


# Its session hooks: writes to users, sessions and holdings bump the access generation.
from app import access_generation  # noqa: E402, F401
