"""Console pages for reports (editors and admins): list, create, edit with a preview of the
teaser cut and the renderer's warnings before anything is saved, delete."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request, Response

from app.config import Settings
from app.content import RenderedReport, render_report
from app.deps import SessionDep, SettingsDep
from app.errors import Unprocessable
from app.models import Report
from app.reports import editing
from app.reports.admin_schemas import MAX_BODY_CHARS, ReportIn, ReportUpdate
from app.reports.service import all_collections, report_by_slug
from app.web.console.guard import ConsoleRoute, StaffPage, require_staff_page
from app.web.console.pages import (
    FORM_ERRORS,
    Failure,
    back_to,
    commas,
    console_page,
    failed,
    field_datetime,
    optional,
    page_link,
)

router = APIRouter(dependencies=[Depends(require_staff_page)], route_class=ConsoleRoute)
Slug = Annotated[str, Path(min_length=1, max_length=200)]
Line = Annotated[str, Form(max_length=2000)]
PAGE_SIZE = 50
ACCESS_LEVELS = ("public", "registered", "subscribers")
STATUSES = ("draft", "scheduled", "published")


class ReportForm:
    """The report form's fields, as sent (re-shown as typed after a preview or a refusal)."""

    def __init__(
        self,
        title: Annotated[str, Form(max_length=300)] = "",
        new_slug: Annotated[str, Form(alias="slug", max_length=200)] = "",
        summary: Annotated[str, Form(max_length=5000)] = "",
        collection: Annotated[str, Form(max_length=120)] = "",
        access_level: Annotated[str, Form(max_length=20)] = "subscribers",
        complimentary: Annotated[str, Form(max_length=10)] = "",
        status: Annotated[str, Form(max_length=20)] = "draft",
        published_at: Annotated[str, Form(max_length=40)] = "",
        free_after: Annotated[str, Form(max_length=40)] = "",
        tags: Line = "",
        authors: Line = "",
        body: Annotated[str, Form(max_length=MAX_BODY_CHARS)] = "",
        action: Annotated[str, Form(max_length=20)] = "save",
    ) -> None:
        self.title = title
        self.slug = new_slug
        self.summary = summary
        self.collection = collection
        self.access_level = access_level
        self.complimentary = complimentary == "on"
        self.status = status
        self.published_at = published_at
        self.free_after = free_after
        self.tags = tags
        self.authors = authors
        self.body = body
        self.action = action

    def fields(self) -> dict[str, Any]:
        """The body POST /api/v1/admin/reports takes; an empty slug lets the title make one."""
        fields = {
            "title": self.title,
            "summary": self.summary,
            "body": self.body,
            "collection": self.collection,
            "access_level": self.access_level,
            "complimentary": self.complimentary,
            "status": self.status,
            "published_at": optional(self.published_at),
            "free_after": optional(self.free_after),
            "tags": commas(self.tags),
            "authors": commas(self.authors),
        }
        if optional(self.slug):
            fields["slug"] = self.slug.strip()
        return fields

    @classmethod
    def of(cls, report: Report) -> ReportForm:
        return cls(
            title=report.title,
            new_slug=report.slug,
            summary=report.summary,
            collection=report.collection.slug,
            access_level=report.access_level,
            complimentary="on" if report.complimentary else "",
            status=report.status,
            published_at=field_datetime(report.published_at),
            free_after=field_datetime(report.free_after),
            tags=", ".join(report.tags),
            authors=", ".join(report.authors),
            body=report.body,
        )


FormDep = Annotated[ReportForm, Depends()]


def _preview(form: ReportForm, settings: Settings) -> RenderedReport:
    """What a save would store, rendered by the same function and settings as the save
    (app.reports.editing), and nothing written."""
    if form.access_level not in ACCESS_LEVELS:
        raise Unprocessable(f"access_level must be one of {', '.join(ACCESS_LEVELS)}")
    return render_report(
        form.body, preview_blocks=settings.preview_paragraphs, access_level=form.access_level
    )


