"""The report endpoint's read: Core rows in, orjson bytes out (issue 12, R-P1).

The hottest route builds no ORM objects and runs no pydantic validation: the report, its
collection and its tags come in one statement of columns, what the viewer holds in one
more (app.holdings), and the paywall's tiers, prices and collections in two when there
is a paywall. THE decision is still app.access.decide_access. The bytes are the same
JSON ReportDetail describes (tests/reports/test_read_json.py holds them to it).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import Select, String, bindparam, or_, select, type_coerce
from sqlmodel import Session

from app.access import (
    Decision,
    Entitlement,
    Meter,
    ReportFacts,
    Viewer,
    is_complimentary,
)
from app.access import is_visible as visible_to
from app.config import Settings
from app.errors import NotFound
from app.generation import Generation, Kept
from app.holdings import load_entitlements
from app.instants import to_utc
from app.models import Collection, Price, Report, ReportTag, Tier, TierCollection
from app.reports.meter import decide_metered
from app.reports.preview_cache import PreviewCache
from app.reports.service import PAYWALL_MESSAGES

DEFAULT_PAYWALL_MESSAGE = "The full text of this report is available to subscribers."


@dataclass(frozen=True, slots=True)
class ReportRow:
    """What the endpoint shows of a report, as read (one row per tag, folded)."""

    facts: ReportFacts
    slug: str
    title: str
    summary: str
    authors: list[str]
    updated_at: datetime
    full_html: str
    preview_html: str
    full_footnotes: list[dict[str, Any]]
    preview_footnotes: list[dict[str, Any]]
    collection: dict[str, str]
    tags: list[str]
    id: int
    preview_text: str  # the page's description when there is no summary (app.web.reader_meta)


@lru_cache(maxsize=1)
def _report_query() -> Select:
    reports = Report.__table__.c  # type: ignore[attr-defined]
    collections = Collection.__table__.c  # type: ignore[attr-defined]
    tags = ReportTag.__table__.c  # type: ignore[attr-defined]
    return (
        select(
            reports.access_level,
            reports.complimentary,
            reports.free_after,
            reports.collection_id,
            reports.status,
            reports.published_at,
            reports.slug,
            reports.title,
            reports.summary,
            type_coerce(reports.authors, String),  # decoded once, not per tag row
            reports.updated_at,
            reports.full_html,
            reports.preview_html,
            type_coerce(reports.full_footnotes, String),  # decoded once, not per tag row
            type_coerce(reports.preview_footnotes, String),  # decoded once, not per tag row
            collections.slug,
            collections.name,
            collections.description,
            tags.tag,
            reports.id,
            reports.preview_text,
        )
        .join(Collection.__table__, collections.id == reports.collection_id)  # type: ignore[attr-defined]
        .outerjoin(ReportTag.__table__, tags.report_id == reports.id)  # type: ignore[attr-defined]
        .where(reports.slug == bindparam("slug"))
        .order_by(tags.tag)  # the order Report.tags has (its relationship's order_by)
    )


def report_row(session: Session, slug: str) -> ReportRow | None:
    """The report and its tags in one statement (a row per tag: reports carry a few)."""
    rows = session.connection().execute(_report_query(), {"slug": slug}).all()
    if not rows:
        return None
    first = rows[0]
    return ReportRow(
        facts=ReportFacts(*first[:6]),
        slug=first[6],
        title=first[7],
        summary=first[8],
        authors=_json(first[9]),
        updated_at=first[10],
        full_html=first[11],
        preview_html=first[12],
        full_footnotes=_json(first[13]),
        preview_footnotes=_json(first[14]),
        collection={"slug": first[15], "name": first[16], "description": first[17]},
        tags=[row[18] for row in rows if row[18] is not None],
        id=first[19],
        preview_text=first[20],
    )


def _json(value: Any) -> Any:
    """A JSON column read as text (SQLite), or already decoded (psycopg decodes json)."""
    return orjson.loads(value) if isinstance(value, str | bytes) else value


@dataclass(frozen=True, slots=True)
class ReportRead:
    """The endpoint's body, what it was decided with, and when it changes by itself
    (free_after yet to pass; None: only a write changes it)."""

    body: bytes
    decision: Decision
    report_id: int
    changes_at: datetime | None
    preview_text: str  # the same for every viewer: never text after the cut


def kept_content(previews: PreviewCache, generation: Generation) -> Kept:
    """This worker's content rows under the content generation read before this request's."""
    return Kept(previews.content, generation)


def read_report_json(
    session: Session,
    slug: str,
    viewer: Viewer,
    settings: Settings,
    now: datetime,
    kept: Kept | None = None,
    holdings: Callable[[Session, Viewer, datetime], list[Entitlement]] = load_entitlements,
) -> ReportRead:
    """The report endpoint's body, serialised, with the decision it was made from.

    The report and the paywall's tiers are content: with `kept`, they come from this
    worker's copy when the content generation has not moved since it was read. What the
    viewer holds comes from `holdings`: read fresh, or this worker's copy while the access
    generation stands (app.holdings_cache), which every write to it moves (R-A1)."""
    report = _kept(kept, ("report", slug), lambda: report_row(session, slug))
    if report is None or not visible_to(report.facts, viewer, now):
        raise NotFound("Report not found")  # the same 404 for drafts (R-A3)
    facts = report.facts
    held = _held(holdings, session, viewer, now)
    decision = decide_metered(
        session, facts, report.id, viewer, held, now, settings.metered_free_reads
    )
    paywall = None if decision.full else paywall_json(session, report, decision, settings, kept)
    body = detail_json(report, decision, paywall, now)
    changes_at = facts.free_after if facts.free_after and facts.free_after > now else None
    return ReportRead(body, decision, report.id, changes_at, report.preview_text)


def _kept(kept: Kept | None, key: Hashable, read: Callable[[], Any]) -> Any:
    return read() if kept is None else kept.get(key, read)


def _held(
    holdings: Callable[[Session, Viewer, datetime], list[Entitlement]],
    session: Session,
    viewer: Viewer,
    now: datetime,
) -> Iterator[Entitlement]:
    """What the viewer holds (`holdings`: read fresh, or this worker's copy under the
    access generation, app.holdings_cache), loaded when decide_access first asks for it:
    it does not for a public, complimentary or free-after report, nor for staff."""
    yield from holdings(session, viewer, now)


def detail_json(
    report: ReportRow, decision: Decision, paywall: dict[str, Any] | None, now: datetime
) -> bytes:
    """ReportDetail's JSON, its fields in the schema's order."""
    full = decision.full
    footnotes = report.full_footnotes if full else report.preview_footnotes
    published_at = report.facts.published_at
    return orjson.dumps(
        {
            "slug": report.slug,
            "title": report.title,
            "summary": report.summary,
            "collection": report.collection,
            "published_at": to_utc(published_at) if published_at is not None else None,
            "updated_at": to_utc(report.updated_at),
            "authors": report.authors,
            "tags": report.tags,
            "access_level": report.facts.access_level,
            "complimentary": is_complimentary(report.facts, now),
            "access": decision.access.value,
            "body_html": report.full_html if full else report.preview_html,
            "footnotes": [{"n": int(f["n"]), "html": f["html"]} for f in footnotes],
            "paywall": paywall,
            "meter": meter_json(decision.meter),
        },
        option=orjson.OPT_UTC_Z,
    )


def meter_json(meter: Meter | None) -> dict[str, Any] | None:
    """The reader's meter, shown only when it decided (a metered or meter_exhausted read)."""
    if meter is None:
        return None
    resets_at = meter.resets_at
    return {
        "used": meter.used,
        "limit": meter.limit,
        "resets_at": to_utc(resets_at) if resets_at is not None else None,
    }


