"""Operations endpoints: liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.db import get_engine
from app.deps import TransactionRoute

router = APIRouter(tags=["operations"], route_class=TransactionRoute)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    # async: liveness needs no worker thread, so a worker busy to its last thread still
    # answers it (R-S7).
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "Database unreachable"}})
def readyz() -> JSONResponse:
    try:
        with get_engine().connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return JSONResponse(
            {"detail": "Database unreachable", "status": "unavailable"},
            503,
            {"Retry-After": "1"},
        )
    return JSONResponse({"status": "ready"})
