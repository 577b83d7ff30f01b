"""Account endpoints: /api/v1/auth/*, /api/v1/me*, /api/v1/subscription-requests.

Every route is a sync `def` on purpose: FastAPI runs it in its threadpool, so argon2
(~50 ms of CPU per hash) never blocks the event loop (R-S1). Email is only written to the
outbox here; the sender (app/mail/sender.py) talks SMTP elsewhere.
"""

from __future__ import annotations

import threading
from contextlib import nullcontext
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm

from app.accounts import profile, service
from app.accounts.schemas import (
    Accepted,
    EmailIn,
    FeedTokenOut,
    MagicLinkConfirm,
    Me,
    MeUpdate,
    PasswordResetConfirm,
    RefreshIn,
    RegisterIn,
    SubscriptionRequestIn,
    SubscriptionRequestOut,
    TokenIn,
    TokenPair,
)
from app.accounts.throttle import Throttle
from app.config import get_settings
from app.deps import ClientIpDep, MemberDep, SessionDep, SettingsDep, TransactionRoute
from app.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
    Unprocessable,
    error_responses,
)
from app.models import utcnow

_throttle_lock = threading.Lock()
REGISTER_ACCEPTED = "Check your inbox: we have sent an email to that address to continue."
RESET_ACCEPTED = "If an account uses that address, we have sent it a link to choose a new password."
MAGIC_ACCEPTED = "If an account uses that address, we have sent it a sign-in link and code."


async def no_store(response: Response) -> None:
    """Tokens and personal data must not be kept by any cache (RFC 6749 §5.1)."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"


def get_throttle(request: Request) -> Throttle:
    """The app's throttle, built on first use from the settings of that moment."""
    state = request.app.state
    throttle = getattr(state, "throttle", None)
    if throttle is None:
        with _throttle_lock:
            throttle = getattr(state, "throttle", None)
            if throttle is None:
                throttle = state.throttle = Throttle.from_settings(get_settings())
    return throttle


ThrottleDep = Annotated[Throttle, Depends(get_throttle)]

auth_router = APIRouter(
    prefix="/api/v1/auth",
    tags=["auth"],
    dependencies=[Depends(no_store)],
    route_class=TransactionRoute,
)
me_router = APIRouter(
    prefix="/api/v1/me",
    tags=["account"],
    dependencies=[Depends(no_store)],
    route_class=TransactionRoute,
)
requests_router = APIRouter(prefix="/api/v1", tags=["account"], route_class=TransactionRoute)


@auth_router.post(
    "/register",
    status_code=202,
    response_model=Accepted,
    responses=error_responses(Unprocessable, TooManyRequests),
)
def register(
    data: RegisterIn,
    session: SessionDep,
    settings: SettingsDep,
    throttle: ThrottleDep,
    ip: ClientIpDep,
) -> Accepted:
    """The same 202 whether or not the address has an account (R-S4); the email differs."""
    throttle.count_request(ip)
    service.register(session, settings, data, utcnow())
    return Accepted(detail=REGISTER_ACCEPTED)


@auth_router.post(
    "/verify", response_model=TokenPair, responses=error_responses(BadRequest, Forbidden)
)
def verify(data: TokenIn, session: SessionDep, settings: SettingsDep) -> TokenPair:
    """Spends the emailed verification token (single use, 24 h) and signs the reader in."""
    return service.verify_email(session, settings, data.token, utcnow())


@auth_router.post(
    "/login",
    response_model=TokenPair,
    responses=error_responses(Unauthorized, Forbidden, TooManyRequests, ServiceUnavailable),
)
def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    settings: SettingsDep,
    throttle: ThrottleDep,
    ip: ClientIpDep,
) -> TokenPair:
    """OAuth2 password flow: `username` is the email. Swagger's Authorize uses it."""
    with throttle.login_attempt(form.username, ip):
        user = service.authenticate(session, form.username, form.password)
    return service.issue_tokens(session, user, settings)


@auth_router.post("/refresh", response_model=TokenPair, responses=error_responses(Unauthorized))
def refresh(data: RefreshIn, session: SessionDep, settings: SettingsDep) -> TokenPair:
    """A new pair; the presented refresh token is spent. A spent one revokes its family."""
    return service.refresh_tokens(session, data.refresh_token, settings, utcnow())


