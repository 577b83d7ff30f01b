"""(stub) pages: filled in by issue 11."""

from __future__ import annotations

from fastapi import APIRouter

from app.deps import TransactionRoute

router = APIRouter(include_in_schema=False, route_class=TransactionRoute)
