"""Monthly COUNTER processing: whole months only, idempotent over re-runs, and raw events
pruned after the retention, never before their month is counted."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from typer.testing import CliRunner

from app.access import Anonymous
from app.cli import app
from app.db import session_scope
from app.models import ReadingEvent, UsageMonthly, utcnow
from app.usage import recorder
from app.usage.counter import aggregate, month_start, next_month, prune_events
from tests.usage.conftest import FIREFOX, FULL, OPEN, at, close_months, record_synthetic_month

runner = CliRunner()


def monthly_rows() -> list[tuple]:
    with session_scope() as session:
        return [
            tuple(row)
            for row in session.execute(
                select(UsageMonthly).order_by(UsageMonthly.organization_id, UsageMonthly.report_id)
            ).all()
        ]


def event_count() -> int:
    with session_scope() as session:
        return session.execute(select(func.count()).select_from(ReadingEvent)).scalar_one()


def test_each_ended_month_is_counted_once_and_a_rerun_changes_nothing(world):
    record_synthetic_month(world)
    closed = close_months()
    assert closed == [world.month, next_month(world.month)]
    counted = [(r[0].organization_id, r[0].month, r[0].total_item_requests) for r in monthly_rows()]
    assert close_months() == []
    assert [
        (r[0].organization_id, r[0].month, r[0].total_item_requests) for r in monthly_rows()
    ] == counted


def test_the_current_month_is_never_counted(world):
    now = utcnow()
    recorder.record_read(world.public["id"], OPEN, Anonymous("10.1.2.3"), FIREFOX, now)
    recorder.flush()
    assert month_start(now) not in close_months(now)
    assert monthly_rows() == []


def test_pruning_keeps_the_retention_and_every_event_not_yet_counted(world):
    old = at(world.month, 2, 10)
    recorder.record_read(world.public["id"], OPEN, Anonymous("10.1.2.3"), FIREFOX, old)
    recorder.record_read(world.public["id"], OPEN, Anonymous("10.1.2.3"), FIREFOX, utcnow())
    recorder.flush()
    with session_scope() as session:
        assert prune_events(session, utcnow() + timedelta(days=400), 31) == 0  # nothing counted
    with session_scope() as session:
        aggregate(session, utcnow())
        assert prune_events(session, utcnow(), 365) == 0  # within the retention
    with session_scope() as session:
        # Far in the future: only what was counted goes; this month's read stays.
        assert prune_events(session, utcnow() + timedelta(days=400), 31) == 1
    assert event_count() == 1


def test_the_command_counts_and_prunes(world):
    record_synthetic_month(world)
    result = runner.invoke(app, ["usage-aggregate"])
    assert result.exit_code == 0, result.output
    assert world.month.strftime("%Y-%m") in result.output
    assert monthly_rows() != []
    again = runner.invoke(app, ["usage-aggregate"])
    assert "months counted: none" in again.output


def test_a_double_click_across_the_hour_counts_once_and_unique_never_exceeds_total(world):
    for when in (at(world.month, 5, 10, 59, 50), at(world.month, 5, 11, 0, 10)):
        recorder.record_read(world.licensed["id"], FULL, Anonymous("10.1.2.3"), FIREFOX, when)
    recorder.flush()
    close_months()
    [(row,)] = monthly_rows()
    assert (row.total_item_requests, row.unique_item_requests) == (1, 1)
    assert (row.total_item_investigations, row.unique_item_investigations) == (1, 1)
