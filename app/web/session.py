"""The pages' session: the API's own tokens carried in HttpOnly cookies, refreshed unseen.

Transport apart from token strategy (fastapi-users' CookieTransport): the access JWT and the
opaque refresh token are exactly the ones /api/v1/auth/* issues, with the same expiry,
rotation, replay detection and `sid` revocation. Only where they travel differs:

- `folio_session`: the access token (lives as long as the token, 15 min by default);
- `folio_refresh`: the refresh token (30 days); when the access token has expired, the next
  page rotates it and sets both cookies again, so a reader stays signed in for 30 days of
  inactivity at most, and a logout or a detected replay ends every page at once.

Both are HttpOnly and SameSite=Lax (a link from an email or a search engine still arrives
signed in; a cross-site POST does not carry them), and Secure whenever the site is served
over https or outside dev and test. The API reads the access cookie on reads only: a
state-changing API request needs the bearer header, which a foreign page cannot set
(app.deps.get_viewer); page forms need the CSRF token (app.web.csrf).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session
from starlette.responses import RedirectResponse

from app.access.viewer import Anonymous, Member, Viewer
from app.accounts import service
from app.accounts.schemas import TokenPair
from app.config import Settings
from app.db import bind_for, get_engine
from app.deps import (
    SESSION_COOKIE,
    ClientIpDep,
    SettingsDep,
    TransactionRoute,
    member_from_token,
    within_transaction,
)
from app.errors import Unauthorized
from app.models import utcnow

REFRESH_COOKIE = "folio_refresh"


def cookies_secure(settings: Settings) -> bool:
    return settings.base_url.startswith("https://") or settings.env == "production"


def set_session_cookies(response: Response, pair: TokenPair, settings: Settings) -> None:
    """Signs the browser in with a token pair from the account service."""
    secure = cookies_secure(settings)
    response.set_cookie(
        SESSION_COOKIE,
        pair.access_token,
        max_age=pair.expires_in,
        httponly=True,
        secure=secure,
        samesite="lax",
    )
    if pair.refresh_token is None:
        return
    response.set_cookie(
        REFRESH_COOKIE,
        pair.refresh_token,
        max_age=settings.refresh_token_days * 86_400,
        httponly=True,
        secure=secure,
        samesite="lax",
    )


def clear_session_cookies(response: Response, settings: Settings) -> None:
    secure = cookies_secure(settings)
    for name in (SESSION_COOKIE, REFRESH_COOKIE):
        response.delete_cookie(name, httponly=True, secure=secure, samesite="lax")


def _rotate(token: str, settings: Settings) -> TokenPair:
    # Its own write transaction, committed even on refusal: a replayed token's family stays
    # revoked (RecordedRefusal.keep_writes), as through POST /api/v1/auth/refresh.
    with Session(bind_for(get_engine(), write=True), expire_on_commit=False) as session:
        return within_transaction(
            session, service.refresh_tokens, session, token, settings, utcnow()
        )


def _member_or_none(token: str, settings: Settings, ip: str | None) -> Member | None:
    try:
        return member_from_token(token, settings, ip)
    except Unauthorized:
        return None


def _viewer_from_cookies(
    access: str | None, refresh: str | None, settings: Settings, ip: str | None
) -> tuple[Viewer, TokenPair | None, bool]:
    """(the viewer, a new pair to set if the session was refreshed, whether to clear)."""
    if access:
        member = _member_or_none(access, settings, ip)
        if member is not None:
            return member, None, False
    if not refresh:
        return Anonymous(client_ip=ip), None, bool(access)
    try:
        pair = _rotate(refresh, settings)
    except Unauthorized:
        return Anonymous(client_ip=ip), None, True
    member = _member_or_none(pair.access_token, settings, ip)
    if member is None:
        return Anonymous(client_ip=ip), None, True
    return member, pair, False


async def get_page_viewer(
    request: Request, response: Response, settings: SettingsDep, ip: ClientIpDep
) -> Viewer:
    """The viewer of a page: never a 401; a dead session is cleared and reads anonymous."""
    access = request.cookies.get(SESSION_COOKIE)
    refresh = request.cookies.get(REFRESH_COOKIE)
    if not access and not refresh:
        return Anonymous(client_ip=ip)
    viewer, pair, clear = await run_in_threadpool(
        _viewer_from_cookies, access, refresh, settings, ip
    )
    request.state.session_cookies = response
    if pair is not None:
        set_session_cookies(response, pair, settings)
    elif clear:
        clear_session_cookies(response, settings)
    return viewer


PageViewerDep = Annotated[Viewer, Depends(get_page_viewer)]


class SignInRequired(Exception):
    """A page for signed-in readers opened without a session; PageRoute answers it."""


async def require_page_member(viewer: PageViewerDep) -> Member:
    """The signed-in reader of a page; anyone else is sent to /login (see PageRoute)."""
    if not isinstance(viewer, Member):
        raise SignInRequired()
    return viewer


PageMemberDep = Annotated[Member, Depends(require_page_member)]


def sign_in_redirect(request: Request) -> Response:
    """303 to /login, back here afterwards: a GET returns to its own address, a form post
    (which cannot be replayed by a redirect) to the page it belongs to (/account, /admin)."""
    if request.method in ("GET", "HEAD"):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    else:
        target = "/" + request.url.path.strip("/").split("/", 1)[0]
    response = RedirectResponse("/login?next=" + quote(target, safe="/"), status_code=303)
    response.headers["Cache-Control"] = "no-store"
    return response


def carry_session_cookies(request: Request, response: Response) -> None:
    """Copies the cookies get_page_viewer set (a refreshed pair, or a cleared session) onto
    the page's own response: FastAPI drops the injected Response's headers when a route
    returns a Response of its own, as every page does, and a rotated refresh token that
    never reaches the browser is replayed on the next request, which ends the session."""
    injected: Response | None = getattr(request.state, "session_cookies", None)
    if injected is None or injected is response:
        return
    present = set(response.headers.raw)
    response.headers.raw.extend(
        (name, value)
        for name, value in injected.headers.raw
        if name == b"set-cookie" and (name, value) not in present
    )


class PageRoute(TransactionRoute):
    """The route class of every page router: a TransactionRoute whose answer, whatever it
    is (a page, a redirect, an error page from `page_for_error`), carries the session
    cookies a refresh set while the viewer was read."""

    def page_for_error(self, request: Request, exc: Exception) -> Response | None:
        """A subclass's page for an error the endpoint raised; None lets it propagate."""
        return None

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            try:
                response = await handler(request)
            except SignInRequired:
                response = sign_in_redirect(request)
            except Exception as exc:
                page = self.page_for_error(request, exc)
                if page is None:
                    raise
                response = page
            carry_session_cookies(request, response)
            return response

        return run
