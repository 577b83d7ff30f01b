"""Identical reads noted within one flush are one ledger row (`repeats`, `first_at` to
`occurred_at`), and COUNTER counts such rows exactly as it counts the reads one by one."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from app.access import Anonymous
from app.db import session_scope
from app.models import (
    ReadingEvent,
    UsageDomainTurnaways,
    UsageMonthly,
    UsageProcessing,
)
from app.usage import recorder
from app.usage.statistics import count_domain_turnaways
from tests.usage.conftest import CHROME, DENIED, FIREFOX, FULL, OPEN, at, close_months, reader_of_b


def rows() -> list[ReadingEvent]:
    with session_scope() as session:
        return list(session.execute(select(ReadingEvent).order_by(ReadingEvent.id)).scalars())


def test_identical_reads_within_a_flush_are_one_row_with_their_count_and_span(world):
    begin = at(world.month, 3, 10)
    for second in range(5):
        recorder.record_read(world.licensed["id"], FULL, Anonymous("10.1.2.3"), FIREFOX,
                             begin + timedelta(seconds=second))  # fmt: skip
    recorder.record_read(world.licensed["id"], FULL, Anonymous("10.1.2.3"), CHROME, begin)
    assert recorder.pending_count() == 6
    assert recorder.flush() == 6
    grouped, other_browser = rows()
    assert grouped.repeats == 5
    assert grouped.first_at == begin and grouped.occurred_at == begin + timedelta(seconds=4)
    assert other_browser.repeats == 1 and other_browser.first_at is None
    assert other_browser.occurred_at == begin


def test_a_gap_over_thirty_seconds_or_a_new_day_starts_a_new_row(world):
    begin = at(world.month, 3, 23, 59, 0)
    for offset in (0, 10, 45, 61):  # 45 is 35 s after 10; 61 is past midnight
        recorder.record_read(world.licensed["id"], FULL, Anonymous("10.1.2.3"), FIREFOX,
                             begin + timedelta(seconds=offset))  # fmt: skip
    recorder.flush()
    assert [(e.first_at, e.occurred_at, e.repeats) for e in rows()] == [
        (begin, begin + timedelta(seconds=10), 2),
        (None, begin + timedelta(seconds=45), 1),
        (None, begin + timedelta(seconds=61), 1),
    ]


def clicks(world, seed: int) -> list[tuple[int, object, object, str, datetime]]:
    """Reads by readers of both organizations and one outside them, with gaps either side
    of the 30-second window, over two weeks of the month."""
    rng = random.Random(seed)
    readers = [
        Anonymous("10.1.2.3"),
        Anonymous("10.1.9.9"),
        reader_of_b("ada@uni-b.edu"),
        reader_of_b("outsider@gmail.example"),
    ]
    reports = [(world.licensed["id"], FULL), (world.licensed["id"], DENIED),
               (world.public["id"], OPEN), (world.unlicensed["id"], DENIED)]  # fmt: skip
    gaps = [0.2, 1.5, 12, 29.5, 30.5, 45, 900, 3600 * 5]
    when = at(world.month, 3, 8)
    # A member switching browsers mid-chain: two rows, one chain (each row's first click
    # within 30 s of the other's last, though its last click is 35 s after).
    ada, licensed = readers[2], world.licensed["id"]
    reads = [(licensed, FULL, ada, FIREFOX, when + timedelta(seconds=s)) for s in (0, 20, 40)]
    reads += [(licensed, FULL, ada, CHROME, when + timedelta(seconds=s)) for s in (50, 75)]
    when += timedelta(hours=1)
    for _ in range(400):
        when += timedelta(seconds=rng.choice(gaps))
        if reads and rng.random() < 0.5:  # the same reader clicks again
            report_id, decision, viewer, agent, _ = reads[-1]
        else:
            report_id, decision = rng.choice(reports)
            viewer, agent = rng.choice(readers), rng.choice((FIREFOX, CHROME))
        reads.append((report_id, decision, viewer, agent, when))
    return reads


def counts_of(reads, flush_each: bool, month) -> tuple[int, list[tuple], list[tuple]]:
    """Record the reads (a flush after each, or one flush), count the month; returns the
    rows written and the COUNTER and turnaway counts. Starts from an empty ledger."""
    with session_scope() as session:
        for table in (UsageMonthly, UsageDomainTurnaways, UsageProcessing, ReadingEvent):
            session.execute(delete(table))
    for report_id, decision, viewer, agent, when in reads:
        recorder.record_read(report_id, decision, viewer, agent, now=when)
        if flush_each:
            recorder.flush()
    recorder.flush()
    written = len(rows())
    closed = close_months(at(month, 1, 0) + timedelta(days=40))
    with session_scope() as session:
        count_domain_turnaways(session, closed)
    with session_scope() as session:
        monthly = session.execute(
            select(
                UsageMonthly.organization_id,
                UsageMonthly.report_id,
                UsageMonthly.access_type,
                UsageMonthly.total_item_investigations,
                UsageMonthly.unique_item_investigations,
                UsageMonthly.total_item_requests,
                UsageMonthly.unique_item_requests,
                UsageMonthly.no_license,
                UsageMonthly.limit_exceeded,
            )  # fmt: skip
        ).all()
        turnaways = session.execute(
            select(
                UsageDomainTurnaways.reader_domain,
                UsageDomainTurnaways.report_id,
                UsageDomainTurnaways.no_license,
                UsageDomainTurnaways.limit_exceeded,
            )  # fmt: skip
        ).all()
    return written, sorted(map(tuple, monthly)), sorted(map(tuple, turnaways))


def test_counter_counts_grouped_rows_exactly_as_the_reads_one_by_one(world):
    reads = clicks(world, seed=14)
    one_by_one = counts_of(reads, flush_each=True, month=world.month)
    grouped = counts_of(reads, flush_each=False, month=world.month)
    assert one_by_one[0] == len(reads)  # a row a read
    assert grouped[0] < len(reads) * 0.9  # the double clicks folded
    assert grouped[1] == one_by_one[1] and grouped[2] == one_by_one[2]
    assert one_by_one[1] and one_by_one[2]  # both organizations and the outsider counted
