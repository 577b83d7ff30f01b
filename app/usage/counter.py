"""COUNTER 5.1 processing: reading events -> monthly counts per organization and report.

The rules (Code of Practice 5.1, sections 3.3 and 7):
- Only reads attributed to an organization count, and never a robot's.
- A user is a member (by id) or an anonymous session key (IP + user agent, keyed).
- Double clicks: the same user, item and action within 30 seconds of the previous one
  are one action (a chain of them counts once, as its last click). A ledger row may hold
  several identical clicks (`first_at` to `occurred_at`, app/usage/recorder.py), always
  one chain: `chain_ends` links rows by the gap from one's last click to the next's first.
- A user-session is the user + the date + the hour (the Code's surrogate session).
- Every read is an Investigation (a preview shows the item's summary and teaser); a full
  read is also a Request. A preview refused for want of a licence is also a No_License
  (`login_required`, `subscription_required`), or a Limit_Exceeded when the reader's
  metered allowance is spent (`meter_exhausted`). Unique_Item_* count an item once per
  user-session.

`aggregate` closes whole months only, in order, and remembers how far it got: a re-run
does nothing twice, and a report can tell "no usage" from "not processed yet".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple, Protocol, TypeVar

from sqlalchemy import delete, func, insert, select
from sqlmodel import Session

from app.models import ReadingEvent, UsageMonthly, UsageProcessing, utcnow

DOUBLE_CLICK_SECONDS = 30
NO_LICENSE_REASONS = frozenset({"login_required", "subscription_required"})
LIMIT_EXCEEDED_REASONS = frozenset({"meter_exhausted"})
METRIC_COLUMNS = (
    "total_item_investigations",
    "unique_item_investigations",
    "total_item_requests",
    "unique_item_requests",
    "no_license",
    "limit_exceeded",
)
PROCESSING_ROW = 1


def month_start(moment: datetime | date) -> date:
    return date(moment.year, moment.month, 1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def previous_month(month: date) -> date:
    return date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)


def months_between(first: date, last: date) -> list[date]:
    """Every month from first to last, both included."""
    months, month = [], first
    while month <= last:
        months.append(month)
        month = next_month(month)
    return months


def month_text(month: date) -> str:
    return month.strftime("%Y-%m")


def as_instant(month: date) -> datetime:
    return datetime(month.year, month.month, 1, tzinfo=UTC)


@dataclass(slots=True)
class _Counts:
    total_item_investigations: int = 0
    total_item_requests: int = 0
    no_license: int = 0
    limit_exceeded: int = 0
    investigated: set[tuple[str, int]] = field(default_factory=set)  # (user-session, hour)
    requested: set[tuple[str, int]] = field(default_factory=set)


class Clicks(Protocol):
    """A ledger row: one click, or identical clicks from first_at to occurred_at."""

    @property
    def first_at(self) -> datetime: ...

    @property
    def occurred_at(self) -> datetime: ...


C = TypeVar("C", bound=Clicks)
DOUBLE_CLICK_WINDOW = timedelta(seconds=DOUBLE_CLICK_SECONDS)


def chain_ends(rows: Iterable[C], chain_of: Callable[[C], Hashable]) -> Iterator[C]:
    """COUNTER's double-click rule over rows in time order: rows of one chain key (user,
    item, action) each beginning within 30 seconds of the previous one's last click are
    one action. Yields the last row of every chain: the one the Code counts."""
    open_chains: dict[Hashable, C] = {}
    for row in rows:
        key = chain_of(row)
        earlier = open_chains.get(key)
        if earlier is not None and row.first_at - earlier.occurred_at > DOUBLE_CLICK_WINDOW:
            yield earlier
        open_chains[key] = row  # a click within 30 s continues the chain
    yield from open_chains.values()


class _Read(NamedTuple):  # a tuple: a month holds millions of them
    report_id: int
    first_at: datetime
    occurred_at: datetime
    outcome: str
    reason: str
    access_type: str
    organization_id: int
    user: str


def count_month(reads: Iterable[_Read]) -> dict[tuple[int, int, str], dict[str, int]]:
    """The COUNTER counts of one month's reads (in time order), by (organization, report,
    access type). One pass: memory holds the open chains and unique sets, not the month."""
    counts: dict[tuple[int, int, str], _Counts] = defaultdict(_Counts)
    for read in chain_ends(reads, lambda r: (r.user, r.report_id, r.outcome, r.reason)):
        # Counted once, as the chain's last click; unique items once per user-session
        # (user + date + hour), so a unique count never exceeds its total.
        c = counts[(read.organization_id, read.report_id, read.access_type)]
        user_session = (read.user, int(read.occurred_at.timestamp()) // 3600)
        c.total_item_investigations += 1
        c.investigated.add(user_session)
        if read.outcome == "full":
            c.total_item_requests += 1
            c.requested.add(user_session)
        elif read.reason in NO_LICENSE_REASONS:
            c.no_license += 1
        elif read.reason in LIMIT_EXCEEDED_REASONS:
            c.limit_exceeded += 1
    return {
        key: {
            "total_item_investigations": c.total_item_investigations,
            "unique_item_investigations": len(c.investigated),
            "total_item_requests": c.total_item_requests,
            "unique_item_requests": len(c.requested),
            "no_license": c.no_license,
            "limit_exceeded": c.limit_exceeded,
        }
        for key, c in counts.items()
    }


def _month_reads(session: Session, month: date) -> Iterator[_Read]:
    e = ReadingEvent
    rows = session.execute(
        select(
            e.report_id,
            func.coalesce(e.first_at, e.occurred_at),
            e.occurred_at,
            e.outcome,
            e.reason,
            e.access_type,
            e.organization_id,
            e.member_id,
            e.session_key,
        )
        .where(
            e.occurred_at >= as_instant(month),
            e.occurred_at < as_instant(next_month(month)),
            e.organization_id.is_not(None),  # type: ignore[union-attr]
            e.is_robot.is_(False),  # type: ignore[attr-defined]
        )
        .order_by(e.occurred_at, e.id)
        .execution_options(yield_per=10_000)
    )
    for report_id, first, at, outcome, reason, access_type, org_id, member_id, key in rows:
        user = f"m{member_id}" if member_id is not None else f"s{key}"
        yield _Read(report_id, first, at, outcome, reason, access_type, org_id, user)


def processing_state(session: Session) -> UsageProcessing | None:
    return session.get(UsageProcessing, PROCESSING_ROW)


def aggregate(session: Session, until: datetime | None = None) -> list[date]:
    """Close every whole month before `until` not closed yet; returns the months closed.

    Idempotent: a month is counted from its raw events once, in one transaction with the
    mark that it is done; a re-run over the same `until` closes nothing.
    """
    until = until or utcnow()
    last = previous_month(month_start(until))  # the last month that has ended
    state = processing_state(session)
    if state is not None:
        begin = next_month(state.processed_through)
    else:
        earliest = session.execute(select(func.min(ReadingEvent.occurred_at))).scalar_one()
        begin = month_start(earliest) if earliest is not None else last
    closed = []
    month = begin
    while month <= last:
        session.execute(delete(UsageMonthly).where(UsageMonthly.month == month))  # type: ignore[arg-type]
        rows = [
            {"organization_id": org, "report_id": report, "access_type": kind, "month": month}
            | metrics
            for (org, report, kind), metrics in count_month(_month_reads(session, month)).items()
        ]
        if rows:
            session.execute(insert(UsageMonthly.__table__), rows)  # type: ignore[attr-defined]
        closed.append(month)
        month = next_month(month)
    if closed:
        if state is None:
            state = UsageProcessing(
                id=PROCESSING_ROW, first_month=closed[0], processed_through=closed[-1]
            )
        state.processed_through = closed[-1]
        state.updated_at = utcnow()
        session.add(state)
        session.flush()
    return closed


def prune_events(session: Session, now: datetime, retention_days: int) -> int:
    """Delete raw events older than the retention, never one from a month not yet closed."""
    state = processing_state(session)
    if state is None:
        return 0
    cutoff = min(
        now - timedelta(days=retention_days), as_instant(next_month(state.processed_through))
    )
    result = session.execute(delete(ReadingEvent).where(ReadingEvent.occurred_at < cutoff))  # type: ignore[arg-type]
    return result.rowcount or 0
