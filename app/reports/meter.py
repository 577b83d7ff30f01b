"""Metered reading's bookkeeping (SPEC §4): count a verified reader's free reads and spend
one, atomically across workers. THE decision stays app.access.decide_access; this only
reads the meter when the decision asks for it, and records the read it decided.

Two workers cannot hand out N+1 reads: counting and spending happen in one transaction
that holds a per-reader lock from before the count to the commit. PostgreSQL: a
transaction-level advisory lock on the reader, in the request's own transaction.
SQLite: a short write transaction of its own (BEGIN IMMEDIATE takes the one write lock
before the count); the request's read transaction cannot take that lock late under
contention, and needs not: everything else it does is a read.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from types import TracebackType

from sqlalchemy import Select, bindparam, case, func, select, text
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.dialects import sqlite
from sqlmodel import Session

from app.access import Decision, Entitlement, Meter, Reason, ReportFacts, Viewer, decide_access
from app.access.decide import METER_WINDOW
from app.db import bind_for, get_engine
from app.models import MeterRead

# pg_advisory_xact_lock(namespace, user id): the namespace keeps these locks apart from any
# other advisory lock the application may take on a user id.
ADVISORY_NAMESPACE = 0x4D455452  # "METR"


@lru_cache(maxsize=1)
def _count_query() -> Select:
    reads = MeterRead.__table__.c  # type: ignore[attr-defined]
    return select(
        func.count(),
        func.min(reads.read_at),
        func.count(case((reads.report_id == bindparam("report_id"), 1))),
    ).where(reads.user_id == bindparam("user_id"), reads.read_at > bindparam("since"))


class MeterGate:
    """One read's meter: touched only if decide_access asks (a callable returning the
    state), spent by `settle` only for a `metered` decision on a report not yet read in
    the window. Use as a context manager: the lock and any own transaction end with it."""

    def __init__(self, session: Session, user_id: int, report_id: int, limit: int, now: datetime):
        self.request_session = session
        self.user_id, self.report_id, self.limit, self.now = user_id, report_id, limit, now
        self.session: Session | None = None  # where the count (and the spend) runs
        self.own = False
        self.state: Meter | None = None

    def __call__(self) -> Meter:
        if self.request_session.get_bind().dialect.name == "postgresql":
            session = self.session = self.request_session
            session.execute(
                text("SELECT pg_advisory_xact_lock(:namespace, :user_id)"),
                {"namespace": ADVISORY_NAMESPACE, "user_id": self.user_id},
            )
        else:
            engine = bind_for(get_engine(), write=True)
            session = self.session = Session(engine, expire_on_commit=False)
            self.own = True
        used, oldest, this_report = session.execute(
            _count_query(),
            {
                "user_id": self.user_id,
                "report_id": self.report_id,
                "since": self.now - METER_WINDOW,
            },
        ).one()
        self.state = Meter(used, self.limit, bool(this_report), oldest)
        return self.state

    def settle(self, decision: Decision) -> None:
        """Record the free read the decision handed out (rereads cost nothing)."""
        if self.session is None or self.state is None:
            return
        if decision.reason is Reason.METERED and not self.state.already_read:
            dialect = pg if self.session.get_bind().dialect.name == "postgresql" else sqlite
            values = {"user_id": self.user_id, "report_id": self.report_id, "read_at": self.now}
            self.session.execute(
                dialect.insert(MeterRead)
                .values(**values)
                .on_conflict_do_update(
                    index_elements=["user_id", "report_id"], set_={"read_at": self.now}
                )
            )
        if self.own:
            self.session.commit()

    def __enter__(self) -> MeterGate:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.own and self.session is not None:
            self.session.close()  # rolls back what settle did not commit


def decide_metered(
    session: Session,
    report: ReportFacts,
    report_id: int,
    viewer: Viewer,
    entitlements: Iterable[Entitlement],
    now: datetime,
    free_reads: int,
) -> Decision:
    """decide_access with the viewer's meter when metering is on (FOLIO_METERED_FREE_READS)
    and the viewer is a member; the meter is read only if the decision reaches it."""
    if not free_reads or not viewer.is_member:
        return decide_access(report, viewer, entitlements, now)
    with MeterGate(session, viewer.id, report_id, free_reads, now) as gate:  # type: ignore[union-attr]
        decision = decide_access(report, viewer, entitlements, now, gate)
        gate.settle(decision)
    return decision
