"""Records every report read: an in-memory note on the request, written in batches by a
background thread at least every second (a crash loses at most that second, never a read).

The request does no I/O, no hashing and keeps no object per read: `record_read` counts the
read into the group of identical reads (same report, decision, viewer, user agent and UTC
day) noted since the last flush. A group is one ledger row with `repeats`, `first_at` and
`occurred_at` (the last read). COUNTER's double-click rule counts a chain of clicks within
30 seconds of each other once, as its last click, and a group never spans a gap over 30
seconds, so app.usage.counter counts a group exactly as it would count its reads one by one.
One reader hammering one report at 10,000 reads a second thus costs the ledger a row a
second, not 10,000; distinct readers still cost a row each.

The flusher then, off the request:
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

from app.access import Access, Decision, Reason, Viewer
from app.config import get_settings
from app.db import session_scope
from app.holdings import matching_licences
from app.models import ReadingEvent
from app.reports.preview_cache import NetworkIndex, current_generation, load_network_index
from app.usage.counter import DOUBLE_CLICK_SECONDS
from app.usage.robots import is_robot

log = logging.getLogger("folio.usage")

FLUSH_SECONDS = 1.0
# Past this many unwritten groups (a database down for a long while) new ones are dropped:
# memory stays bounded and reads never wait for the ledger.
MAX_PENDING = 200_000
CHUNK = 200  # groups a transaction of the flusher writes at most
SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S.%f"
SECONDS_A_DAY = 86_400

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


# What makes reads the same read for the ledger: report, outcome, reason, the licence that
# granted it (organization reference or None), viewer, user agent, UTC day number.
ReadKey = tuple[int, Access, Reason, str | None, Viewer, str | None, int]


@dataclass(slots=True)
class _Group:
    """Identical reads since the last flush, as epoch seconds."""

    first: float
    last: float
    repeats: int = 1

    def takes(self, at: float) -> bool:
        # Within 30 s of the group's ends, so its reads stay one double-click chain.
        return self.first - DOUBLE_CLICK_SECONDS <= at <= self.last + DOUBLE_CLICK_SECONDS

    def add(self, at: float) -> None:
        self.repeats += 1
        if at > self.last:
            self.last = at
        elif at < self.first:
            self.first = at


@dataclass(frozen=True, slots=True)
class PendingRead:
    """A group of identical reads waiting for the flusher."""

    report_id: int
    access: Access
    reason: Reason
    licence: str | None
    viewer: Viewer
    user_agent: str | None
    first: float
    last: float
    repeats: int

    @property
    def occurred_at(self) -> datetime:
        """The group's last read: the click COUNTER counts."""
        return datetime.fromtimestamp(self.last, UTC)

    @property
    def first_at(self) -> datetime | None:
        return datetime.fromtimestamp(self.first, UTC) if self.first != self.last else None

    @classmethod
    def of(cls, key: ReadKey, group: _Group) -> PendingRead:
        report_id, access, reason, licence, viewer, user_agent, _day = key
        return cls(
            report_id, access, reason, licence, viewer, user_agent, group.first, group.last,
            group.repeats,
        )  # fmt: skip


