"""Admin routes for members: search, a member's record, edits, erasure."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from app.deps import AdminDep, SessionDep, TransactionRoute, require_admin
from app.errors import BadRequest, Conflict, NotFound, Unprocessable, error_responses
from app.members import search, service
from app.members.schemas import MemberDetail, MemberPage, MemberStatus, MemberUpdate
from app.models import utcnow

router = APIRouter(
    prefix="/api/v1/admin/users",
    tags=["admin: members"],
    dependencies=[Depends(require_admin)],
    route_class=TransactionRoute,
)
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("", response_model=MemberPage, responses=error_responses(BadRequest, Unprocessable))
def list_members(
    session: SessionDep,
    q: Annotated[str | None, Query(max_length=320, description="email prefix or name")] = None,
    status: MemberStatus | None = None,
    tier: Annotated[str | None, Query(min_length=1, max_length=120)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> MemberPage:
    """Newest first. `status` is one per member: disabled, else paid, comp, org, free."""
    return search.search_members(
        session, utcnow(), q=q, status=status, tier=tier, limit=limit, cursor=cursor
    )


@router.get("/{user_id}", response_model=MemberDetail, responses=error_responses(NotFound))
def read_member(user_id: Id, session: SessionDep) -> MemberDetail:
    return service.member_detail(session, user_id, utcnow())


@router.patch(
    "/{user_id}",
    response_model=MemberDetail,
    responses=error_responses(NotFound, Conflict, Unprocessable),
)
def update_member(
    user_id: Id, data: MemberUpdate, session: SessionDep, admin: AdminDep
) -> MemberDetail:
    """Name, role (`reader`, `editor`, `admin`) and disabled. Disabling ends every session."""
    return service.update_member(session, user_id, data, admin)


@router.delete("/{user_id}", status_code=204, responses=error_responses(NotFound, Conflict))
def erase_member(user_id: Id, session: SessionDep, admin: AdminDep) -> Response:
    """Erases personal data; billing records stay, anonymised."""
    service.erase_member(session, user_id, admin)
    return Response(status_code=204)
