"""What the site's index pages list: every collection, and each live report's address (sitemap)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from app.models import Collection, Report
from app.reports.schemas import CollectionPublic
from app.reports.service import live_clause

# The sitemap protocol's limit for one file; past it the sitemap would need an index file.
SITEMAP_MAX_URLS = 50_000


@dataclass(frozen=True, slots=True)
class LiveReportStamp:
    """A live report's address and its last change: all a sitemap says about it."""

    slug: str
    updated_at: datetime


def list_collections(session: Session) -> list[CollectionPublic]:
    rows = session.execute(select(Collection).order_by(Collection.name, Collection.id)).scalars()
    return [CollectionPublic(slug=c.slug, name=c.name, description=c.description) for c in rows]


def live_report_stamps(session: Session, now: datetime, limit: int) -> list[LiveReportStamp]:
    """Live reports only (R-A3: never a draft or a scheduled report before its time)."""
    rows = session.execute(
        select(Report.slug, Report.updated_at)
        .where(live_clause(now))
        .order_by(Report.published_at.desc(), Report.id.desc())
        .limit(limit)
    )
    return [LiveReportStamp(slug, updated_at) for slug, updated_at in rows]
