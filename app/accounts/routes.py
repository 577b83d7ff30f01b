"""Account endpoints under /api/v1/auth and /api/v1/me."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm

from app.accounts import service
from app.accounts.schemas import TokenPair
from app.deps import SessionDep, SettingsDep
from app.errors import Forbidden, TooManyRequests, Unauthorized, error_responses

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post("/login", response_model=TokenPair,
             responses=error_responses(Unauthorized, Forbidden, TooManyRequests))
def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    settings: SettingsDep,
) -> TokenPair:
    """OAuth2 password flow: `username` is the email. Swagger's Authorize uses it."""
    user = service.authenticate(session, form.username, form.password)
    return service.issue_tokens(session, user, settings)
