"""Every admin router, under /api/v1/admin; each documents its 401 and 403."""

from fastapi import APIRouter

from app.admin import (
    audit,
    comps,
    content,
    members_csv,
    organizations,
    requests,
    stats,
    tiers,
    usage,
    users,
)
from app.errors import Forbidden, Unauthorized, error_responses

AUTH_RESPONSES = error_responses(Unauthorized, Forbidden)

router = APIRouter()
for area in (
    content,
    tiers,
    comps,
    stats,
    requests,
    organizations,
    members_csv,
    usage,
    users,
    audit,
):
    router.include_router(area.router, responses=AUTH_RESPONSES)
