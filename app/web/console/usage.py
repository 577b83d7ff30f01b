"""Console usage: an organization's usage and COUNTER access (shown on its page), and the
turnaway lead list page. The same services as /api/v1/admin/.../usage and /turnaways."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlmodel import Session

from app.deps import SessionDep
from app.downloads import csv_download
from app.models import utcnow
from app.usage.statistics import (
    counter_access,
    csv_filename,
    month_range,
    organization_usage,
    turnaways,
    usage_csv,
)
from app.web.console.guard import AdminPage, ConsoleRoute, require_admin_page
from app.web.console.pages import FORM_ERRORS, Failure, console_page, failed, optional, page_link

router = APIRouter(dependencies=[Depends(require_admin_page)], route_class=ConsoleRoute)
Month = Annotated[str | None, Query(max_length=20)]


@dataclass
class UsageSection:
    """What an organization's page shows about its usage; `failure` when the range is bad."""

    context: dict[str, Any]
    failure: Failure | None = None


def usage_section(
    session: Session, org_id: int, begin: str | None, end: str | None
) -> UsageSection:
    context: dict[str, Any] = {
        "usage": None,
        "counter": counter_access(session, org_id),
        "begin": begin or "",
        "end": end or "",
    }
    try:
        first, last = month_range(session, optional(begin), optional(end), utcnow())
    except FORM_ERRORS as exc:
        return UsageSection(context, failed(session, exc))
    usage = organization_usage(session, org_id, first, last)
    context.update(usage=usage, begin=usage.begin, end=usage.end)  # the range shown
    context["csv_link"] = page_link(
        f"/admin/organizations/{org_id}/usage.csv", begin=usage.begin, end=usage.end
    )
    return UsageSection(context)


@router.get("/organizations/{org_id}/usage.csv", response_model=None)
def usage_as_csv(
    org_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    session: SessionDep,
    admin: AdminPage,
    begin: Month = None,
    end: Month = None,
) -> Response:
    """The same CSV as GET /api/v1/admin/organizations/{id}/usage.csv, for the console's
    link; a bad range is the console's error page."""
    first, last = month_range(session, optional(begin), optional(end), utcnow())
    usage = organization_usage(session, org_id, first, last)
    return csv_download(usage_csv(usage), csv_filename(usage))


@router.get("/turnaways")
def turnaways_page(
    request: Request, session: SessionDep, admin: AdminPage, begin: Month = None, end: Month = None
) -> Response:
    """Who is refused what: by organization, and by email domain for everyone else."""
    lead_list, failure = None, None
    try:
        first, last = month_range(session, optional(begin), optional(end), utcnow())
        lead_list = turnaways(session, first, last)
    except FORM_ERRORS as exc:
        failure = failed(session, exc)
    return console_page(
        request,
        "admin/turnaways.html",
        admin,
        failure=failure,
        section="turnaways",
        turnaways=lead_list,
        begin=lead_list.begin if lead_list else begin or "",
        end=lead_list.end if lead_list else end or "",
    )
