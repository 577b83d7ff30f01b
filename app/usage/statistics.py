"""Usage statistics for the admin: an organization's usage by month and by report, and the
turnaway lead list (denials by organization, and by verified email domain for readers no
organization covers).

Both read aggregates, never the raw ledger. The organizations' counts are usage_monthly's
(the same COUNTER numbers the /r51 reports give). The domains' denials are in
usage_domain_turnaways, counted by `count_domain_turnaways` when a month closes (the
`usage-aggregate` command, in the transaction that closes it and before raw events are
pruned): raw events are kept FOLIO_USAGE_RETENTION_DAYS only (90 by default), and a sales
lead list wants the year. So both halves cover the same closed months, with the same
rules (robots out, a double click counted once), and the list names domains only: the
aggregate keeps no member, session key, name or address.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import delete, func, insert, select
from sqlmodel import Session

from app.errors import NotFound, Unprocessable
from app.members.export import defuse
from app.models import (
    CounterCredential,
    Organization,
    ReadingEvent,
    Report,
    UsageDomainTurnaways,
    UsageMonthly,
)
from app.usage.counter import (
    LIMIT_EXCEEDED_REASONS,
    NO_LICENSE_REASONS,
    as_instant,
    chain_ends,
    month_start,
    month_text,
    months_between,
    next_month,
    previous_month,
    processing_state,
)
from app.usage.statistics_schemas import (
    CounterAccess,
    DomainTurnaways,
    Metrics,
    MonthReportUsage,
    MonthUsage,
    OrganizationTurnaways,
    OrganizationUsage,
    ReportDenials,
    ReportUsage,
    Turnaways,
)

MONTH_FORMAT = re.compile(r"\d{4}-\d{2}")
DEFAULT_MONTHS = 12
MAX_MONTHS = 120
FIRST_YEAR, LAST_YEAR = 1900, 2999
DENIAL_REASONS = NO_LICENSE_REASONS | LIMIT_EXCEEDED_REASONS
CSV_COLUMNS = (
    "month",
    "report_id",
    "report_title",
    "total_item_requests",
    "unique_item_requests",
    "no_license",
    "limit_exceeded",
)


def _parse_month(name: str, text: str) -> date:
    if not MONTH_FORMAT.fullmatch(text):
        raise Unprocessable(f"{name}: expected a month as YYYY-MM, got {text[:20]!r}")
    year, month = int(text[:4]), int(text[5:])
    if not 1 <= month <= 12:
        raise Unprocessable(f"{name}: {text} is not a month")
    if not FIRST_YEAR <= year <= LAST_YEAR:  # and date arithmetic stays inside date's range
        raise Unprocessable(f"{name}: {text} is outside {FIRST_YEAR}-{LAST_YEAR}")
    return date(year, month, 1)


def month_range(
    session: Session, begin: str | None, end: str | None, now: datetime
) -> tuple[date, date]:
    """The months asked for (YYYY-MM, both included). Without `end`: the last month counted
    (else the last month that has ended); without `begin`: the twelve months to `end`."""
    state = processing_state(session)
    last = _parse_month("end", end) if end else None
    if last is None:
        last = state.processed_through if state else previous_month(month_start(now))
    first = _parse_month("begin", begin) if begin else None
    if first is None:
        first = last
        for _ in range(DEFAULT_MONTHS - 1):
            first = previous_month(first)
    if first > last:
        raise Unprocessable(f"begin ({month_text(first)}) is after end ({month_text(last)})")
    if (last.year - first.year) * 12 + last.month - first.month >= MAX_MONTHS:
        raise Unprocessable(f"the range spans more than {MAX_MONTHS} months")
    return first, last


def _processed_through(session: Session) -> str | None:
    state = processing_state(session)
    return month_text(state.processed_through) if state else None


def _organization(session: Session, organization_id: int) -> Organization:
    organization = session.get(Organization, organization_id)
    if organization is None:
        raise NotFound("Organization not found")
    return organization


def organization_usage(
    session: Session, organization_id: int, first: date, last: date
) -> OrganizationUsage:
    """The organization's COUNTER requests and denials in [first, last], summed over
    access types, by month, by report and by both."""
    organization = _organization(session, organization_id)
    u = UsageMonthly
    rows = session.execute(
        select(
            u.month,
            u.report_id,
            Report.title,
            func.sum(u.total_item_requests),
            func.sum(u.unique_item_requests),
            func.sum(u.no_license),
            func.sum(u.limit_exceeded),
        )
        .join(Report, Report.id == u.report_id)  # type: ignore[arg-type]
        .where(u.organization_id == organization_id, u.month >= first, u.month <= last)  # type: ignore[arg-type,operator]
        .group_by(u.month, u.report_id, Report.title)
        .order_by(u.month, Report.title, u.report_id)
    ).all()
    lines = [
        MonthReportUsage(
            month=month_text(month),
            report_id=report_id,
            title=title,
            total_item_requests=int(total),
            unique_item_requests=int(unique),
            no_license=int(no_license),
            limit_exceeded=int(limit_exceeded),
        )
        for month, report_id, title, total, unique, no_license, limit_exceeded in rows
    ]
    by_month = {month_text(m): MonthUsage(month=month_text(m)) for m in months_between(first, last)}
    by_report: dict[int, ReportUsage] = {}
    totals = Metrics()
    for line in lines:
        report = by_report.setdefault(
            line.report_id, ReportUsage(report_id=line.report_id, title=line.title)
        )
        for target in (by_month[line.month], report, totals):
            _add(target, line)
    return OrganizationUsage(
        organization_id=organization_id,
        name=organization.name,
        begin=month_text(first),
        end=month_text(last),
        processed_through=_processed_through(session),
        months=list(by_month.values()),
        reports=sorted(by_report.values(), key=lambda r: (-r.total_item_requests, r.title)),
        rows=lines,
        totals=totals,
    )


def _add(target: Metrics, line: Metrics) -> None:
    target.total_item_requests += line.total_item_requests
    target.unique_item_requests += line.unique_item_requests
    target.no_license += line.no_license
    target.limit_exceeded += line.limit_exceeded


def usage_csv(usage: OrganizationUsage) -> str:
    """One line per month and report; titles defused so a spreadsheet runs no formula."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in usage.rows:
        writer.writerow(
            [
                row.month,
                row.report_id,
                defuse(row.title),
                row.total_item_requests,
                row.unique_item_requests,
                row.no_license,
                row.limit_exceeded,
            ]
        )
    return buffer.getvalue()


