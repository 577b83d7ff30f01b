"""Admin routes for usage: an organization's COUNTER usage by month and report (JSON, CSV)
and the turnaway lead list. Both read the monthly aggregates (app/usage/statistics.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response

from app.deps import SessionDep, TransactionRoute, require_admin
from app.downloads import csv_download
from app.errors import NotFound, Unprocessable, error_responses
from app.models import utcnow
from app.usage.statistics import (
    csv_filename,
    month_range,
    organization_usage,
    turnaways,
    usage_csv,
)
from app.usage.statistics_schemas import OrganizationUsage, Turnaways

router = APIRouter(
    prefix="/api/v1/admin",
    tags=["admin: usage"],
    dependencies=[Depends(require_admin)],
    route_class=TransactionRoute,
)
OrganizationId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Month = Annotated[str | None, Query(max_length=20, description="YYYY-MM, included")]


@router.get(
    "/organizations/{organization_id}/usage",
    response_model=OrganizationUsage,
    responses=error_responses(NotFound, Unprocessable),
)
def usage(
    organization_id: OrganizationId, session: SessionDep, begin: Month = None, end: Month = None
) -> OrganizationUsage:
    """COUNTER Total_Item_Requests, Unique_Item_Requests, No_License and Limit_Exceeded by
    month and by report. Default range: the twelve months to the last one counted."""
    first, last = month_range(session, begin, end, utcnow())
    return organization_usage(session, organization_id, first, last)


@router.get(
    "/organizations/{organization_id}/usage.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}, **error_responses(NotFound, Unprocessable)},
)
def usage_as_csv(
    organization_id: OrganizationId, session: SessionDep, begin: Month = None, end: Month = None
) -> Response:
    """The same usage, one line per month and report."""
    first, last = month_range(session, begin, end, utcnow())
    report = organization_usage(session, organization_id, first, last)
    return csv_download(usage_csv(report), csv_filename(report))


@router.get("/turnaways", response_model=Turnaways, responses=error_responses(Unprocessable))
def turnaway_list(session: SessionDep, begin: Month = None, end: Month = None) -> Turnaways:
    """Denials (No_License, Limit_Exceeded) by organization and, for verified readers no
    organization covers, by email domain only: a lead list that names no person."""
    first, last = month_range(session, begin, end, utcnow())
    return turnaways(session, first, last)
