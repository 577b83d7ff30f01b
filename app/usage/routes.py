"""The COUNTER_SUSHI API (/r51/...) and the admin's key issue for it.

COUNTER clients expect COUNTER's own error shape (a single Exception object with its HTTP
status), not Folio's {"detail"}: these routes render CounterException themselves. The
tabular form of a report is the same path asked with `Accept: text/tab-separated-values`
(a query parameter would be one COUNTER does not define, which the Code answers with 3050).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlmodel import Session

from app.config import Settings
from app.deps import AdminDep, SessionDep, SettingsDep, TransactionRoute, require_admin
from app.errors import Forbidden, NotFound, Unauthorized, error_responses
from app.instants import Instant
from app.models import utcnow
from app.usage import counter_lists, counter_reports
from app.usage.counter_api import CounterException, Customer, authenticate
from app.usage.credentials import issue_counter_key
from app.usage.tabular import to_tsv

TSV_MEDIA_TYPE = "text/tab-separated-values"

router = APIRouter(prefix="/r51", tags=["COUNTER 5.1"], route_class=TransactionRoute)
admin_router = APIRouter(
    prefix="/api/v1/admin/organizations",
    tags=["admin: organizations"],
    dependencies=[Depends(require_admin)],
    route_class=TransactionRoute,
)

Text = Annotated[str | None, Query()]


# These only document the parameters (in /docs and the OpenAPI document): the service reads
# the query string itself, so a missing one is COUNTER's 1030, never FastAPI's 422.
async def credentials(
    customer_id: Text = None, api_key: Text = None, platform: Text = None
) -> None:
    return None


async def period(begin_date: Text = None, end_date: Text = None) -> None:
    return None


async def platform_filters(
    metric_type: Text = None,
    data_type: Text = None,
    access_method: Text = None,
    attributes_to_show: Text = None,
    granularity: Text = None,
) -> None:
    return None


async def item_filters(
    access_type: Text = None,
    yop: Text = None,
    item_id: Text = None,
    include_parent_details: Text = None,
    include_component_details: Text = None,
) -> None:
    return None


AUTHENTICATED = [Depends(credentials)]
REPORT = [Depends(credentials), Depends(period)]

Builder = Callable[[Session, Customer, dict[str, str], Settings, datetime], dict[str, Any]]


def _exception(exc: CounterException) -> JSONResponse:
    return JSONResponse(exc.body, exc.status_code)


def _params(request: Request) -> dict[str, str]:
    return dict(request.query_params)


@router.get("/status")
def status(settings: SettingsDep) -> JSONResponse:
    """Public: whether the service is up."""
    return JSONResponse(counter_lists.service_status(settings))


@router.get("/members", dependencies=AUTHENTICATED)
def members(request: Request, session: SessionDep, settings: SettingsDep) -> JSONResponse:
    try:
        customer = authenticate(session, _params(request))
    except CounterException as exc:
        return _exception(exc)
    return JSONResponse(counter_lists.member_list(customer, settings))


@router.get("/reports", dependencies=AUTHENTICATED)
def reports(request: Request, session: SessionDep) -> JSONResponse:
    try:
        authenticate(session, _params(request))
    except CounterException as exc:
        return _exception(exc)
    return JSONResponse(counter_lists.report_list(session, utcnow()))


def _report(
    request: Request, session: Session, settings: Settings, build: Builder, name: str
) -> Response:
    params = _params(request)
    try:
        customer = authenticate(session, params)
        report = build(session, customer, params, settings, utcnow())
    except CounterException as exc:
        return _exception(exc)
    if TSV_MEDIA_TYPE in request.headers.get("accept", ""):
        filters = report["Report_Header"]["Report_Filters"]
        filename = f"{name}_{filters['Begin_Date'][:7]}_{filters['End_Date'][:7]}.tsv"
        return Response(
            to_tsv(report).encode("utf-8"),
            media_type=f"{TSV_MEDIA_TYPE}; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    return JSONResponse(report)


def _platform_view(
    session: Session, customer: Customer, params: dict[str, str], settings: Settings, now: datetime
) -> dict[str, Any]:
    return counter_reports.platform_report(session, customer, params, settings, now, True)


@router.get("/reports/pr", dependencies=[*REPORT, Depends(platform_filters)])
def platform_report(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    return _report(request, session, settings, counter_reports.platform_report, "PR")


@router.get("/reports/pr_p1", dependencies=REPORT)
def platform_usage(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    return _report(request, session, settings, _platform_view, "PR_P1")


@router.get(
    "/reports/ir",
    dependencies=[*REPORT, Depends(platform_filters), Depends(item_filters)],
)
def item_report(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    return _report(request, session, settings, counter_reports.item_report, "IR")


class CounterKeyOut(BaseModel):
    organization_id: int
    customer_id: str
    api_key: str
    issued_at: Instant


@admin_router.post(
    "/{organization_id}/counter-key",
    status_code=201,
    response_model=CounterKeyOut,
    responses=error_responses(NotFound, Unauthorized, Forbidden),
)
def issue_key(
    organization_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    session: SessionDep,
    admin: AdminDep,
) -> CounterKeyOut:
    """Issue (or rotate) the organization's COUNTER API key: shown once, the old one stops
    working at once. The customer ID stays the same across rotations."""
    issued = issue_counter_key(session, organization_id, admin)
    return CounterKeyOut(
        organization_id=issued.organization_id,
        customer_id=issued.customer_id,
        api_key=issued.api_key,
        issued_at=issued.issued_at,
    )
