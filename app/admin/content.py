"""Admin routes for collections and reports (editors and admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from app.deps import (
    EditorDep,
    SessionDep,
    SettingsDep,
    TransactionRoute,
    require_admin,
    require_editor,
)
from app.errors import Conflict, NotFound, Unprocessable, error_responses
from app.models import Collection, Report
from app.reports import editing
from app.reports.admin_schemas import (
    CollectionIn,
    CollectionOut,
    CollectionUpdate,
    ReportAdminOut,
    ReportAdminPage,
    ReportIn,
    ReportUpdate,
)
from app.reports.schemas import FootnoteOut
from app.reports.service import report_by_slug

router = APIRouter(
    prefix="/api/v1/admin",
    tags=["admin: content"],
    dependencies=[Depends(require_editor)],
    route_class=TransactionRoute,
)
Slug = Annotated[str, Path(min_length=1, max_length=200)]
WRITE_ERRORS = error_responses(NotFound, Conflict, Unprocessable)
# SPEC §5: editors have the report endpoints; collections are for admins.
ADMINS_ONLY = [Depends(require_admin)]


def collection_out(c: Collection) -> CollectionOut:
    return CollectionOut(id=c.id, slug=c.slug, name=c.name, description=c.description)  # type: ignore[arg-type]


def report_admin_out(r: Report) -> ReportAdminOut:
    return ReportAdminOut(
        id=r.id,  # type: ignore[arg-type]
        slug=r.slug,
        title=r.title,
        summary=r.summary,
        body=r.body,
        collection=r.collection.slug,
        access_level=r.access_level,
        complimentary=r.complimentary,
        status=r.status,
        published_at=r.published_at,
        free_after=r.free_after,
        tags=r.tags,
        authors=r.authors,
        full_html=r.full_html,
        preview_html=r.preview_html,
        footnotes=[FootnoteOut(**f) for f in r.full_footnotes],
        preview_footnotes=[FootnoteOut(**f) for f in r.preview_footnotes],
        warnings=r.render_warnings,
        created_at=r.created_at,
        updated_at=r.updated_at,
    )


@router.post(
    "/collections",
    status_code=201,
    response_model=CollectionOut,
    responses=WRITE_ERRORS,
    dependencies=ADMINS_ONLY,
)
def create_collection(data: CollectionIn, session: SessionDep, editor: EditorDep) -> CollectionOut:
    return collection_out(editing.create_collection(session, data, editor))


@router.patch(
    "/collections/{slug}",
    response_model=CollectionOut,
    responses=WRITE_ERRORS,
    dependencies=ADMINS_ONLY,
)
def update_collection(
    slug: Slug, data: CollectionUpdate, session: SessionDep, editor: EditorDep
) -> CollectionOut:
    return collection_out(editing.update_collection(session, slug, data, editor))


@router.get("/reports", response_model=ReportAdminPage)
def list_reports(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    status: Annotated[str | None, Query(pattern="^(draft|scheduled|published)$")] = None,
) -> ReportAdminPage:
    """Every report, drafts included, newest first (keyset on creation time)."""
    page, next_cursor = editing.list_reports_for_staff(session, limit, cursor, status)
    return ReportAdminPage(items=[report_admin_out(r) for r in page], next_cursor=next_cursor)


@router.post("/reports", status_code=201, response_model=ReportAdminOut, responses=WRITE_ERRORS)
def create_report(
    data: ReportIn, session: SessionDep, editor: EditorDep, settings: SettingsDep
) -> ReportAdminOut:
    report = editing.create_report(session, data, editor, settings.preview_paragraphs)
    return report_admin_out(report)


@router.get("/reports/{slug}", response_model=ReportAdminOut, responses=error_responses(NotFound))
def read_report(slug: Slug, session: SessionDep) -> ReportAdminOut:
    return report_admin_out(report_by_slug(session, slug))


@router.patch("/reports/{slug}", response_model=ReportAdminOut, responses=WRITE_ERRORS)
def update_report(
    slug: Slug,
    data: ReportUpdate,
    session: SessionDep,
    editor: EditorDep,
    settings: SettingsDep,
) -> ReportAdminOut:
    report = editing.update_report(session, slug, data, editor, settings.preview_paragraphs)
    return report_admin_out(report)


@router.delete("/reports/{slug}", status_code=204, responses=error_responses(NotFound))
def delete_report(slug: Slug, session: SessionDep, editor: EditorDep) -> Response:
    editing.delete_report(session, slug, editor)
    return Response(status_code=204)
