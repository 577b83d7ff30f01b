"""Sign-in pages: /login, /register, /verify, /reset, /magic and POST /logout.

Each form calls the service and the throttle the JSON route calls (app.accounts.routes), and
shows a refusal as a message on the form with the API's status. A link from an email opens
a page with a button: its token is spent by the POST, never by the GET, since mail scanners
fetch links before the reader does. Every page here carries a form, so none is cached.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import Response

from app.accounts import service
from app.accounts.routes import MAGIC_ACCEPTED, REGISTER_ACCEPTED, RESET_ACCEPTED, ThrottleDep
from app.accounts.schemas import EmailIn, MagicLinkConfirm, RegisterIn
from app.deps import ClientIpDep, SessionDep, SettingsDep
from app.errors import FolioError, Forbidden, Unauthorized
from app.models import utcnow
from app.web.account_forms import local_path, parse_form, refusal_page, see_other, undo
from app.web.session import (
    REFRESH_COOKIE,
    PageRoute,
    PageViewerDep,
    clear_session_cookies,
    set_session_cookies,
)
from app.web.templating import render_page

router = APIRouter(include_in_schema=False, route_class=PageRoute)

WRONG_CREDENTIALS = "Wrong email or password."
UNVERIFIED = "Verify your email address first: open the link in the email we sent you."
# Fixed notices chosen by a query value, so a link can never put its own words on a page.
LOGIN_NOTICES = {
    "password-changed": "Password changed: log in with your new password.",
    "signed-out": "Every session was signed out. Log in again.",
}

FormText = Annotated[str, Form(max_length=5000)]
Token = Annotated[str, Query(max_length=200)]
Flag = Annotated[str, Query(max_length=10)]


def _page(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    context = {"flash": None} | context
    return render_page(request, template, context, status_code=status_code, caching="no-store")


# --- /login -------------------------------------------------------------------------------


@router.get("/login")
def login_page(
    request: Request,
    viewer: PageViewerDep,
    next: Annotated[str, Query(max_length=2000)] = "/",
    done: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    return _page(
        request,
        "account/login.html",
        viewer=viewer,
        next=local_path(next),
        email="",
        flash=LOGIN_NOTICES.get(done),
        flash_kind="ok",
    )


@router.post("/login")
def login_submit(
    request: Request,
    viewer: PageViewerDep,
    session: SessionDep,
    settings: SettingsDep,
    throttle: ThrottleDep,
    ip: ClientIpDep,
    email: FormText = "",
    password: Annotated[str, Form(max_length=5000)] = "",
    next: FormText = "/",
) -> Response:
    target = local_path(next)
    context = {"viewer": viewer, "next": target, "email": email}
    try:
        with throttle.login_attempt(email, ip):
            user = service.authenticate(session, email, password)
        pair = service.issue_tokens(session, user, settings)
    except FolioError as exc:
        undo(session, exc)
        if isinstance(exc, Unauthorized):
            exc = Unauthorized(WRONG_CREDENTIALS)
        elif isinstance(exc, Forbidden) and exc.message != service.DISABLED:
            context["unverified"] = True
            exc = Forbidden(UNVERIFIED)
        return refusal_page(request, "account/login.html", context, exc)
    response = see_other(request, target)
    set_session_cookies(response, pair, settings)
    return response


# --- /register ----------------------------------------------------------------------------


@router.get("/register")
def register_page(
    request: Request,
    viewer: PageViewerDep,
    next: Annotated[str, Query(max_length=2000)] = "/",
    email: Annotated[str, Query(max_length=320)] = "",
    sent: Flag = "",
) -> Response:
    if sent == "1":
        return _page(
            request,
            "account/notice.html",
            viewer=viewer,
            title="Check your inbox",
            message=REGISTER_ACCEPTED,
            detail="The email holds a link to confirm your address; it works once, in 24 hours.",
        )
    return _page(
        request,
        "account/register.html",
        viewer=viewer,
        next=local_path(next),
        form={"email": email, "name": ""},
        errors={},
    )


@router.post("/register")
def register_submit(
    request: Request,
    viewer: PageViewerDep,
    session: SessionDep,
    settings: SettingsDep,
    throttle: ThrottleDep,
    ip: ClientIpDep,
    email: FormText = "",
    password: Annotated[str, Form(max_length=5000)] = "",
    name: FormText = "",
    next: FormText = "/",
) -> Response:
    context: dict[str, Any] = {
        "viewer": viewer,
        "next": local_path(next),
        "form": {"email": email, "name": name},
    }
    data, errors = parse_form(RegisterIn, email=email, password=password, name=name)
    if data is None:
        return _page(request, "account/register.html", 422, errors=errors, **context)
    try:
        throttle.count_request(ip)
        service.register(session, settings, data, utcnow())
    except FolioError as exc:
        undo(session, exc)
        field = "password" if exc.status_code == 422 else "form"
        context["errors"] = {field: exc.message}
        return refusal_page(request, "account/register.html", context, exc)
    # The same page whether or not the address already has an account (R-S4).
    return see_other(request, "/register?sent=1")


# --- /verify ------------------------------------------------------------------------------


@router.get("/verify")
def verify_page(request: Request, viewer: PageViewerDep, token: Token = "") -> Response:
    """Shows the confirm button; the token is spent only by the POST."""
    return _page(request, "account/verify.html", viewer=viewer, token=token)


@router.post("/verify")
def verify_submit(
    request: Request,
    viewer: PageViewerDep,
    session: SessionDep,
    settings: SettingsDep,
    token: FormText = "",
    next: FormText = "/account?done=verified",
) -> Response:
    try:
        pair = service.verify_email(session, settings, token, utcnow())
    except FolioError as exc:
        undo(session, exc)
        return refusal_page(
            request, "account/verify.html", {"viewer": viewer, "token": "", "dead": True}, exc
        )
    response = see_other(request, local_path(next, "/account"))
    set_session_cookies(response, pair, settings)
    return response


# --- /reset -------------------------------------------------------------------------------


@router.get("/reset")
def reset_page(
    request: Request, viewer: PageViewerDep, token: Token = "", sent: Flag = ""
) -> Response:
    """Without a token: ask for a link. With one (a reset or an invitation): the new
    password form, the token unspent until it is sent."""
    flash = RESET_ACCEPTED if sent == "1" and not token else None
    return _page(
        request,
        "account/reset.html",
        viewer=viewer,
        token=token,
        errors={},
        flash=flash,
        flash_kind="ok",
    )


@router.post("/reset")
def reset_submit(
    request: Request,
    viewer: PageViewerDep,
    session: SessionDep,
    settings: SettingsDep,
    throttle: ThrottleDep,
    ip: ClientIpDep,
    email: FormText = "",
    token: FormText = "",
    password: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    context: dict[str, Any] = {"viewer": viewer, "token": token, "errors": {}}
    if not token:
        data, errors = parse_form(EmailIn, email=email)
        if data is None:
            return _page(request, "account/reset.html", 422, **(context | {"errors": errors}))
        try:
            throttle.count_request(ip)
            service.request_password_reset(session, settings, data.email, utcnow())
        except FolioError as exc:
            undo(session, exc)
            return refusal_page(request, "account/reset.html", context, exc)
        return see_other(request, "/reset?sent=1")
    try:
        service.confirm_password_reset(session, settings, token, password, utcnow())
    except FolioError as exc:
        undo(session, exc)
        if exc.status_code == 422:
            context["errors"] = {"password": exc.message}
        else:
            context |= {"token": "", "dead": True}
        return refusal_page(request, "account/reset.html", context, exc)
    # No sign-in follows, as through the API (OWASP): the reader logs in with it.
    return see_other(request, "/login?done=password-changed")


# --- /magic -------------------------------------------------------------------------------


@router.get("/magic")
def magic_page(
    request: Request, viewer: PageViewerDep, token: Token = "", sent: Flag = ""
) -> Response:
    """Without a token: ask for a link, or enter the emailed code. With one: a button."""
    flash = MAGIC_ACCEPTED if sent == "1" and not token else None
    return _page(
        request,
        "account/magic.html",
        viewer=viewer,
        token=token,
        email="",
        errors={},
        flash=flash,
        flash_kind="ok",
    )


@router.post("/magic")
def magic_submit(
    request: Request,
    viewer: PageViewerDep,
    session: SessionDep,
    settings: SettingsDep,
    throttle: ThrottleDep,
    ip: ClientIpDep,
    email: FormText = "",
    code: FormText = "",
    token: FormText = "",
    next: FormText = "/account",
) -> Response:
    context: dict[str, Any] = {"viewer": viewer, "token": token, "email": email, "errors": {}}
    if not token and not code:
        return _request_magic_link(request, session, settings, throttle, ip, email, context)
    body = {"token": token} if token else {"email": email, "code": code.strip()}
    data, errors = parse_form(MagicLinkConfirm, **body)
    if data is None:
        return _page(request, "account/magic.html", 422, **(context | {"errors": errors}))
    try:
        with throttle.login_attempt(data.email, ip):
            pair = service.confirm_magic_link(session, settings, data, utcnow())
    except FolioError as exc:
        undo(session, exc)
        return refusal_page(request, "account/magic.html", context | {"dead": bool(token)}, exc)
    response = see_other(request, local_path(next, "/account"))
    set_session_cookies(response, pair, settings)
    return response


def _request_magic_link(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    throttle: ThrottleDep,
    ip: str | None,
    email: str,
    context: dict[str, Any],
) -> Response:
    data, errors = parse_form(EmailIn, email=email)
    if data is None:
        return _page(request, "account/magic.html", 422, **(context | {"errors": errors}))
    try:
        throttle.count_request(ip)
        service.request_magic_link(session, settings, data.email, utcnow())
    except FolioError as exc:
        undo(session, exc)
        return refusal_page(request, "account/magic.html", context, exc)
    return see_other(request, "/magic?sent=1")


# --- /logout ------------------------------------------------------------------------------


@router.post("/logout")
def logout(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """Ends the refresh family, and with it every access token of this sign-in (`sid`)."""
    refresh_token = request.cookies.get(REFRESH_COOKIE)
    if refresh_token:
        service.log_out(session, refresh_token, utcnow())
    response = see_other(request, "/")
    clear_session_cookies(response, settings)
    return response
