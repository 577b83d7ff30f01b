"""Annotated dependency aliases: the request's session, its viewer, and role guards.

Dependencies that do no I/O are `async def`: FastAPI runs every sync dependency in its
own threadpool hop, and those hops, not our code, dominated the hot read path. Database
work stays in the threadpool, never on the event loop.

A database connection is held only inside one threadpool hop (R-S7): the hop that does a
request's work also ends its transaction (TransactionRoute for sync routes,
run_in_transaction for async ones, the viewer lookup in its own read transaction). Ending
it in a later hop would queue the commit, and the connection it frees, behind every newer
request waiting for a connection: with enough of them the worker stops answering.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import AsyncIterator, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Session

from app.access.client_ip import client_ip
from app.access.viewer import Anonymous, Member, Viewer
from app.accounts.refresh import member_for_token
from app.config import Settings, get_settings
from app.db import bind_for, get_engine
from app.errors import Forbidden, Unauthorized

SESSION_COOKIE = "folio_session"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

log = logging.getLogger("folio")
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/login", auto_error=False)
T = TypeVar("T")
# The request's session, seen by the endpoint's worker thread (anyio copies the context).
_request_session: ContextVar[Session | None] = ContextVar("folio_request_session", default=None)


def end_transaction(session: Session, commit: bool) -> None:
    """Commits or rolls back; a failed commit is rolled back too, so the connection returns."""
    if not commit:
        session.rollback()
        return
    try:
        session.commit()
    except BaseException:
        session.rollback()
        raise


def within_transaction(session: Session, func: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """func, then the end of the session's transaction in the same thread: committed when
    func returns, rolled back when it raises, unless the error is marked `keep_writes`
    (app.accounts.tokens.RecordedRefusal: a revoked refresh family, a spent code attempt),
    which is committed before it is answered so the refusal sticks. Either way before any
    response exists: an error at commit is the answer, never a 200."""
    try:
        result = func(*args, **kwargs)
    except BaseException as exc:
        end_transaction(session, getattr(exc, "keep_writes", False))
        raise
    end_transaction(session, True)
    return result


async def run_in_transaction(session: Session, func: Callable[..., T], *args: Any) -> T:
    """For async routes: func's database work and its commit in one threadpool hop."""
    return await run_in_threadpool(within_transaction, session, func, *args)


def _ending_transaction(endpoint: Callable[..., T]) -> Callable[..., T]:
    @functools.wraps(endpoint)
    def run(*args: Any, **kwargs: Any) -> T:
        session = _request_session.get()
        if session is None:
            return endpoint(*args, **kwargs)
        return within_transaction(session, endpoint, *args, **kwargs)

    return run


class TransactionRoute(APIRoute):
    """A route whose sync endpoint ends the request's transaction in its own hop.

    Every router declares `route_class=TransactionRoute`; get_session refuses to serve a
    route that is not one, so a new router cannot quietly bring the stall back.
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint):
            endpoint = _ending_transaction(endpoint)
        super().__init__(path, endpoint, **kwargs)


async def get_session(request: Request) -> AsyncIterator[Session]:
    """The request's session; its transactions are ended where its work ran (see above)."""
    route = request.scope.get("route")
    if not isinstance(route, TransactionRoute):
        raise RuntimeError(f"{request.url.path}: its router needs route_class=TransactionRoute")
    write = request.method not in READ_METHODS
    # Creating a Session does no I/O.
    session = Session(bind_for(get_engine(), write=write), expire_on_commit=False)
    _request_session.set(session)
    try:
        yield session
    except BaseException as exc:
        await _close(session, getattr(exc, "keep_writes", False))
        raise
    await _close(session, True)


async def _close(session: Session, commit: bool) -> None:
    if session.in_transaction():
        # Work done outside the endpoint's hop (an async route calling the session without
        # run_in_transaction): still ended before the response, but in one more hop.
        log.warning("a request transaction outlived its threadpool hop")
        await run_in_threadpool(end_transaction, session, commit)
    session.close()


async def settings_dependency() -> Settings:
    return get_settings()


SettingsDep = Annotated[Settings, Depends(settings_dependency)]
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


async def request_client_ip(request: Request, settings: SettingsDep) -> str | None:
    peer = request.client.host if request.client else None
    return client_ip(peer, request.headers.get("x-forwarded-for"), settings.trusted_proxies)


ClientIpDep = Annotated[str | None, Depends(request_client_ip)]


def member_from_token(token: str, settings: Settings, ip: str | None) -> Member:
    """The signed-in reader, read in its own short transaction (no write lock, no
    connection held past this hop); a 401 once the token's session was logged out."""
    with Session(bind_for(get_engine(), write=False)) as session:
        return member_for_token(session, token, settings, ip)


@dataclass(frozen=True, slots=True)
class Credentials:
    """Who the request says it is, before any I/O: the access token (bearer header, or
    the pages' session cookie on reads) and the client's address."""

    token: str | None
    client_ip: str | None


async def get_credentials(
    request: Request,
    ip: ClientIpDep,
    bearer: Annotated[str | None, Depends(oauth2_scheme)],
) -> Credentials:
    """The pages' session cookie counts on reads only: a state-changing API request must
    carry the bearer header, which a cross-site page cannot make a browser send
    (app/web/csrf.py)."""
    cookie = request.cookies.get(SESSION_COOKIE) if request.method in READ_METHODS else None
    return Credentials(bearer or cookie, ip)


CredentialsDep = Annotated[Credentials, Depends(get_credentials)]


async def get_viewer(credentials: CredentialsDep, settings: SettingsDep) -> Viewer:
    """Anonymous without credentials; a present but bad token is a 401, never anonymous."""
    if not credentials.token:
        return Anonymous(client_ip=credentials.client_ip)
    return await run_in_threadpool(
        member_from_token, credentials.token, settings, credentials.client_ip
    )


ViewerDep = Annotated[Viewer, Depends(get_viewer)]


async def require_member(viewer: ViewerDep) -> Member:
    if not isinstance(viewer, Member):
        raise Unauthorized()
    return viewer


MemberDep = Annotated[Member, Depends(require_member)]


async def require_editor(member: MemberDep) -> Member:
    if not member.is_staff:
        raise Forbidden("Editors and admins only")
    return member


async def require_admin(member: MemberDep) -> Member:
    if not member.is_admin:
        raise Forbidden("Admins only")
    return member


EditorDep = Annotated[Member, Depends(require_editor)]
AdminDep = Annotated[Member, Depends(require_admin)]