def _form_page(
    request: Request,
    session: SessionDep,
    editor: StaffPage,
    form: ReportForm,
    report: Report | None = None,
    preview: RenderedReport | None = None,
    failure: Failure | None = None,
) -> Response:
    return console_page(
        request,
        "admin/report_form.html",
        editor,
        failure=failure,
        section="reports",
        form=form,
        report=report,
        preview=preview,
        collections=all_collections(session),
        access_levels=ACCESS_LEVELS,
        statuses=STATUSES,
    )


@router.get("/reports")
def list_reports(
    request: Request,
    session: SessionDep,
    editor: StaffPage,
    status: Annotated[str | None, Query(max_length=20)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """GET /api/v1/admin/reports as a page: every report, drafts included."""
    status = status if status in STATUSES else None
    rows: list[Report] = []
    next_cursor = failure = None
    try:
        rows, next_cursor = editing.list_reports_for_staff(
            session, PAGE_SIZE, optional(cursor), status
        )
    except FORM_ERRORS as exc:
        failure = failed(session, exc)
    return console_page(
        request,
        "admin/reports.html",
        editor,
        failure=failure,
        section="reports",
        reports=rows,
        status=status,
        statuses=STATUSES,
        next_link=page_link("/admin/reports", status=status, cursor=next_cursor)
        if next_cursor
        else None,
    )


@router.get("/reports/new")
def new_report(request: Request, session: SessionDep, editor: StaffPage) -> Response:
    return _form_page(request, session, editor, ReportForm())


@router.post("/reports/new")
def create_report(
    request: Request,
    session: SessionDep,
    editor: StaffPage,
    settings: SettingsDep,
    form: FormDep,
) -> Response:
    """action=preview renders and saves nothing; action=save is POST /api/v1/admin/reports."""
    try:
        if form.action == "preview":
            preview = _preview(form, settings)
            return _form_page(request, session, editor, form, preview=preview)
        data = ReportIn.model_validate(form.fields())
        report = editing.create_report(session, data, editor, settings.preview_paragraphs)
    except FORM_ERRORS as exc:
        return _form_page(request, session, editor, form, failure=failed(session, exc))
    return back_to(f"/admin/reports/{report.slug}/edit", "report-saved")


@router.get("/reports/{slug}/edit")
def edit_report(request: Request, slug: Slug, session: SessionDep, editor: StaffPage) -> Response:
    report = report_by_slug(session, slug)
    return _form_page(request, session, editor, ReportForm.of(report), report=report)


@router.post("/reports/{slug}/edit")
def update_report(
    request: Request,
    slug: Slug,
    session: SessionDep,
    editor: StaffPage,
    settings: SettingsDep,
    form: FormDep,
) -> Response:
    """action=preview renders and saves nothing; action=save is PATCH /api/v1/admin/reports/{slug}
    with every field of the form."""
    report = report_by_slug(session, slug)
    try:
        if form.action == "preview":
            preview = _preview(form, settings)
            return _form_page(request, session, editor, form, report=report, preview=preview)
        data = ReportUpdate.model_validate(form.fields())
        saved = editing.update_report(session, slug, data, editor, settings.preview_paragraphs)
    except FORM_ERRORS as exc:
        failure = failed(session, exc)
        report = report_by_slug(session, slug)
        return _form_page(request, session, editor, form, report=report, failure=failure)
    return back_to(f"/admin/reports/{saved.slug}/edit", "report-saved")


@router.post("/reports/{slug}/delete")
def delete_report(request: Request, slug: Slug, session: SessionDep, editor: StaffPage) -> Response:
    """DELETE /api/v1/admin/reports/{slug}; an unknown slug is the console's error page."""
    editing.delete_report(session, slug, editor)
    return back_to("/admin/reports", "report-deleted")
