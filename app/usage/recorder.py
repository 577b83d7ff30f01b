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

The flusher then writes them off the request (app.usage.ledger: attribution, session keys,
robots; no IP address or email is stored).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from app.access import Access, Decision, Reason, Viewer
from app.config import get_settings
from app.db import session_scope
from app.usage.counter import DOUBLE_CLICK_SECONDS
from app.usage.ledger import PendingRead, insert_rows, ledger_rows

log = logging.getLogger("folio.usage")

FLUSH_SECONDS = 1.0
# Past this many unwritten groups (a database down for a long while) new ones are dropped:
# memory stays bounded and reads never wait for the ledger.
MAX_PENDING = 200_000
CHUNK = 200  # groups a transaction of the flusher writes at most
SECONDS_A_DAY = 86_400

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


def _pending(key: ReadKey, group: _Group) -> PendingRead:
    report_id, access, reason, licence, viewer, user_agent, _day = key
    return PendingRead(
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
                _closed.append(_pending(key, group))
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
    _unwritten.extend(_pending(key, group) for key, group in groups.items())


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
