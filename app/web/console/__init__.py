"""The admin console at /admin: pages over the same services as /api/v1/admin."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from app.web.console import (
    audit,
    catalog,
    members,
    organizations,
    reports,
    requests,
    stats,
    usage,
)
from app.web.console.guard import ConsoleRoute, StaffPage
from app.web.console.pages import console_page

router = APIRouter(prefix="/admin", include_in_schema=False, route_class=ConsoleRoute)


@router.get("")
def dashboard(request: Request, editor: StaffPage) -> Response:
    """Links to every area the viewer may open (editors: reports only)."""
    return console_page(request, "admin/home.html", editor, section="home")


for area in (members, requests, organizations, usage, reports, catalog, stats, audit):
    router.include_router(area.router)
