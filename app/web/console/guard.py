"""Who may open the console: one guard dependency, and the route class that answers its refusals.

Admins see every area; editors only the reports pages (SPEC §5). A visitor who is not
signed in is sent to /login?next=… (PageMemberDep); a signed-in reader gets a 403 page.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response

from app.access.viewer import Member
from app.errors import FolioError
from app.web.session import PageMemberDep, PageRoute
from app.web.templating import render_page


class ConsoleRefusal(Exception):
    """A signed-in reader who is not staff enough; ConsoleRoute answers with a 403 page."""

    def __init__(self, viewer: Member) -> None:
        super().__init__("console refused")
        self.viewer = viewer

    def response(self, request: Request) -> Response:
        return render_page(
            request,
            "admin/refused.html",
            {"viewer": self.viewer, "flash": None},
            status_code=403,
            caching="no-store",
        )


class ConsoleGuard:
    """The console's one access rule, as a dependency: staff for the reports pages, admins
    for everything else. Declared once per router, never per handler."""

    def __init__(self, *, admins_only: bool) -> None:
        self.admins_only = admins_only

    async def __call__(self, request: Request, viewer: PageMemberDep) -> Member:
        request.state.console_viewer = viewer
        allowed = viewer.is_admin if self.admins_only else viewer.is_staff
        if not allowed:
            raise ConsoleRefusal(viewer)
        return viewer


require_staff_page = ConsoleGuard(admins_only=False)
require_admin_page = ConsoleGuard(admins_only=True)
StaffPage = Annotated[Member, Depends(require_staff_page)]
AdminPage = Annotated[Member, Depends(require_admin_page)]


def _error_page(request: Request, exc: FolioError) -> Response | None:
    viewer = getattr(request.state, "console_viewer", None)
    if viewer is None:
        return None
    return render_page(
        request,
        "admin/error.html",
        {
            "viewer": viewer,
            "flash": None,
            "section": None,
            "message": exc.message,
            "status": exc.status_code,
        },
        status_code=exc.status_code,
        caching="no-store",
    )


class ConsoleRoute(PageRoute):
    """A page route whose guard refusals become a redirect or a 403 page, and whose domain
    errors outside a form (an unknown id or slug in the address) become an error page; the
    endpoint's transaction is already rolled back."""

    def page_for_error(self, request: Request, exc: Exception) -> Response | None:
        if isinstance(exc, ConsoleRefusal):
            return exc.response(request)
        if isinstance(exc, FolioError):
            return _error_page(request, exc)
        return None
