"""Records every report read: an in-memory append on the request, written in batches by a
background thread at least every second (a crash loses at most that second, never a read).

The request does no I/O and no hashing: `record_read` appends the decision, the viewer
and the user agent to a deque. The flusher then, off the request:
- attributes the read to an organization: the licence that granted it, else the live
  licence whose IP range holds the client or whose domain covers the verified email
  (app.holdings.matching_licences, the same lookup the access decision's loader uses);
- replaces the client by a member id, or by a session key: an HMAC (FOLIO_SECRET_KEY) of
  the day, client IP and user agent, so no raw IP is stored and keys of different days
  cannot be linked (COUNTER's user-sessions are hour slices of a day anyway);
- marks reads by COUNTER-listed robots.
Staff reads are recorded but attributed to no organization: they are the publisher's own.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.access import Decision, Reason, Viewer
from app.config import get_settings
from app.db import session_scope
from app.holdings import matching_licences
from app.models import ReadingEvent, utcnow
from app.usage.robots import is_robot

log = logging.getLogger("folio.usage")

FLUSH_SECONDS = 1.0
# Past this many unwritten events (a database down for a long while) the oldest go: memory
# stays bounded and reads never wait for the ledger.
MAX_PENDING = 200_000
SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S.%f"

# COUNTER Access_Type from the decision's reason. decide_access checks public,
# complimentary and free_after before anything about the viewer, so the same report at the
# same moment has one Access_Type for every reader, as the Code requires.
OPEN_REASONS = frozenset({Reason.PUBLIC})
FREE_TO_READ_REASONS = frozenset({Reason.COMPLIMENTARY, Reason.FREE_AFTER})


def counter_access_type(reason: Reason | str) -> str:
    if reason in OPEN_REASONS:
        return "Open"
    if reason in FREE_TO_READ_REASONS:
        return "Free_To_Read"
    return "Controlled"


@dataclass(frozen=True, slots=True)
class PendingRead:
    report_id: int
    occurred_at: datetime
    decision: Decision
    viewer: Viewer
    user_agent: str | None


_pending: deque[PendingRead] = deque(maxlen=MAX_PENDING)
CHUNK = 200  # reads a transaction of the flusher writes at most
_flush_lock = threading.Lock()
_state_lock = threading.Lock()
_stop = threading.Event()
_thread: threading.Thread | None = None
_starts = 0


def record_read(
    report_id: int,
    decision: Decision,
    viewer: Viewer,
    user_agent: str | None,
    now: datetime | None = None,
) -> None:
    """Call once per report read (API, page, private feed), after the access decision.
    Never raises, never touches the database: the flusher writes it within a second."""
    try:
        if not get_settings().usage_recording:
            return
        _pending.append(PendingRead(report_id, now or utcnow(), decision, viewer, user_agent))
    except Exception:  # recording must never cost a reader the read
        log.exception("reading event not recorded")


def start() -> None:
    """Start the background flusher (the app's lifespan calls this; idempotent, counted)."""
    global _thread, _starts
    with _state_lock:
        _starts += 1
        if _thread is not None and _thread.is_alive():
            return
        _stop.clear()
        _thread = threading.Thread(target=_run, name="folio-usage-flusher", daemon=True)
        _thread.start()


def stop() -> None:
    """Write what is pending; the flusher stops once every start has been matched."""
    global _thread, _starts
    with _state_lock:
        _starts = max(0, _starts - 1)
        thread = None
        if not _starts:
            thread, _thread = _thread, None
            _stop.set()
    if thread is not None:
        thread.join(timeout=10)
    flush()


def _run() -> None:
    while not _stop.wait(FLUSH_SECONDS):
        try:
            flush()
        except Exception:  # the database is away: the events wait in memory for the next try
            log.exception("reading events not written yet")


def pending_count() -> int:
    return len(_pending)


def flush() -> int:
    """Write every pending read now, in transactions of at most CHUNK reads; returns how
    many were written. Between chunks the flusher lets the requests run: one transaction
    of a busy second's reads held the interpreter long enough to show in the reads' p99."""
    written = 0
    with _flush_lock:
        while batch := _take(CHUNK):
            written += _write(batch)
            time.sleep(0)
    return written


def _take(most: int) -> list[PendingRead]:
    batch: list[PendingRead] = []
    while _pending and len(batch) < most:
        try:
            batch.append(_pending.popleft())
        except IndexError:
            break
    return batch


def _write(batch: list[PendingRead]) -> int:
    try:
        with session_scope() as session:
            rows = ledger_rows(session, batch)
            insert_rows(session, rows)
    except IntegrityError:
        # A report or member removed since the read: write the others, one by one.
        return _write_each(rows)
    except Exception:
        # Put them back in order for the next try (newer reads may have arrived).
        _pending.extendleft(reversed(batch))
        raise
    return len(batch)


def _write_each(rows: list[dict[str, Any]]) -> int:
    written = 0
    for row in rows:
        try:
            with session_scope() as session:
                insert_rows(session, [row])
            written += 1
        except IntegrityError:
            log.info("reading event of a removed report or member dropped")
    return written


LEDGER_COLUMNS = (
    "report_id",
    "occurred_at",
    "outcome",
    "reason",
    "access_type",
    "organization_id",
    "member_id",
    "session_key",
    "reader_domain",
    "is_robot",
)


def insert_rows(session: Session, rows: list[dict[str, Any]]) -> None:
    """One executemany on the session's connection, in its transaction. The DB-API cursor,
    not SQLAlchemy's insert: per row, the statement's parameter processing and the
    engine's NUL check cost more than the write (measured: bench/usage.py), and every
    value here is ours (enums, ids, hex keys, a verified domain), never the user agent."""
    connection = session.connection()
    sqlite = connection.dialect.name == "sqlite"
    marker = "?" if sqlite else "%s"
    columns, markers = ", ".join(LEDGER_COLUMNS), ", ".join([marker] * len(LEDGER_COLUMNS))
    # Only constants are interpolated; the values are bound.
    statement = f"INSERT INTO {ReadingEvent.__tablename__} ({columns}) VALUES ({markers})"  # noqa: S608
    values = [tuple(row[column] for column in LEDGER_COLUMNS) for row in rows]
    if sqlite:  # SQLite keeps naive UTC text, as app.models.base.UTCDateTime writes it
        at = LEDGER_COLUMNS.index("occurred_at")
        values = [
            (*v[:at], v[at].astimezone(UTC).strftime(SQLITE_DATETIME), *v[at + 1 :]) for v in values
        ]
    cursor = connection.connection.cursor()
    try:
        cursor.executemany(statement, values)
    except connection.dialect.dbapi.IntegrityError as exc:  # type: ignore[union-attr]
        raise IntegrityError(statement, None, exc) from exc
    finally:
        cursor.close()


def ledger_rows(session: Session, batch: list[PendingRead]) -> list[dict[str, Any]]:
    """The rows the ledger keeps for these reads: no IP address, no email."""
    secret = get_settings().secret_key.encode()
    attributions: dict[tuple[str | None, str | None], int | None] = {}
    keys: dict[tuple[object, str | None, str | None], str] = {}
    rows = []
    for read in batch:
        viewer, decision = read.viewer, read.decision
        organization_id = _attributed(session, read, attributions)
        verified_domain = (
            viewer.email_domain  # type: ignore[union-attr]
            if viewer.is_member and viewer.email_verified
            else None
        )
        rows.append(
            {
                "report_id": read.report_id,
                "occurred_at": read.occurred_at,
                "outcome": str(decision.access),
                "reason": str(decision.reason),
                "access_type": counter_access_type(decision.reason),
                "organization_id": organization_id,
                "member_id": viewer.id if viewer.is_member else None,  # type: ignore[union-attr]
                "session_key": None if viewer.is_member else _key(secret, read, keys),
                "reader_domain": verified_domain if organization_id is None else None,
                "is_robot": is_robot(read.user_agent),
            }
        )
    return rows


def session_key(secret: bytes, at: datetime, client_ip: str | None, user_agent: str | None) -> str:
    """COUNTER's surrogate for an anonymous user (IP address + user agent), keyed and bound
    to the day so the stored value reveals neither and does not follow a reader for long."""
    message = f"{at.date().isoformat()}|{client_ip or ''}|{user_agent or ''}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def _key(secret: bytes, read: PendingRead, keys: dict) -> str:  # type: ignore[type-arg]
    client = (read.occurred_at.date(), read.viewer.client_ip, read.user_agent)
    if client not in keys:
        keys[client] = session_key(secret, read.occurred_at, client[1], client[2])
    return keys[client]


def _attributed(
    session: Session,
    read: PendingRead,
    cache: dict[tuple[str | None, str | None], int | None],
) -> int | None:
    viewer, entitlement = read.viewer, read.decision.entitlement
    if viewer.is_staff:
        return None
    if entitlement is not None and entitlement.source == "organization":
        return int(entitlement.reference.rpartition(":")[2])
    domain = viewer.email_domain if viewer.is_member and viewer.email_verified else None  # type: ignore[union-attr]
    key = (viewer.client_ip, domain)
    if key not in cache:
        matches = matching_licences(session, viewer, read.occurred_at)
        cache[key] = matches[0].id if matches else None
    return cache[key]
