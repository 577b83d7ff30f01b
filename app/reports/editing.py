"""Writing content: collections and reports, rendered and cut at save time, audited."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlmodel import Session

from app.access import Member
from app.audit import actor_of, record_audit
from app.content import RENDER_VERSION, render_report, slugify
from app.errors import Conflict, Unprocessable
from app.models import Collection, Report, ReportTag, utcnow
from app.reports.admin_schemas import (
    CollectionIn,
    CollectionUpdate,
    ReportIn,
    ReportUpdate,
)
from app.reports.service import (
    collection_by_slug,
    decode_report_cursor,
    encode_report_cursor,
    report_by_slug,
)

AUDITED_REPORT_FIELDS = (
    "slug",
    "title",
    "collection_id",
    "access_level",
    "complimentary",
    "status",
    "published_at",
    "free_after",
)


def _slug_taken(session: Session, model: type, slug: str, own_id: int | None = None) -> bool:
    found = session.execute(select(model.id).where(model.slug == slug)).scalar_one_or_none()
    return found is not None and found != own_id


def create_collection(session: Session, data: CollectionIn, actor: Member | None) -> Collection:
    if _slug_taken(session, Collection, data.slug):
        raise Conflict(f"A collection with slug {data.slug!r} exists")
    collection = Collection(slug=data.slug, name=data.name, description=data.description)
    session.add(collection)
    session.flush()
    record_audit(
        session,
        actor=actor_of(actor),
        action="collection.create",
        target=f"collection:{collection.slug}",
        after=data.model_dump(),
    )
    return collection


def update_collection(
    session: Session, slug: str, data: CollectionUpdate, actor: Member | None
) -> Collection:
    collection = collection_by_slug(session, slug)
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    if "slug" in changes and _slug_taken(session, Collection, changes["slug"], collection.id):
        raise Conflict(f"A collection with slug {changes['slug']!r} exists")
    before = {k: getattr(collection, k) for k in changes}
    for key, value in changes.items():
        setattr(collection, key, value)
    session.add(collection)
    session.flush()
    record_audit(
        session,
        actor=actor_of(actor),
        action="collection.update",
        target=f"collection:{collection.slug}",
        before=before,
        after=changes,
    )
    return collection


def _apply_rendering(report: Report, preview_blocks: int) -> None:
    # The access level decides whether a short body may be its own preview (R-C2).
    rendered = render_report(
        report.body, preview_blocks=preview_blocks, access_level=report.access_level
    )
    report.full_html = rendered.full_html
    report.preview_html = rendered.preview_html
    report.full_footnotes = [asdict(note) for note in rendered.full_footnotes]
    report.preview_footnotes = [asdict(note) for note in rendered.preview_footnotes]
    report.full_text = rendered.full_text
    report.preview_text = rendered.preview_text
    report.render_warnings = list(rendered.warnings)
    report.render_version = RENDER_VERSION


def _check_schedule(status: str, published_at: datetime | None, now: datetime) -> datetime | None:
    if status == "scheduled" and published_at is None:
        raise Unprocessable("A scheduled report needs published_at")
    if status == "published" and published_at is None:
        return now
    return published_at


def _set_tags(report: Report, tags: list[str]) -> None:
    report.tag_rows = [ReportTag(tag=tag) for tag in tags]


def _audit_view(report: Report) -> dict[str, Any]:
    return {field: getattr(report, field) for field in AUDITED_REPORT_FIELDS} | {
        "tags": report.tags
    }


def _unique_slug(session: Session, base: str) -> str:
    slug, n = base, 2
    while _slug_taken(session, Report, slug):
        slug = f"{base[:110]}-{n}"
        n += 1
    return slug


def create_report(
    session: Session, data: ReportIn, actor: Member | None, preview_blocks: int
) -> Report:
    now = utcnow()
    if data.slug is not None and _slug_taken(session, Report, data.slug):
        raise Conflict(f"A report with slug {data.slug!r} exists")
    slug = data.slug or _unique_slug(session, slugify(data.title))
    report = Report(
        slug=slug,
        title=data.title,
        summary=data.summary,
        body=data.body,
        collection_id=collection_by_slug(session, data.collection).id,
        access_level=data.access_level,
        complimentary=data.complimentary,
        status=data.status,
        published_at=_check_schedule(data.status, data.published_at, now),
        free_after=data.free_after,
        authors=data.authors,
        created_at=now,
        updated_at=now,
    )
    _set_tags(report, data.tags)
    _apply_rendering(report, preview_blocks)
    session.add(report)
    session.flush()
    record_audit(
        session,
        actor=actor_of(actor),
        action="report.create",
        target=f"report:{report.slug}",
        after=_audit_view(report),
    )
    return report


def update_report(
    session: Session, slug: str, data: ReportUpdate, actor: Member | None, preview_blocks: int
) -> Report:
    report = report_by_slug(session, slug)
    before = _audit_view(report)
    changes = data.model_dump(exclude_unset=True)
    for required in (
        "title",
        "body",
        "collection",
        "access_level",
        "status",
        "complimentary",
        "summary",
        "slug",
        "tags",
        "authors",
    ):
        if required in changes and changes[required] is None:
            raise Unprocessable(f"{required} cannot be null")
    if "slug" in changes and _slug_taken(session, Report, changes["slug"], report.id):
        raise Conflict(f"A report with slug {changes['slug']!r} exists")
    if "collection" in changes:
        report.collection_id = collection_by_slug(session, changes.pop("collection")).id
    if "tags" in changes:
        _set_tags(report, changes.pop("tags"))
    for key, value in changes.items():
        setattr(report, key, value)
    report.published_at = _check_schedule(report.status, report.published_at, utcnow())
    if "body" in changes or "access_level" in changes:
        _apply_rendering(report, preview_blocks)
    report.updated_at = utcnow()
    session.add(report)
    session.flush()
    record_audit(
        session,
        actor=actor_of(actor),
        action="report.update",
        target=f"report:{report.slug}",
        before=before,
        after=_audit_view(report),
    )
    return report


def list_reports_for_staff(
    session: Session, limit: int, cursor: str | None, status: str | None = None
) -> tuple[list[Report], str | None]:
    """Every report, drafts included, newest first (keyset on creation time)."""
    query = select(Report)
    if status:
        query = query.where(Report.status == status)
    if cursor:
        at, last_id = decode_report_cursor(cursor)
        query = query.where(
            or_(Report.created_at < at, and_(Report.created_at == at, Report.id < last_id))
        )
    rows = (
        session.execute(query.order_by(Report.created_at.desc(), Report.id.desc()).limit(limit + 1))
        .scalars()
        .all()
    )
    page = list(rows[:limit])
    next_cursor = None
    if len(rows) > limit:
        next_cursor = encode_report_cursor(page[-1].created_at, page[-1].id)  # type: ignore[arg-type]
    return page, next_cursor


def delete_report(session: Session, slug: str, actor: Member | None) -> None:
    report = report_by_slug(session, slug)
    before = _audit_view(report)
    session.delete(report)
    session.flush()
    record_audit(
        session,
        actor=actor_of(actor),
        action="report.delete",
        target=f"report:{slug}",
        before=before,
    )


RERENDER_BATCH = 200


def rerender_all(session: Session, preview_blocks: int, *, stale_only: bool = False) -> int:
    """After FOLIO_PREVIEW_PARAGRAPHS changes: every stored rendering made anew. With
    `stale_only`, only those stored by an older renderer (run by `folio migrate`)."""
    query = select(Report.id).order_by(Report.id)
    if stale_only:
        query = query.where(Report.render_version != RENDER_VERSION)
    ids = session.execute(query).scalars().all()
    # In batches, each flushed and let go: a large archive is never all in memory at once.
    for start in range(0, len(ids), RERENDER_BATCH):
        batch = ids[start : start + RERENDER_BATCH]
        for report in session.execute(select(Report).where(Report.id.in_(batch))).scalars():
            _apply_rendering(report, preview_blocks)
        session.flush()
        session.expunge_all()
    return len(ids)