def csv_filename(usage: OrganizationUsage) -> str:
    return f"usage_{usage.organization_id}_{usage.begin}_{usage.end}.csv"


def turnaways(session: Session, first: date, last: date) -> Turnaways:
    """Denials in [first, last] by organization and, for readers no organization covers,
    by verified email domain; the most refused first."""
    u = UsageMonthly
    by_organization = session.execute(
        select(
            u.organization_id,
            Organization.name,
            u.report_id,
            Report.title,
            func.sum(u.no_license),
            func.sum(u.limit_exceeded),
        )
        .join(Organization, Organization.id == u.organization_id)  # type: ignore[arg-type]
        .join(Report, Report.id == u.report_id)  # type: ignore[arg-type]
        .where(u.month >= first, u.month <= last, (u.no_license + u.limit_exceeded) > 0)  # type: ignore[arg-type,operator]
        .group_by(u.organization_id, Organization.name, u.report_id, Report.title)
    ).all()
    d = UsageDomainTurnaways
    by_domain = session.execute(
        select(
            d.reader_domain,
            d.reader_domain,
            d.report_id,
            Report.title,
            func.sum(d.no_license),
            func.sum(d.limit_exceeded),
        )
        .join(Report, Report.id == d.report_id)  # type: ignore[arg-type]
        .where(d.month >= first, d.month <= last)  # type: ignore[arg-type,operator]
        .group_by(d.reader_domain, d.report_id, Report.title)
    ).all()
    organizations = [
        OrganizationTurnaways(organization_id=key, name=name, reports=reports, **totals)
        for key, name, reports, totals in _grouped(by_organization)
    ]
    domains = [
        DomainTurnaways(domain=key, reports=reports, **totals)
        for key, _, reports, totals in _grouped(by_domain)
    ]
    return Turnaways(
        begin=month_text(first),
        end=month_text(last),
        processed_through=_processed_through(session),
        organizations=organizations,
        domains=domains,
    )


