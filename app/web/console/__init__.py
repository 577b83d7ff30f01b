"""The admin console at /admin: pages over the same services as /api/v1/admin."""

from __future__ import annotations

from fastapi import APIRouter

from app.deps import TransactionRoute

router = APIRouter(prefix="/admin", include_in_schema=False, route_class=TransactionRoute)
