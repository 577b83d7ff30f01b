"""Annotated dependency aliases: the request's session, its viewer, and role guards."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Session

from app.access.client_ip import client_ip
from app.access.viewer import Anonymous, Member, Viewer
from app.accounts.tokens import read_access_token
from app.config import Settings, get_settings
from app.db import get_engine, writer_bind
from app.errors import Forbidden, Unauthorized
from app.models import User

SESSION_COOKIE = "folio_session"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/login", auto_error=False)


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed before the response, rolled back on error."""
    engine = get_engine()
    write = request.method not in READ_METHODS
    with Session(writer_bind(engine) if write else engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def request_client_ip(request: Request, settings: SettingsDep) -> str | None:
    peer = request.client.host if request.client else None
    return client_ip(peer, request.headers.get("x-forwarded-for"), settings.trusted_proxies)


ClientIpDep = Annotated[str | None, Depends(request_client_ip)]


def member_from_token(
    session: Session, token: str, settings: Settings, ip: str | None
) -> Member:
    user_id, issued_at = read_access_token(token, settings)
    user = session.get(User, user_id)
    if user is None or user.disabled or user.erased_at is not None:
        raise Unauthorized("Invalid or expired token")
    if user.tokens_valid_after is not None and issued_at < user.tokens_valid_after.replace(
        microsecond=0
    ):
        raise Unauthorized("Invalid or expired token")
    return Member(
        id=user.id,  # type: ignore[arg-type]
        email=user.email,
        role=user.role,
        email_verified=user.email_verified_at is not None,
        name=user.name,
        client_ip=ip,
    )


def get_viewer(
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
    return member_from_token(session, token, settings, ip)


ViewerDep = Annotated[Viewer, Depends(get_viewer)]


def require_member(viewer: ViewerDep) -> Member:
    if not isinstance(viewer, Member):
        raise Unauthorized()
    return viewer


MemberDep = Annotated[Member, Depends(require_member)]


def require_editor(member: MemberDep) -> Member:
    if not member.is_staff:
        raise Forbidden("Editors and admins only")
    return member


def require_admin(member: MemberDep) -> Member:
    if not member.is_admin:
        raise Forbidden("Admins only")
    return member


EditorDep = Annotated[Member, Depends(require_editor)]
AdminDep = Annotated[Member, Depends(require_admin)]
