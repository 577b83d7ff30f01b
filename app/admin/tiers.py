"""Admin routes for tiers and their prices (admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from app.billing import catalog
from app.billing.schemas import TierIn, TierOut, TierUpdate
from app.deps import AdminDep, SessionDep, TransactionRoute, require_admin
from app.errors import Conflict, NotFound, Unprocessable, error_responses

router = APIRouter(
    prefix="/api/v1/admin",
    tags=["admin: tiers"],
    dependencies=[Depends(require_admin)],
    route_class=TransactionRoute,
)
WRITE_ERRORS = error_responses(NotFound, Conflict, Unprocessable)


@router.get("/tiers", response_model=list[TierOut])
def list_tiers(session: SessionDep) -> list[TierOut]:
    return catalog.list_tiers(session)


@router.post("/tiers", status_code=201, response_model=TierOut, responses=WRITE_ERRORS)
def create_tier(data: TierIn, session: SessionDep, admin: AdminDep) -> TierOut:
    return catalog.tier_out(session, catalog.create_tier(session, data, admin))


@router.patch("/tiers/{ref}", response_model=TierOut, responses=WRITE_ERRORS)
def update_tier(
    ref: Annotated[str, Path(min_length=1, max_length=120)],
    data: TierUpdate,
    session: SessionDep,
    admin: AdminDep,
) -> TierOut:
    return catalog.tier_out(session, catalog.update_tier(session, ref, data, admin))
