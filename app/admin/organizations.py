"""Admin routes for institutional licences (organizations)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from app.deps import AdminDep, SessionDep, TransactionRoute, require_admin
from app.errors import BadRequest, NotFound, Unprocessable, error_responses
from app.institutions import organizations
from app.institutions.schemas import (
    OrganizationIn,
    OrganizationOut,
    OrganizationPage,
    OrganizationUpdate,
)
from app.models import utcnow

router = APIRouter(
    prefix="/api/v1/admin/organizations",
    tags=["admin: organizations"],
    dependencies=[Depends(require_admin)],
    route_class=TransactionRoute,
)
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("", response_model=OrganizationPage, responses=error_responses(BadRequest))
def list_organizations(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> OrganizationPage:
    return organizations.list_organizations(session, limit, cursor, utcnow())


@router.post(
    "", status_code=201, response_model=OrganizationOut, responses=error_responses(Unprocessable)
)
def create_organization(
    data: OrganizationIn, session: SessionDep, admin: AdminDep
) -> OrganizationOut:
    return organizations.create_organization(session, data, admin)


@router.get("/{org_id}", response_model=OrganizationOut, responses=error_responses(NotFound))
def read_organization(org_id: Id, session: SessionDep) -> OrganizationOut:
    return organizations.read_organization(session, org_id, utcnow())


@router.patch(
    "/{org_id}", response_model=OrganizationOut, responses=error_responses(NotFound, Unprocessable)
)
def update_organization(
    org_id: Id, data: OrganizationUpdate, session: SessionDep, admin: AdminDep
) -> OrganizationOut:
    return organizations.update_organization(session, org_id, data, admin)


@router.delete("/{org_id}", status_code=204, responses=error_responses(NotFound))
def delete_organization(org_id: Id, session: SessionDep, admin: AdminDep) -> Response:
    organizations.delete_organization(session, org_id, admin)
    return Response(status_code=204)
