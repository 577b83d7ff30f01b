"""RSS 2.0 feeds: the site's and each collection's carry previews; a private feed, full text."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from email.utils import format_datetime
from html import escape
from xml.etree import ElementTree as ET

from sqlalchemy import select
from sqlmodel import Session

from app.access import Access, Decision, Reason, Viewer, decide_access
from app.access.loading import load_entitlements
from app.config import Settings
from app.models import Collection, Report
from app.reports.service import ReportView, live_clause, view_of

FEED_SIZE = 50
# The public feeds are read by anyone and cached anywhere: previews, whatever the report.
PUBLIC_FEED_DECISION = Decision(Access.PREVIEW, Reason.LOGIN_REQUIRED)


def latest_live(session: Session, now: datetime, collection: Collection | None) -> Sequence[Report]:
    query = select(Report).where(live_clause(now))
    if collection is not None:
        query = query.where(Report.collection_id == collection.id)
    return (
        session.execute(
            query.order_by(Report.published_at.desc(), Report.id.desc()).limit(FEED_SIZE)
        )
        .scalars()
        .all()
    )


def public_feed(
    session: Session, settings: Settings, now: datetime, collection: Collection | None = None
) -> bytes:
    reports = latest_live(session, now, collection)
    title = f"{collection.name}" if collection else "Folio: latest reports"
    link = (
        f"{settings.base_url}/"
        if collection is None
        else (f"{settings.base_url}/?collection={collection.slug}")
    )
    description = collection.description if collection else "The latest reports."
    views = [view_of(r, PUBLIC_FEED_DECISION) for r in reports]
    return render_rss(title, link, description, views, settings)


def private_feed(session: Session, viewer: Viewer, settings: Settings, now: datetime) -> bytes:
    reports = latest_live(session, now, None)
    entitlements = load_entitlements(session, viewer, now)
    views = [view_of(r, decide_access(r, viewer, entitlements, now)) for r in reports]
    return render_rss(
        "Folio: your reports",
        f"{settings.base_url}/",
        "The latest reports, in full where your subscription allows.",
        views,
        settings,
    )


def render_rss(
    title: str, link: str, description: str, views: Sequence[ReportView], settings: Settings
) -> bytes:
    rss = ET.Element("rss", version="2.0")
    channel = ET.SubElement(rss, "channel")
    ET.SubElement(channel, "title").text = title
    ET.SubElement(channel, "link").text = link
    ET.SubElement(channel, "description").text = description
    for view in views:
        report = view.report
        url = f"{settings.base_url}/reports/{report.slug}"
        item = ET.SubElement(channel, "item")
        ET.SubElement(item, "title").text = report.title
        ET.SubElement(item, "link").text = url
        ET.SubElement(item, "guid", isPermaLink="true").text = url
        if report.published_at is not None:
            ET.SubElement(item, "pubDate").text = format_datetime(report.published_at)
        ET.SubElement(item, "category").text = report.collection.name
        for author in report.authors:
            ET.SubElement(item, "author").text = author
        ET.SubElement(item, "description").text = item_html(view, url)
    return ET.tostring(rss, encoding="utf-8", xml_declaration=True)


def item_html(view: ReportView, url: str) -> str:
    notes = "".join(
        f'<li id="fn-{note["n"]}" value="{note["n"]}">{note["html"]}</li>'
        for note in view.footnotes
    )
    body = f"<p>{escape(view.report.summary)}</p>{view.body_html}"
    if notes:
        body += f'<ol class="footnotes">{notes}</ol>'
    if not view.decision.full:
        body += f'<p><a href="{url}">Read the full report</a></p>'
    return body
