"""Annotated dependency aliases: the request's session, its viewer, and role guards.

Dependencies that do no I/O are `async def`: FastAPI runs every sync dependency in its
own threadpool hop, and those hops, not our code, dominated the hot read path. Database
work stays in the threadpool, never on the event loop.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Session

from app.access.client_ip import client_ip
from app.access.viewer import Anonymous, Member, Viewer
from app.accounts.refresh import user_of_live_session
from app.accounts.service import member_of
from app.accounts.tokens import read_access_token
from app.config import Settings, get_settings
from app.db import get_engine, writer_bind
from app.errors import Forbidden, Unauthorized

SESSION_COOKIE = "folio_session"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/login", auto_error=False)


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One transaction per request: committed before the response, rolled back on error.

    An error marked `keep_writes` (app.accounts.tokens.RecordedRefusal: a revoked refresh
    family, a spent code attempt) is committed before it is answered, so the refusal sticks.
    """
    engine = get_engine()
    write = request.method not in READ_METHODS
    # Creating a Session does no I/O; ending the transaction does, so off the loop.
    session = Session(writer_bind(engine) if write else engine, expire_on_commit=False)
    try:
        yield session
    except BaseException as exc:
        await run_in_threadpool(end_transaction, session, getattr(exc, "keep_writes", False))
        raise
    await run_in_threadpool(end_transaction, session, True)


def end_transaction(session: Session, commit: bool) -> None:
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


async def settings_dependency() -> Settings:
    return get_settings()


SettingsDep = Annotated[Settings, Depends(settings_dependency)]
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


async def request_client_ip(request: Request, settings: SettingsDep) -> str | None:
    peer = request.client.host if request.client else None
    return client_ip(peer, request.headers.get("x-forwarded-for"), settings.trusted_proxies)


ClientIpDep = Annotated[str | None, Depends(request_client_ip)]


def member_from_token(session: Session, token: str, settings: Settings, ip: str | None) -> Member:
    user_id, issued_at, family = read_access_token(token, settings)
    user = user_of_live_session(session, user_id, family)  # None once logged out
    if user is None or user.disabled or user.erased_at is not None:
        raise Unauthorized("Invalid or expired token")
    # Both instants carry microseconds (see issue_access_token), so a token issued just
    # before a password change in the same second is refused and one issued after is not.
    if user.tokens_valid_after is not None and issued_at < user.tokens_valid_after:
        raise Unauthorized("Invalid or expired token")
    return member_of(user, ip)


async def get_viewer(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    ip: ClientIpDep,
    bearer: Annotated[str | None, Depends(oauth2_scheme)],
) -> Viewer:
    """Anonymous without credentials; a present but bad token is a 401, never anonymous."""
    token = bearer or request.cookies.get(SESSION_COOKIE)
    if not token:
        return Anonymous(client_ip=ip)
    return await run_in_threadpool(member_from_token, session, token, settings, ip)


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
