"""Admin routes for complimentary subscriptions (admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response

from app.billing import comps
from app.billing.catalog import tier_by_ref
from app.billing.schemas import CompIn, CompOut
from app.deps import AdminDep, SessionDep, TransactionRoute, require_admin
from app.errors import NotFound, Unprocessable, error_responses

router = APIRouter(
    prefix="/api/v1/admin",
    tags=["admin: comps"],
    dependencies=[Depends(require_admin)],
    route_class=TransactionRoute,
)
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.post(
    "/users/{user_id}/comps",
    status_code=201,
    response_model=CompOut,
    responses=error_responses(NotFound, Unprocessable),
)
def grant_comp(user_id: Id, data: CompIn, session: SessionDep, admin: AdminDep) -> CompOut:
    comp = comps.grant_comp(session, user_id, data, admin)
    return comps.comp_out(comp, tier_by_ref(session, comp.tier_id))  # type: ignore[arg-type]


@router.delete("/comps/{comp_id}", status_code=204, responses=error_responses(NotFound))
def revoke_comp(comp_id: Id, session: SessionDep, admin: AdminDep) -> Response:
    comps.revoke_comp(session, comp_id, admin)
    return Response(status_code=204)
