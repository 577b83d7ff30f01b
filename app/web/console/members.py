"""Console pages for members: search, CSV export, a member's record, comps, role, erasure."""

from __future__ import annotations

from typing import Annotated, get_args

from fastapi import APIRouter, Depends, Form, Path, Query, Request, Response

from app.billing import catalog, comps
from app.billing.schemas import CompIn
from app.deps import SessionDep
from app.downloads import csv_download
from app.members import search, service
from app.members.export import member_csv
from app.members.schemas import MemberStatus, MemberUpdate, Role
from app.models import utcnow
from app.web.console.guard import AdminPage, ConsoleRoute, require_admin_page
from app.web.console.pages import (
    FORM_ERRORS,
    Failure,
    back_to,
    console_page,
    failed,
    optional,
    page_link,
)

router = APIRouter(dependencies=[Depends(require_admin_page)], route_class=ConsoleRoute)
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
Text = Annotated[str, Form(max_length=5000)]
STATUSES = get_args(MemberStatus)
ROLES = get_args(Role)
PAGE_SIZE = 50


def _filters(q: str | None, status: str | None, tier: str | None) -> dict[str, str | None]:
    # An unknown status from a hand-edited link is no filter, not an error page.
    return {
        "q": optional(q),
        "status": status if status in STATUSES else None,
        "tier": optional(tier),
    }


@router.get("/members")
def list_members(
    request: Request,
    session: SessionDep,
    admin: AdminPage,
    q: Annotated[str | None, Query(max_length=320)] = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
    tier: Annotated[str | None, Query(max_length=120)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """GET /api/v1/admin/users as a page: search, status and tier filters, keyset pages."""
    return _members_page(request, session, admin, _filters(q, status, tier), cursor)


def _members_page(
    request: Request,
    session: SessionDep,
    admin: AdminPage,
    filters: dict[str, str | None],
    cursor: str | None = None,
    failure: Failure | None = None,
) -> Response:
    page = None
    try:
        page = search.search_members(
            session, utcnow(), **filters, limit=PAGE_SIZE, cursor=optional(cursor)
        )
    except FORM_ERRORS as exc:
        failure = failure or failed(session, exc)
    next_link = None
    if page is not None and page.next_cursor:
        next_link = page_link("/admin/members", **filters, cursor=page.next_cursor)
    return console_page(
        request,
        "admin/members.html",
        admin,
        failure=failure,
        section="members",
        filters=filters,
        statuses=STATUSES,
        tiers=catalog.list_tiers(session),
        page=page,
        next_link=next_link,
        csv_link=page_link("/admin/members.csv", **filters),
    )


@router.get("/members.csv", response_model=None)
def export_members(
    request: Request,
    session: SessionDep,
    admin: AdminPage,
    q: Annotated[str | None, Query(max_length=320)] = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
    tier: Annotated[str | None, Query(max_length=120)] = None,
) -> Response:
    """The same export as GET /api/v1/admin/users.csv (which needs a bearer header), for
    a signed-in admin's browser."""
    filters = _filters(q, status, tier)
    if filters["tier"] is not None:
        try:  # an unknown tier fails before the first byte
            search.tier_id_of(session, filters["tier"])
        except FORM_ERRORS as exc:
            return _members_page(request, session, admin, filters, failure=failed(session, exc))
    return csv_download(member_csv(**filters), "members.csv")


def _member_page(
    request: Request,
    session: SessionDep,
    admin: AdminPage,
    user_id: int,
    failure: Failure | None = None,
) -> Response:
    return console_page(
        request,
        "admin/member.html",
        admin,
        failure=failure,
        section="members",
        member=service.member_detail(session, user_id, utcnow()),
        tiers=catalog.list_tiers(session),
        roles=ROLES,
    )


@router.get("/members/{user_id}")
def read_member(request: Request, user_id: Id, session: SessionDep, admin: AdminPage) -> Response:
    return _member_page(request, session, admin, user_id)


@router.post("/members/{user_id}")
def update_member(
    request: Request,
    user_id: Id,
    session: SessionDep,
    admin: AdminPage,
    name: Text = "",
    role: Annotated[str, Form(max_length=20)] = "",
    disabled: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """PATCH /api/v1/admin/users/{id}: name, role and disabled (an unticked box is false)."""
    try:
        data = MemberUpdate.model_validate(
            {"name": name, "role": role or None, "disabled": disabled == "on"}
        )
        service.update_member(session, user_id, data, admin)
    except FORM_ERRORS as exc:
        return _member_page(request, session, admin, user_id, failed(session, exc))
    return back_to(f"/admin/members/{user_id}", "member-saved")


@router.post("/members/{user_id}/comps")
def grant_comp(
    request: Request,
    user_id: Id,
    session: SessionDep,
    admin: AdminPage,
    tier: Annotated[str, Form(max_length=120)] = "",
    expires_at: Annotated[str, Form(max_length=40)] = "",
    note: Text = "",
) -> Response:
    try:
        data = CompIn.model_validate(
            {"tier": tier, "expires_at": optional(expires_at), "note": note}
        )
        comps.grant_comp(session, user_id, data, admin)
    except FORM_ERRORS as exc:
        return _member_page(request, session, admin, user_id, failed(session, exc))
    return back_to(f"/admin/members/{user_id}", "comp-granted")


@router.post("/members/{user_id}/comps/{comp_id}/revoke")
def revoke_comp(
    request: Request, user_id: Id, comp_id: Id, session: SessionDep, admin: AdminPage
) -> Response:
    try:
        comps.revoke_comp(session, comp_id, admin)
    except FORM_ERRORS as exc:
        return _member_page(request, session, admin, user_id, failed(session, exc))
    return back_to(f"/admin/members/{user_id}", "comp-revoked")


@router.get("/members/{user_id}/erase")
def confirm_erasure(
    request: Request, user_id: Id, session: SessionDep, admin: AdminPage
) -> Response:
    """The confirmation step before DELETE /api/v1/admin/users/{id}: no script, a second page."""
    member = service.member_detail(session, user_id, utcnow())
    return console_page(request, "admin/member_erase.html", admin, section="members", member=member)


@router.post("/members/{user_id}/erase")
def erase_member(
    request: Request,
    user_id: Id,
    session: SessionDep,
    admin: AdminPage,
    confirm: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    failure = None
    if confirm != "yes":
        failure = Failure("Tick “I understand” to erase this member.", 422)
    else:
        try:
            service.erase_member(session, user_id, admin)
        except FORM_ERRORS as exc:
            failure = failed(session, exc)
    if failure is None:
        return back_to("/admin/members", "member-erased")
    member = service.member_detail(session, user_id, utcnow())
    return console_page(
        request, "admin/member_erase.html", admin, failure=failure, section="members", member=member
    )