def paywall_json(
    session: Session,
    report: ReportRow,
    decision: Decision,
    settings: Settings,
    kept: Kept | None = None,
) -> dict[str, Any]:
    message = PAYWALL_MESSAGES.get(
        (decision.reason, report.facts.access_level), DEFAULT_PAYWALL_MESSAGE
    )
    base = settings.base_url
    return {
        "reason": decision.reason.value,
        "message": message,
        "tiers": _kept(
            kept,
            ("tiers", report.facts.collection_id),
            lambda: tiers_granting(session, report.facts.collection_id),
        ),
        "login_url": f"{base}/login?next=/reports/{report.slug}",
        "register_url": f"{base}/register?next=/reports/{report.slug}",
        "request_url": f"{base}/account#request-subscription",
    }


@lru_cache(maxsize=1)
def _tiers_query() -> Select:
    tiers = Tier.__table__.c  # type: ignore[attr-defined]
    prices = Price.__table__.c  # type: ignore[attr-defined]
    covered = TierCollection.__table__.c  # type: ignore[attr-defined]
    covering = select(covered.tier_id).where(covered.collection_id == bindparam("collection_id"))
    return (
        select(
            tiers.id,
            tiers.slug,
            tiers.name,
            tiers.description,
            tiers.all_collections,
            prices.interval,
            prices.amount,
            prices.currency,
        )
        .outerjoin(Price.__table__, prices.tier_id == tiers.id)  # type: ignore[attr-defined]
        .where(tiers.active.is_(True), or_(tiers.all_collections.is_(True), tiers.id.in_(covering)))
        .order_by(tiers.id, prices.id)
    )


@lru_cache(maxsize=1)
def _tier_collections_query() -> Select:
    covered = TierCollection.__table__.c  # type: ignore[attr-defined]
    collections = Collection.__table__.c  # type: ignore[attr-defined]
    return (
        select(covered.tier_id, collections.slug)
        .join(Collection.__table__, collections.id == covered.collection_id)  # type: ignore[attr-defined]
        .where(covered.tier_id.in_(bindparam("tier_ids", expanding=True)))
        .order_by(collections.slug)
    )


def tiers_granting(session: Session, collection_id: int) -> list[dict[str, Any]]:
    """TierPublic of each active tier that grants the collection, with its prices (by id)
    and its collections' slugs (sorted): two statements of columns."""
    tiers: dict[int, dict[str, Any]] = {}
    for (
        tier_id,
        slug,
        name,
        description,
        every,
        interval,
        amount,
        currency,
    ) in session.connection().execute(_tiers_query(), {"collection_id": collection_id}):
        tier = tiers.get(tier_id)
        if tier is None:
            tier = tiers[tier_id] = {
                "slug": slug,
                "name": name,
                "description": description,
                "all_collections": every,
                "collections": [],
                "prices": [],
            }
        if interval is not None:
            tier["prices"].append({"interval": interval, "amount": amount, "currency": currency})
    if tiers:
        for tier_id, slug in session.connection().execute(
            _tier_collections_query(), {"tier_ids": list(tiers)}
        ):
            tiers[tier_id]["collections"].append(slug)
    return list(tiers.values())
