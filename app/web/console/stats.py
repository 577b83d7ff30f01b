"""The console's statistics page: the same figures as GET /api/v1/admin/stats."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from app.deps import SessionDep
from app.members.stats import subscriber_stats
from app.models import utcnow
from app.web.console.guard import AdminPage, ConsoleRoute, require_admin_page
from app.web.console.pages import console_page

router = APIRouter(dependencies=[Depends(require_admin_page)], route_class=ConsoleRoute)


def major_units(minor: int) -> str:
    """MRR is kept in minor units; shown with two decimals (every currency we sell has them)."""
    return f"{minor / 100:,.2f}"


@router.get("/stats")
def stats_page(request: Request, session: SessionDep, admin: AdminPage) -> Response:
    return console_page(
        request,
        "admin/stats.html",
        admin,
        section="stats",
        stats=subscriber_stats(session, utcnow()),
        major_units=major_units,
    )
