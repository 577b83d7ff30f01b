"""RSS 2.0 feeds: the site's and each collection's carry previews; a private feed, full text.

Written to what the W3C feed validator checks: authors are names, so Dublin Core
<dc:creator> (RSS <author> must be an email address); every link in an item is absolute; the
channel names its own URL (atom:link rel="self") and its language.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from html import escape
from html.parser import HTMLParser
from urllib.parse import urljoin
from xml.etree import ElementTree as ET

from sqlalchemy import select
from sqlmodel import Session

from app.access import Access, Decision, Reason, Viewer, decide_access
from app.config import Settings
from app.holdings import load_entitlements
from app.models import Collection, Report
from app.reports.service import ReportView, live_clause, view_of

FEED_SIZE = 50
FEED_MEDIA_TYPE = "application/rss+xml"
ATOM_NS = "http://www.w3.org/2005/Atom"
DC_NS = "http://purl.org/dc/elements/1.1/"
ET.register_namespace("atom", ATOM_NS)
ET.register_namespace("dc", DC_NS)
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
    title = collection.name if collection else "Folio: latest reports"
    if collection is None:
        link, self_url = f"{settings.base_url}/", f"{settings.base_url}/feeds/rss.xml"
    else:
        link = f"{settings.base_url}/?collection={collection.slug}"
        self_url = f"{settings.base_url}/feeds/{collection.slug}.xml"
    description = collection.description if collection else "The latest reports."
    views = [view_of(r, PUBLIC_FEED_DECISION) for r in reports]
    return render_rss(Channel(title, link, description, self_url), views, settings)


def private_feed(
    session: Session, viewer: Viewer, token: str, settings: Settings, now: datetime
) -> tuple[bytes, list[ReportView]]:
    """The feed and each item as decided. The meter is not offered here: a feed reader
    polls on its own, and spending a reader's free reads on items they never opened would
    empty the meter unseen; an unentitled item stays a preview (read it on the page)."""
    reports = latest_live(session, now, None)
    entitlements = load_entitlements(session, viewer, now)
    views = [view_of(r, decide_access(r, viewer, entitlements, now)) for r in reports]
    channel = Channel(
        "Folio: your reports",
        f"{settings.base_url}/",
        "The latest reports, in full where your subscription allows.",
        f"{settings.base_url}/feeds/private/{token}.xml",
    )
    return render_rss(channel, views, settings), views


@dataclass(frozen=True)
class Channel:
    title: str
    link: str
    description: str
    self_url: str


def render_rss(channel: Channel, views: Sequence[ReportView], settings: Settings) -> bytes:
    rss = ET.Element("rss", version="2.0")
    element = ET.SubElement(rss, "channel")
    ET.SubElement(element, "title").text = channel.title
    ET.SubElement(element, "link").text = channel.link
    ET.SubElement(element, "description").text = channel.description
    ET.SubElement(element, "language").text = settings.feed_language
    ET.SubElement(
        element, f"{{{ATOM_NS}}}link", href=channel.self_url, rel="self", type=FEED_MEDIA_TYPE
    )
    for view in views:
        report = view.report
        url = f"{settings.base_url}/reports/{report.slug}"
        item = ET.SubElement(element, "item")
        ET.SubElement(item, "title").text = report.title
        ET.SubElement(item, "link").text = url
        ET.SubElement(item, "guid", isPermaLink="true").text = url
        if report.published_at is not None:
            ET.SubElement(item, "pubDate").text = format_datetime(report.published_at)
        ET.SubElement(item, "category").text = report.collection.name
        for author in report.authors:
            ET.SubElement(item, f"{{{DC_NS}}}creator").text = author
        ET.SubElement(item, "description").text = item_html(view, url)
    return ET.tostring(rss, encoding="utf-8", xml_declaration=True)


def item_html(view: ReportView, url: str) -> str:
    """The item's HTML with every link absolute: a feed reader resolves "#fn-1" against
    the feed, not the report page."""
    notes = "".join(
        f'<li id="fn-{note["n"]}" value="{note["n"]}">{note["html"]}</li>'
        for note in view.footnotes
    )
    body = f"<p>{escape(view.report.summary)}</p>{view.body_html}"
    if notes:
        body += f'<ol class="footnotes">{notes}</ol>'
    if not view.decision.full:
        body += f'<p><a href="{url}">Read the full report</a></p>'
    return absolute_links(body, url)


URL_ATTRIBUTES = frozenset({"href", "src"})


class _LinkResolver(HTMLParser):
    """Writes HTML back out unchanged but for href and src, resolved against one page URL."""

    def __init__(self, page_url: str) -> None:
        super().__init__(convert_charrefs=False)
        self.page_url = page_url
        self.parts: list[str] = []

    def _start(self, tag: str, attrs: list[tuple[str, str | None]], end: str) -> None:
        if not any(name in URL_ATTRIBUTES for name, _ in attrs):
            self.parts.append(self.get_starttag_text() or "")
            return
        written = [tag]
        for name, value in attrs:
            if value is None:
                written.append(name)
                continue
            if name in URL_ATTRIBUTES:
                value = urljoin(self.page_url, value.strip())
            written.append(f'{name}="{escape(value)}"')
        self.parts.append(f"<{' '.join(written)}{end}")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, ">")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, " />")

    def handle_endtag(self, tag: str) -> None:
        self.parts.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_entityref(self, name: str) -> None:
        self.parts.append(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self.parts.append(f"&#{name};")


def absolute_links(html: str, page_url: str) -> str:
    resolver = _LinkResolver(page_url)
    resolver.feed(html)
    resolver.close()
    return "".join(resolver.parts)
