"""The console's audit log: the same entries and filters as GET /api/v1/admin/audit."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from app.audit_log import list_audit
from app.deps import SessionDep
from app.web.console.guard import AdminPage, ConsoleRoute, require_admin_page
from app.web.console.pages import (
    FORM_ERRORS,
    console_page,
    failed,
    optional,
    page_link,
    pretty_json,
)

router = APIRouter(dependencies=[Depends(require_admin_page)], route_class=ConsoleRoute)
Filter = Annotated[str | None, Query(max_length=300)]
PAGE_SIZE = 50


@router.get("/audit")
def audit_page(
    request: Request,
    session: SessionDep,
    admin: AdminPage,
    actor: Filter = None,
    action: Filter = None,
    target: Filter = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """Newest first; `action` ending in `.` matches a family, as in the API."""
    filters = {"actor": optional(actor), "action": optional(action), "target": optional(target)}
    entries, next_link, failure = [], None, None
    try:
        page = list_audit(session, **filters, limit=PAGE_SIZE, cursor=optional(cursor))
    except FORM_ERRORS as exc:
        failure = failed(session, exc)
    else:
        entries = [
            {"entry": e, "before": pretty_json(e.before), "after": pretty_json(e.after)}
            for e in page.items
        ]
        if page.next_cursor:
            next_link = page_link("/admin/audit", **filters, cursor=page.next_cursor)
    return console_page(
        request,
        "admin/audit.html",
        admin,
        failure=failure,
        section="audit",
        filters=filters,
        entries=entries,
        next_link=next_link,
    )