def _grouped(rows: Iterable) -> list[tuple]:  # type: ignore[type-arg]
    """(key, label, report_id, title, no_license, limit_exceeded) rows -> per key: its
    label, its reports and its totals, the most denied first."""
    groups: dict[object, tuple[str, list[ReportDenials]]] = {}
    for key, label, report_id, title, no_license, limit_exceeded in rows:
        _, reports = groups.setdefault(key, (label, []))
        reports.append(
            ReportDenials(
                report_id=report_id,
                title=title,
                no_license=int(no_license),
                limit_exceeded=int(limit_exceeded),
                denials=int(no_license) + int(limit_exceeded),
            )
        )
    result = []
    for key, (label, reports) in groups.items():
        reports.sort(key=lambda r: (-r.denials, r.title))
        no_license = sum(r.no_license for r in reports)
        limit_exceeded = sum(r.limit_exceeded for r in reports)
        totals = {
            "no_license": no_license,
            "limit_exceeded": limit_exceeded,
            "denials": no_license + limit_exceeded,
        }
        result.append((key, label, reports, totals))
    result.sort(key=lambda group: (-group[3]["denials"], str(group[1])))
    return result


def count_domain_turnaways(session: Session, months: Iterable[date]) -> int:
    """Count the denials of these (just closed) months by reader domain into
    usage_domain_turnaways; a re-run over a month replaces its rows. Returns rows written.

    The same rules as usage_monthly: robots out, and the same reader's clicks on the same
    report with the same outcome within 30 seconds of the previous one count once."""
    written = 0
    e = ReadingEvent
    for month in months:
        session.execute(
            delete(UsageDomainTurnaways).where(UsageDomainTurnaways.month == month)  # type: ignore[arg-type]
        )
        events = session.execute(
            select(
                e.reader_domain,
                e.report_id,
                e.reason,
                e.member_id,
                e.session_key,
                func.coalesce(e.first_at, e.occurred_at).label("first_at"),
                e.occurred_at,
            )
            .where(
                e.occurred_at >= as_instant(month),
                e.occurred_at < as_instant(next_month(month)),
                e.organization_id.is_(None),  # type: ignore[union-attr]
                e.reader_domain.is_not(None),  # type: ignore[union-attr]
                e.is_robot.is_(False),  # type: ignore[attr-defined]
                e.outcome == "preview",
                e.reason.in_(DENIAL_REASONS),  # type: ignore[attr-defined]
            )
            .order_by(e.occurred_at, e.id)
        )
        counts: dict[tuple[str, int], dict[str, int]] = defaultdict(
            lambda: {"no_license": 0, "limit_exceeded": 0}
        )
        chains = chain_ends(events, lambda r: (r.member_id, r.session_key, r.report_id, r.reason))
        for denial in chains:
            metric = "no_license" if denial.reason in NO_LICENSE_REASONS else "limit_exceeded"
            counts[(denial.reader_domain, denial.report_id)][metric] += 1
        rows = [
            {"month": month, "reader_domain": domain, "report_id": report_id} | metrics
            for (domain, report_id), metrics in counts.items()
        ]
        if rows:
            session.execute(insert(UsageDomainTurnaways.__table__), rows)  # type: ignore[attr-defined]
        written += len(rows)
    return written


def counter_access(session: Session, organization_id: int) -> CounterAccess | None:
    """The organization's COUNTER customer ID and when its key was issued, if ever."""
    credential = session.get(CounterCredential, organization_id)
    if credential is None:
        return None
    return CounterAccess(customer_id=credential.customer_id, issued_at=credential.issued_at)
