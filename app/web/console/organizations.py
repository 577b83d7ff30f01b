"""Console pages for organizations (institutional licences): list, create, edit, delete;
an organization's page also shows its usage and issues its COUNTER API key."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request, Response

from app.billing import catalog
from app.deps import SessionDep
from app.institutions import organizations
from app.institutions.schemas import OrganizationIn, OrganizationUpdate
from app.models import utcnow
from app.usage import credentials
from app.usage.credentials import IssuedKey
from app.web.console.guard import AdminPage, ConsoleRoute, require_admin_page
from app.web.console.pages import (
    FORM_ERRORS,
    Failure,
    back_to,
    console_page,
    failed,
    field_date,
    lines,
    optional,
    page_link,
)
from app.web.console.usage import usage_section

router = APIRouter(dependencies=[Depends(require_admin_page)], route_class=ConsoleRoute)
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
Short = Annotated[str, Form(max_length=200)]
Long = Annotated[str, Form(max_length=50_000)]
PAGE_SIZE = 50


class OrganizationForm:
    """The organization form's fields, as sent (re-shown as typed when refused)."""

    def __init__(
        self,
        name: Short = "",
        tier: Annotated[str, Form(max_length=120)] = "",
        email_domains: Long = "",
        ip_ranges: Long = "",
        expires_at: Annotated[str, Form(max_length=40)] = "",
        notes: Annotated[str, Form(max_length=10_000)] = "",
    ) -> None:
        self.name = name
        self.tier = tier
        self.email_domains = email_domains
        self.ip_ranges = ip_ranges
        self.expires_at = expires_at
        self.notes = notes

    def body(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "tier": self.tier,
            "email_domains": lines(self.email_domains),
            "ip_ranges": lines(self.ip_ranges),
            "expires_at": optional(self.expires_at),
            "notes": self.notes,
        }

    @classmethod
    def of(cls, org: Any) -> OrganizationForm:
        return cls(
            name=org.name,
            tier=org.tier,
            email_domains="\n".join(org.email_domains),
            ip_ranges="\n".join(org.ip_ranges),
            expires_at=field_date(org.expires_at),
            notes=org.notes,
        )


FormDep = Annotated[OrganizationForm, Depends()]


def _list_page(
    request: Request,
    session: SessionDep,
    admin: AdminPage,
    cursor: str | None = None,
    form: OrganizationForm | None = None,
    failure: Failure | None = None,
) -> Response:
    page = None
    try:
        page = organizations.list_organizations(session, PAGE_SIZE, optional(cursor), utcnow())
    except FORM_ERRORS as exc:
        failure = failure or failed(session, exc)
    next_link = None
    if page is not None and page.next_cursor:
        next_link = page_link("/admin/organizations", cursor=page.next_cursor)
    return console_page(
        request,
        "admin/organizations.html",
        admin,
        failure=failure,
        section="organizations",
        page=page,
        next_link=next_link,
        tiers=catalog.list_tiers(session),
        form=form or OrganizationForm(),
    )


@router.get("/organizations")
def list_organizations(
    request: Request,
    session: SessionDep,
    admin: AdminPage,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    return _list_page(request, session, admin, cursor)


@router.post("/organizations")
def create_organization(
    request: Request, session: SessionDep, admin: AdminPage, form: FormDep
) -> Response:
    """POST /api/v1/admin/organizations; a bad domain or CIDR re-shows the form with why."""
    try:
        data = OrganizationIn.model_validate(form.body())
        created = organizations.create_organization(session, data, admin)
    except FORM_ERRORS as exc:
        return _list_page(request, session, admin, form=form, failure=failed(session, exc))
    return back_to(f"/admin/organizations/{created.id}", "org-created")


def _organization_page(
    request: Request,
    session: SessionDep,
    admin: AdminPage,
    org_id: int,
    form: OrganizationForm | None = None,
    failure: Failure | None = None,
    begin: str | None = None,
    end: str | None = None,
    issued_key: IssuedKey | None = None,
) -> Response:
    org = organizations.read_organization(session, org_id, utcnow())
    usage = usage_section(session, org_id, begin, end)
    return console_page(
        request,
        "admin/organization.html",
        admin,
        failure=failure or usage.failure,
        section="organizations",
        org=org,
        tiers=catalog.list_tiers(session),
        form=form or OrganizationForm.of(org),
        issued_key=issued_key,
        **usage.context,
    )


@router.get("/organizations/{org_id}")
def read_organization(
    request: Request,
    org_id: Id,
    session: SessionDep,
    admin: AdminPage,
    begin: Annotated[str | None, Query(max_length=20)] = None,
    end: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """The organization, its usage over `begin`..`end` (YYYY-MM) and its COUNTER access."""
    return _organization_page(request, session, admin, org_id, begin=begin, end=end)


@router.post("/organizations/{org_id}/counter-key")
def issue_counter_key(
    request: Request, org_id: Id, session: SessionDep, admin: AdminPage
) -> Response:
    """POST /api/v1/admin/organizations/{id}/counter-key: the new key is on this response
    only (no redirect to a page that could show it again); the old one stops working."""
    try:
        issued = credentials.issue_counter_key(session, org_id, admin)
    except FORM_ERRORS as exc:
        return _list_page(request, session, admin, failure=failed(session, exc))
    return _organization_page(request, session, admin, org_id, issued_key=issued)


@router.post("/organizations/{org_id}")
def update_organization(
    request: Request, org_id: Id, session: SessionDep, admin: AdminPage, form: FormDep
) -> Response:
    """PATCH /api/v1/admin/organizations/{id} with every field; an empty expiry removes it."""
    try:
        data = OrganizationUpdate.model_validate(form.body())
        organizations.update_organization(session, org_id, data, admin)
    except FORM_ERRORS as exc:
        failure = failed(session, exc)
        return _organization_page(request, session, admin, org_id, form, failure)
    return back_to(f"/admin/organizations/{org_id}", "org-saved")


@router.post("/organizations/{org_id}/delete")
def delete_organization(
    request: Request, org_id: Id, session: SessionDep, admin: AdminPage
) -> Response:
    try:
        organizations.delete_organization(session, org_id, admin)
    except FORM_ERRORS as exc:
        return _list_page(request, session, admin, failure=failed(session, exc))
    return back_to("/admin/organizations", "org-deleted")