_lock = threading.Lock()  # guards _groups and _closed (held for a dict lookup or a swap)
_groups: dict[ReadKey, _Group] = {}
_closed: list[PendingRead] = []  # groups ended by a gap over 30 s before any flush
_unwritten: deque[PendingRead] = deque(maxlen=MAX_PENDING)  # taken, not written yet
_dropped = 0
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
    global _dropped
    try:
        if not get_settings().usage_recording:
            return
        at = time.time() if now is None else now.timestamp()
        entitlement = decision.entitlement
        licence = (
            entitlement.reference
            if entitlement is not None and entitlement.source == "organization"
            else None
        )
        key = (
            report_id,
            decision.access,
            decision.reason,
            licence,
            viewer,
            user_agent,
            int(at // SECONDS_A_DAY),
        )
        with _lock:
            group = _groups.get(key)
            if group is not None and group.takes(at):
                group.add(at)
                return
            if group is not None:
                _closed.append(PendingRead.of(key, group))
            if len(_groups) < MAX_PENDING:
                _groups[key] = _Group(at, at)
            else:
                _dropped += 1
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
    """Reads noted and not written yet."""
    with _lock:
        noted = sum(group.repeats for group in _groups.values())
        noted += sum(read.repeats for read in _closed)
    return noted + sum(read.repeats for read in list(_unwritten))


def flush() -> int:
    """Write every pending read now, in transactions of at most CHUNK groups; returns how
    many reads were written. Between chunks the flusher lets the requests run."""
    written = 0
    with _flush_lock:
        _take_noted()
        while batch := _take(CHUNK):
            written += _write(batch)
            time.sleep(0)
    return written


def _take_noted() -> None:
    """Move the groups noted so far to the flusher's own queue (a swap under the lock)."""
    global _groups, _closed, _dropped
    with _lock:
        groups, closed, dropped = _groups, _closed, _dropped
        _groups, _closed, _dropped = {}, [], 0
    if dropped:
        log.warning("%d reads not recorded: %d unwritten groups already held", dropped, MAX_PENDING)
    _unwritten.extend(closed)
    _unwritten.extend(PendingRead.of(key, group) for key, group in groups.items())


def _take(most: int) -> list[PendingRead]:
    batch: list[PendingRead] = []
    while _unwritten and len(batch) < most:
        try:
            batch.append(_unwritten.popleft())
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
        _unwritten.extendleft(reversed(batch))
        raise
    return sum(read.repeats for read in batch)


def _write_each(rows: list[dict[str, Any]]) -> int:
    written = 0
    for row in rows:
        try:
            with session_scope() as session:
                insert_rows(session, [row])
            written += row["repeats"]
        except IntegrityError:
            log.info("reading event of a removed report or member dropped")
    return written


LEDGER_COLUMNS = (
    "report_id",
    "occurred_at",
    "first_at",
    "repeats",
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
        values = [tuple(_sqlite_value(value) for value in v) for v in values]
    cursor = connection.connection.cursor()
    try:
        cursor.executemany(statement, values)
    except connection.dialect.dbapi.IntegrityError as exc:  # type: ignore[union-attr]
        raise IntegrityError(statement, None, exc) from exc
    finally:
        cursor.close()


def _sqlite_value(value: object) -> object:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime(SQLITE_DATETIME)
    return value


_networks: tuple[Any, NetworkIndex] | None = None  # every organization's ranges, by generation


def _network_index(session: Session) -> NetworkIndex:
    """Every organization's IP ranges, kept under the content generation (which every
    change to organizations or their ranges moves): an address none holds needs no query."""
    global _networks
    generation = current_generation()
    if _networks is None or _networks[0] != generation:
        _networks = (generation, load_network_index(session))
    return _networks[1]


def ledger_rows(session: Session, batch: list[PendingRead]) -> list[dict[str, Any]]:
    """The rows the ledger keeps for these reads: no IP address, no email."""
    secret = get_settings().secret_key.encode()
    networks = _network_index(session)
    attributions: dict[tuple[str | None, str | None], int | None] = {}
    keys: dict[tuple[object, str | None, str | None], str] = {}
    rows = []
    for read in batch:
        viewer = read.viewer
        organization_id = _attributed(session, read, networks, attributions)
        verified_domain = (
            viewer.email_domain  # type: ignore[union-attr]
            if viewer.is_member and viewer.email_verified
            else None
        )
        rows.append(
            {
                "report_id": read.report_id,
                "occurred_at": read.occurred_at,
                "first_at": read.first_at,
                "repeats": read.repeats,
                "outcome": str(read.access),
                "reason": str(read.reason),
                "access_type": counter_access_type(read.reason),
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
    networks: NetworkIndex,
    cache: dict[tuple[str | None, str | None], int | None],
) -> int | None:
    viewer = read.viewer
    if viewer.is_staff:
        return None
    if read.licence is not None:  # the licence that granted the read
        return int(read.licence.rpartition(":")[2])
    domain = viewer.email_domain if viewer.is_member and viewer.email_verified else None  # type: ignore[union-attr]
    if domain is None and not networks.may_hold(viewer.client_ip):
        return None  # no range holds the address and no domain to match
    key = (viewer.client_ip, domain)
    if key not in cache:
        matches = matching_licences(session, viewer, read.occurred_at)
        cache[key] = matches[0].id if matches else None
    return cache[key]
