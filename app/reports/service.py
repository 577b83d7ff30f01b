"""Reading reports: visibility, the access decision applied, keyset-paginated lists."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import defer
from sqlmodel import Session

from app.access import (
    LIVE_STATUSES,
    Decision,
    Reason,
    Viewer,
    is_complimentary,
)
from app.billing.catalog import collection_slugs_by_tier
from app.errors import BadRequest, NotFound
from app.instants import to_utc
from app.models import Collection, Report, ReportTag, Tier
from app.pagination import INT64_MAX, checked_id, decode_cursor, encode_cursor
from app.reports import preview_cache  # noqa: F401  (its session hooks: writes bump the generation)
from app.reports.schemas import (
    PricePublic,
    ReportListItem,
    TierPublic,
)

MAX_PAGE = 100


def live_clause(now: datetime) -> ColumnElement[bool]:
    """`is_live` as SQL: what readers may see in lists and feeds (R-A3)."""
    return and_(Report.status.in_(LIVE_STATUSES), Report.published_at <= now)


@dataclass(frozen=True, slots=True)
class ReportView:
    """A report as one viewer may see it: the decision and exactly the text it allows."""

    report: Report
    decision: Decision
    body_html: str
    footnotes: list[dict]


def view_of(report: Report, decision: Decision) -> ReportView:
    """The one place that picks full or preview text, always from a decision."""
    if decision.full:
        return ReportView(report, decision, report.full_html, report.full_footnotes)
    return ReportView(report, decision, report.preview_html, report.preview_footnotes)


def report_by_slug(session: Session, slug: str) -> Report:
    """Any report, drafts included (editors' routes); readers go through app.reports.reading."""
    report = session.execute(select(Report).where(Report.slug == slug)).scalar_one_or_none()
    if report is None:
        raise NotFound("Report not found")
    return report


def active_tiers(session: Session) -> list[TierPublic]:
    """What is on sale (GET /api/v1/tiers, the account page's Subscribe forms)."""
    tiers = session.execute(select(Tier).where(Tier.active.is_(True)).order_by(Tier.id)).scalars()
    return tiers_public(session, tiers.all())


def tiers_public(session: Session, tiers: Sequence[Tier]) -> list[TierPublic]:
    """Public shapes of several tiers in one query for all their collections."""
    slugs = collection_slugs_by_tier(session, [tier.id for tier in tiers])  # type: ignore[misc]
    return [
        TierPublic(
            slug=tier.slug,
            name=tier.name,
            description=tier.description,
            all_collections=tier.all_collections,
            collections=slugs[tier.id],  # type: ignore[index]
            prices=[
                PricePublic(interval=p.interval, amount=p.amount, currency=p.currency)
                for p in tier.prices
            ],
        )
        for tier in tiers
    ]


PAYWALL_MESSAGES = {
    (Reason.LOGIN_REQUIRED, "registered"): (
        "The full text of this report is available to registered readers. "
        "Please log in or register to read it."
    ),
    (Reason.LOGIN_REQUIRED, "subscribers"): (
        "The full text of this report is available to subscribers. "
        "Please log in or register to request subscription information."
    ),
    (Reason.SUBSCRIPTION_REQUIRED, "subscribers"): (
        "The full text of this report is available to subscribers. "
        "Subscribe, or request subscription information for your institution."
    ),
    (Reason.METER_EXHAUSTED, "subscribers"): (
        "You have read all your free reports for this period. Subscribe to keep reading."
    ),
}


# A listed report needs its metadata only: the body and its renderings (most of a row's
# bytes) stay in the database for lists and search results.
WITHOUT_TEXT = tuple(
    defer(column)
    for column in (
        Report.body,
        Report.full_html,
        Report.preview_html,
        Report.full_footnotes,
        Report.preview_footnotes,
        Report.full_text,
        Report.preview_text,
        Report.render_warnings,
    )
)


def list_item(report: Report, now: datetime) -> ReportListItem:
    return list_item_of(report, report.collection.slug, report.tags, now)


def list_item_of(report: Any, collection: str, tags: list[str], now: datetime) -> ReportListItem:
    """A list item from anything with the report's columns (an ORM report, a Core row)."""
    return ReportListItem(
        slug=report.slug,
        title=report.title,
        summary=report.summary,
        collection=collection,
        published_at=report.published_at,
        access_level=report.access_level,
        complimentary=is_complimentary(report, now),
        tags=tags,
    )


# Cursors are opaque to clients: [sort instant, id] of the last item served.
def encode_report_cursor(at: datetime, report_id: int) -> str:
    return encode_cursor([at.isoformat(), report_id])


def decode_report_cursor(cursor: str) -> tuple[datetime, int]:
    """[aware ISO instant, positive 64-bit id], or a 400: a crafted cursor never reaches SQL."""
    position = decode_cursor(cursor)
    if not (isinstance(position, list) and len(position) == 2 and isinstance(position[0], str)):
        raise BadRequest("Invalid cursor")
    at_text, report_id = position
    try:
        at = datetime.fromisoformat(at_text)
        if at.tzinfo is None:
            raise ValueError("naive")
        return to_utc(at), checked_id(report_id, INT64_MAX)
    except ValueError as exc:
        raise BadRequest("Invalid cursor") from exc


def all_collections(session: Session) -> list[Collection]:
    """Every collection, by name."""
    return list(session.execute(select(Collection).order_by(Collection.name)).scalars())


def collection_by_slug(session: Session, slug: str) -> Collection:
    found = session.execute(select(Collection).where(Collection.slug == slug)).scalar_one_or_none()
    if found is None:
        raise NotFound(f"Unknown collection: {slug}")
    return found


def list_reports(
    session: Session,
    viewer: Viewer,
    now: datetime,
    *,
    collection: str | None = None,
    tag: str | None = None,
    limit: int = 20,
    cursor: str | None = None,
) -> tuple[list[ReportListItem], str | None]:
    """Newest first, keyset-paginated on (sort instant, id). Staff also see unpublished work."""
    if viewer.is_staff:
        sort_at = func.coalesce(Report.published_at, Report.created_at)
        query = select(Report)
    else:
        sort_at = Report.published_at
        query = select(Report).where(live_clause(now))
    if collection is not None:
        query = query.where(Report.collection_id == collection_by_slug(session, collection).id)
    if tag is not None:
        query = query.where(
            Report.id.in_(select(ReportTag.report_id).where(ReportTag.tag == tag.lower()))
        )
    if cursor is not None:
        at, last_id = decode_report_cursor(cursor)
        query = query.where(or_(sort_at < at, and_(sort_at == at, Report.id < last_id)))
    rows = (
        session.execute(
            query.options(*WITHOUT_TEXT).order_by(sort_at.desc(), Report.id.desc()).limit(limit + 1)
        )
        .scalars()
        .all()
    )
    page = list(rows[:limit])
    next_cursor = None
    if len(rows) > limit:
        last = page[-1]
        next_cursor = encode_report_cursor(last.published_at or last.created_at, last.id)  # type: ignore[arg-type]
    return [list_item(r, now) for r in page], next_cursor
