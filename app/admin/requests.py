"""Admin routes for the subscription-requests queue: list, approve, decline."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from app.deps import AdminDep, SessionDep, SettingsDep, TransactionRoute, require_admin
from app.errors import BadRequest, Conflict, NotFound, Unprocessable, error_responses
from app.institutions import requests
from app.institutions.schemas import (
    ApproveIn,
    DeclineIn,
    RequestStatus,
    SubscriptionRequestAdminOut,
    SubscriptionRequestPage,
)

router = APIRouter(
    prefix="/api/v1/admin/subscription-requests",
    tags=["admin: subscription requests"],
    dependencies=[Depends(require_admin)],
    route_class=TransactionRoute,
)
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
DECISION_ERRORS = error_responses(NotFound, Conflict, Unprocessable)


@router.get("", response_model=SubscriptionRequestPage, responses=error_responses(BadRequest))
def list_requests(
    session: SessionDep,
    status: RequestStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> SubscriptionRequestPage:
    """Newest first; `status=pending` is the queue."""
    return requests.list_requests(session, status, limit, cursor)


@router.get(
    "/{request_id}", response_model=SubscriptionRequestAdminOut, responses=error_responses(NotFound)
)
def read_request(request_id: Id, session: SessionDep) -> SubscriptionRequestAdminOut:
    return requests.read_request(session, request_id)


@router.post(
    "/{request_id}/approve", response_model=SubscriptionRequestAdminOut, responses=DECISION_ERRORS
)
def approve_request(
    request_id: Id, data: ApproveIn, session: SessionDep, settings: SettingsDep, admin: AdminDep
) -> SubscriptionRequestAdminOut:
    """Grants the requester a comp (`as: comp`, the default) or creates an organization
    licence (`as: organization`), and emails the requester."""
    return requests.approve_request(session, settings, request_id, data, admin)


@router.post(
    "/{request_id}/decline", response_model=SubscriptionRequestAdminOut, responses=DECISION_ERRORS
)
def decline_request(
    request_id: Id, data: DeclineIn, session: SessionDep, settings: SettingsDep, admin: AdminDep
) -> SubscriptionRequestAdminOut:
    """Declines with a reason, emailed to the requester."""
    return requests.decline_request(session, settings, request_id, data, admin)