@auth_router.post("/logout", status_code=204)
def logout(data: RefreshIn, session: SessionDep) -> Response:
    service.log_out(session, data.refresh_token, utcnow())
    return Response(status_code=204)


@auth_router.post(
    "/password-reset",
    status_code=202,
    response_model=Accepted,
    responses=error_responses(TooManyRequests),
)
def password_reset(
    data: EmailIn,
    session: SessionDep,
    settings: SettingsDep,
    throttle: ThrottleDep,
    ip: ClientIpDep,
) -> Accepted:
    throttle.count_request(ip)
    service.request_password_reset(session, settings, data.email, utcnow())
    return Accepted(detail=RESET_ACCEPTED)


@auth_router.post(
    "/password-reset/confirm",
    status_code=204,
    responses=error_responses(BadRequest, Forbidden, Unprocessable),
)
def password_reset_confirm(
    data: PasswordResetConfirm, session: SessionDep, settings: SettingsDep
) -> Response:
    """Sets the new password and signs every session out; no sign-in follows."""
    service.confirm_password_reset(session, settings, data.token, data.password, utcnow())
    return Response(status_code=204)


@auth_router.post(
    "/magic-link",
    status_code=202,
    response_model=Accepted,
    responses=error_responses(TooManyRequests),
)
def magic_link(
    data: EmailIn,
    session: SessionDep,
    settings: SettingsDep,
    throttle: ThrottleDep,
    ip: ClientIpDep,
) -> Accepted:
    throttle.count_request(ip)
    service.request_magic_link(session, settings, data.email, utcnow())
    return Accepted(detail=MAGIC_ACCEPTED)


@auth_router.post(
    "/magic-link/confirm",
    response_model=TokenPair,
    responses=error_responses(Unauthorized, Forbidden, TooManyRequests),
)
def magic_link_confirm(
    data: MagicLinkConfirm,
    session: SessionDep,
    settings: SettingsDep,
    throttle: ThrottleDep,
    ip: ClientIpDep,
) -> TokenPair:
    """`{token}` from the link, or `{email, code}`: code guesses count like wrong passwords."""
    with throttle.login_attempt(data.email, ip):
        return service.confirm_magic_link(session, settings, data, utcnow())


@me_router.get("", response_model=Me, responses=error_responses(Unauthorized))
def read_me(member: MemberDep, session: SessionDep) -> Me:
    return profile.me_view(session, member, utcnow())


@me_router.patch(
    "",
    response_model=Me,
    responses=error_responses(BadRequest, Unauthorized, Forbidden, Unprocessable, TooManyRequests),
)
def update_me(
    data: MeUpdate,
    member: MemberDep,
    session: SessionDep,
    settings: SettingsDep,
    throttle: ThrottleDep,
    ip: ClientIpDep,
) -> Me:
    """`name` and `password` (with `current_password`); anything else sent is ignored. A
    password change signs every session out, this one included."""
    now = utcnow()
    attempt = (
        throttle.login_attempt(member.email, ip, failure=profile.WrongCurrentPassword)
        if data.password is not None
        else nullcontext()
    )
    with attempt:
        profile.update_me(session, settings, member, data, now)
    return profile.me_view(session, member, now)


@me_router.post(
    "/feed-token",
    status_code=201,
    response_model=FeedTokenOut,
    responses=error_responses(Unauthorized),
)
def create_feed_token(
    member: MemberDep, session: SessionDep, settings: SettingsDep
) -> FeedTokenOut:
    """Creates or rotates the private feed token: the previous URL stops working at once."""
    return profile.rotate_feed_token(session, settings, member)


@me_router.delete("/feed-token", status_code=204, responses=error_responses(Unauthorized))
def delete_feed_token(member: MemberDep, session: SessionDep) -> Response:
    profile.revoke_feed_token(session, member)
    return Response(status_code=204)


@requests_router.post(
    "/subscription-requests",
    status_code=201,
    response_model=SubscriptionRequestOut,
    responses=error_responses(Unauthorized, Conflict, Unprocessable),
)
def request_subscription(
    data: SubscriptionRequestIn, member: MemberDep, session: SessionDep
) -> SubscriptionRequestOut:
    """An institution's request, vetted by staff; the reader sees it on /api/v1/me."""
    return profile.create_subscription_request(session, member, data, utcnow())


router = APIRouter()
router.include_router(auth_router)
router.include_router(me_router)
router.include_router(requests_router)
