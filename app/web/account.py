"""The reader's /account page and its forms; the sign-in pages come from app.web.auth_pages.

What the page shows is GET /api/v1/me (profile.me_view) and GET /api/v1/tiers; each form
calls the service its JSON route calls: the Stripe portal and Checkout, a subscription
request, the private feed token, and PATCH /me's name and password change.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import Response

from app.access import Member
from app.access.entitlements import GRANTING_STRIPE_STATUSES
from app.accounts import profile
from app.accounts.routes import ThrottleDep
from app.accounts.schemas import Me, MeUpdate, SubscriptionRequestIn
from app.billing import checkout
from app.billing.routes import CheckoutIn
from app.deps import ClientIpDep, SessionDep, SettingsDep
from app.errors import FolioError
from app.models import utcnow
from app.reports import service as reports_service
from app.web import auth_pages
from app.web.account_forms import parse_form, see_other, undo
from app.web.session import PageMemberDep, PageRoute, clear_session_cookies
from app.web.templating import render_page

router = APIRouter(include_in_schema=False, route_class=PageRoute)
router.include_router(auth_pages.router)

SOURCES = {"stripe": "Subscription", "comp": "Complimentary", "organization": "Licence"}
# Fixed notices chosen by a query value: a link cannot put its own words on the page.
NOTICES = {
    ("checkout", "success"): (
        "Thank you! Your subscription starts as soon as Stripe confirms the payment, "
        "usually within a minute.",
        "ok",
    ),
    ("checkout", "canceled"): ("Checkout was canceled: nothing was charged.", "info"),
    ("done", "verified"): ("Your email address is confirmed. Welcome!", "ok"),
    ("done", "requested"): ("Your request was sent: staff will answer by email.", "ok"),
    ("done", "saved"): ("Your name was saved.", "ok"),
    ("done", "feed-deleted"): ("Your private feed URL was deleted: it no longer works.", "ok"),
}
FormText = Annotated[str, Form(max_length=5000)]
Notice = Annotated[str, Query(max_length=20)]


def _day(instant: datetime | None) -> str:
    return instant.strftime("%-d %B %Y") if instant else ""


def _holdings(
    me: Me, tier_names: dict[str, str], collection_names: dict[str, str]
) -> list[dict[str, Any]]:
    """Entitlements grouped as the reader holds them: one row per tier and source, with
    the collections it opens (by name, as the reader knows them) and its end (and whether
    a Stripe subscription will renew)."""
    rows: dict[tuple, dict[str, Any]] = {}
    for held in me.entitlements:
        key = (held.tier, held.source, held.organization, held.until)
        row = rows.setdefault(
            key,
            {
                "tier": tier_names.get(held.tier, held.tier),
                "source": SOURCES.get(held.source, held.source),
                "organization": held.organization,
                "until": _day(held.until),
                "ending": False,
                "collections": [],
            },
        )
        row["collections"].append(collection_names.get(held.collection, held.collection))
        if held.source == "stripe":
            row["ending"] = any(
                sub.source == "stripe"
                and sub.tier == held.tier
                and sub.status in GRANTING_STRIPE_STATUSES
                and sub.cancel_at_period_end
                for sub in me.subscriptions
            )
    return list(rows.values())


def _price(amount: int, currency: str) -> str:
    return f"{amount / 100:,.2f} {currency.upper()}"


def _account_page(
    request: Request,
    session: SessionDep,
    member: Member,
    *,
    status_code: int = 200,
    flash: tuple[str, str] | None = None,
    errors: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    now = utcnow()
    me = profile.me_view(session, member, now)
    tiers = reports_service.active_tiers(session)
    tier_names = {tier.slug: tier.name for tier in tiers}
    collection_names = {c.slug: c.name for c in reports_service.all_collections(session)}
    offers = [
        {
            "tier": tier.slug,
            "name": tier.name,
            "interval": price.interval,
            "price": _price(price.amount, price.currency),
        }
        for tier in tiers
        for price in tier.prices
    ]
    requests = [
        {
            **req.model_dump(),
            "tier": tier_names.get(req.tier or "", req.tier),
            "day": _day(req.created_at),
        }
        for req in me.subscription_requests
    ]
    context = {
        "viewer": member,
        "me": me,
        "holdings": _holdings(me, tier_names, collection_names),
        "tiers": tiers,
        "offers": offers,
        "requests": requests,
        "has_feed": profile.has_feed_token(session, member),
        "new_feed_url": None,
        "errors": errors or {},
        "request_form": {"organization": "", "message": "", "tier": ""},
        "flash": flash[0] if flash else None,
        "flash_kind": flash[1] if flash else "info",
    } | extra
    return render_page(
        request, "account/account.html", context, status_code=status_code, caching="no-store"
    )


def _refused(
    request: Request,
    session: SessionDep,
    member: Member,
    exc: FolioError,
    section: str,
    **extra: Any,
) -> Response:
    undo(session, exc)
    response = _account_page(
        request,
        session,
        member,
        status_code=exc.status_code,
        errors={section: exc.message},
        **extra,
    )
    if "Retry-After" in exc.headers:
        response.headers["Retry-After"] = exc.headers["Retry-After"]
    return response


@router.get("/account")
def account_page(
    request: Request,
    viewer: PageMemberDep,
    session: SessionDep,
    checkout: Notice = "",
    done: Notice = "",
) -> Response:
    flash = NOTICES.get(("checkout", checkout)) or NOTICES.get(("done", done))
    return _account_page(request, session, viewer, flash=flash)


@router.post("/account/billing-portal")
def billing_portal(
    request: Request, viewer: PageMemberDep, session: SessionDep, settings: SettingsDep
) -> Response:
    try:
        url = checkout.create_portal(viewer, settings)
    except FolioError as exc:
        return _refused(request, session, viewer, exc, "billing")
    return see_other(request, url)


@router.post("/account/checkout")
def start_checkout(
    request: Request,
    viewer: PageMemberDep,
    session: SessionDep,
    settings: SettingsDep,
    tier: FormText = "",
    interval: FormText = "",
) -> Response:
    data, errors = parse_form(CheckoutIn, tier=tier, interval=interval)
    if data is None:
        message = "Choose a subscription and its billing period."
        return _account_page(request, session, viewer, status_code=422, errors={"billing": message})
    try:
        url = checkout.create_checkout(viewer, data.tier, data.interval, settings)
    except FolioError as exc:
        return _refused(request, session, viewer, exc, "billing")
    return see_other(request, url)


@router.post("/account/subscription-request")
def request_subscription(
    request: Request,
    viewer: PageMemberDep,
    session: SessionDep,
    organization: FormText = "",
    message: FormText = "",
    tier: FormText = "",
) -> Response:
    form = {"organization": organization, "message": message, "tier": tier}
    data, errors = parse_form(
        SubscriptionRequestIn, organization=organization.strip(), message=message, tier=tier or None
    )
    if data is None:
        return _account_page(
            request, session, viewer, status_code=422, errors=errors, request_form=form
        )
    try:
        profile.create_subscription_request(session, viewer, data, utcnow())
    except FolioError as exc:
        return _refused(request, session, viewer, exc, "request", request_form=form)
    return see_other(request, "/account?done=requested#request-subscription")


@router.post("/account/feed-token")
def rotate_feed_token(
    request: Request, viewer: PageMemberDep, session: SessionDep, settings: SettingsDep
) -> Response:
    """Answers with the page itself, not a redirect: the new URL is a secret shown once,
    and a redirect would have to carry it in a URL or a cookie."""
    created = profile.rotate_feed_token(session, settings, viewer)
    return _account_page(
        request,
        session,
        viewer,
        new_feed_url=created.url,
        flash=("Your new private feed URL is below; any earlier one has stopped working.", "ok"),
    )


@router.post("/account/feed-token/delete")
def delete_feed_token(request: Request, viewer: PageMemberDep, session: SessionDep) -> Response:
    profile.revoke_feed_token(session, viewer)
    return see_other(request, "/account?done=feed-deleted#feed")


@router.post("/account/profile")
def update_profile(
    request: Request,
    viewer: PageMemberDep,
    session: SessionDep,
    settings: SettingsDep,
    throttle: ThrottleDep,
    ip: ClientIpDep,
    name: FormText = "",
    current_password: Annotated[str, Form(max_length=5000)] = "",
    password: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    """PATCH /me: the name, and the password with the current one. A new password signs
    every session out, this one included, as through the API."""
    changing = bool(password)
    body: dict[str, Any] = {"name": name}
    if changing:
        body |= {"password": password, "current_password": current_password or None}
    data, errors = parse_form(MeUpdate, **body)
    if data is None:
        return _account_page(request, session, viewer, status_code=422, errors=errors)
    try:
        if changing:
            failure = profile.WrongCurrentPassword
            with throttle.login_attempt(viewer.email, ip, failure=failure):
                profile.update_me(session, settings, viewer, data, utcnow())
        else:
            profile.update_me(session, settings, viewer, data, utcnow())
    except FolioError as exc:
        return _refused(request, session, viewer, exc, "profile")
    if not changing:
        return see_other(request, "/account?done=saved")
    response = see_other(request, "/login?done=password-changed&next=/account")
    clear_session_cookies(response, settings)
    return response
