"""Console pages for the subscription-requests queue: list by status, approve, decline."""

from __future__ import annotations

from typing import Annotated, get_args

from fastapi import APIRouter, Depends, Form, Path, Query, Request, Response

from app.billing import catalog
from app.deps import SessionDep, SettingsDep
from app.institutions import requests
from app.institutions.schemas import ApproveIn, DeclineIn, RequestStatus
from app.web.console.guard import AdminPage, ConsoleRoute, require_admin_page
from app.web.console.pages import (
    FORM_ERRORS,
    Failure,
    back_to,
    console_page,
    failed,
    lines,
    optional,
    page_link,
)

router = APIRouter(dependencies=[Depends(require_admin_page)], route_class=ConsoleRoute)
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
Short = Annotated[str, Form(max_length=200)]
Long = Annotated[str, Form(max_length=50_000)]
STATUSES = get_args(RequestStatus)
PAGE_SIZE = 50


def _queue_page(
    request: Request,
    session: SessionDep,
    admin: AdminPage,
    status: str,
    cursor: str | None = None,
    failure: Failure | None = None,
) -> Response:
    page = None
    try:
        page = requests.list_requests(session, status, PAGE_SIZE, optional(cursor))
    except FORM_ERRORS as exc:
        failure = failure or failed(session, exc)
    next_link = None
    if page is not None and page.next_cursor:
        next_link = page_link("/admin/requests", status=status, cursor=page.next_cursor)
    return console_page(
        request,
        "admin/requests.html",
        admin,
        failure=failure,
        section="requests",
        status=status,
        statuses=STATUSES,
        page=page,
        next_link=next_link,
        tiers=catalog.list_tiers(session),
    )


@router.get("/requests")
def list_requests(
    request: Request,
    session: SessionDep,
    admin: AdminPage,
    status: Annotated[str, Query(max_length=20)] = "pending",
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """GET /api/v1/admin/subscription-requests as a page; the pending queue by default."""
    return _queue_page(request, session, admin, status if status in STATUSES else "pending", cursor)


@router.post("/requests/{request_id}/approve")
def approve_request(
    request: Request,
    request_id: Id,
    session: SessionDep,
    settings: SettingsDep,
    admin: AdminPage,
    tier: Annotated[str, Form(max_length=120)] = "",
    expires_at: Annotated[str, Form(max_length=40)] = "",
    grant_as: Annotated[str, Form(alias="as", max_length=20)] = "comp",
    organization_name: Short = "",
    email_domains: Long = "",
    ip_ranges: Long = "",
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """POST /api/v1/admin/subscription-requests/{id}/approve: a comp or an organization."""
    try:
        data = ApproveIn.model_validate(
            {
                "tier": optional(tier),
                "expires_at": optional(expires_at),
                "as": grant_as,
                "organization_name": optional(organization_name),
                "email_domains": lines(email_domains),
                "ip_ranges": lines(ip_ranges),
                "note": note,
            }
        )
        requests.approve_request(session, settings, request_id, data, admin)
    except FORM_ERRORS as exc:
        return _queue_page(request, session, admin, "pending", failure=failed(session, exc))
    return back_to("/admin/requests", "approved", status="approved")


@router.post("/requests/{request_id}/decline")
def decline_request(
    request: Request,
    request_id: Id,
    session: SessionDep,
    settings: SettingsDep,
    admin: AdminPage,
    reason: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    """POST /api/v1/admin/subscription-requests/{id}/decline, with the reason emailed."""
    try:
        data = DeclineIn.model_validate({"reason": reason})
        requests.decline_request(session, settings, request_id, data, admin)
    except FORM_ERRORS as exc:
        return _queue_page(request, session, admin, "pending", failure=failed(session, exc))
    return back_to("/admin/requests", "declined", status="declined")
