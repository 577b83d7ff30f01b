"""What the reader pages share: their caching rule, labels and dates, and the error page."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from fastapi import Request
from starlette.responses import HTMLResponse

from app.access import Viewer
from app.deps import SESSION_COOKIE
from app.errors import FolioError, NotFound
from app.reports.schemas import PricePublic, ReportListItem
from app.web.session import REFRESH_COOKIE
from app.web.templating import Caching, render_page

BADGES = {"subscribers": "Subscribers", "registered": "Registered", "public": "Free"}
INTERVALS = {"month": "a month", "year": "a year", "week": "a week", "day": "a day"}
# Currencies without minor units (Stripe's list): amounts are whole units.
ZERO_DECIMAL = frozenset(
    ("bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga")
    + ("pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf")
)


def session_cookie_sent(request: Request) -> bool:
    """A request carrying a session (even a dead one, whose response clears it)."""
    return SESSION_COOKIE in request.cookies or REFRESH_COOKIE in request.cookies


def listing_caching(viewer: Viewer, request: Request) -> Caching:
    """A list is the same for every anonymous visitor; a signed-in header is personal."""
    return "private" if viewer.is_member or session_cookie_sent(request) else "public"


def access_badge(item: ReportListItem) -> str:
    if item.complimentary:
        return "Complimentary"
    return BADGES.get(item.access_level, item.access_level.title())


def long_date(at: datetime | None) -> str:
    return f"{at.day} {at:%B %Y}" if at is not None else ""


def price_label(price: PricePublic) -> str:
    currency = price.currency.lower()
    amount = f"{price.amount:,}" if currency in ZERO_DECIMAL else f"{price.amount / 100:,.2f}"
    return f"{amount} {currency.upper()} {INTERVALS.get(price.interval, 'per ' + price.interval)}"


def tag_url(tag: str) -> str:
    """A tag's page path; a tag may hold any character, "/" and "?" included."""
    return "/tags/" + quote(tag, safe="")


PAGE_HELPERS: dict[str, Any] = {
    "tag_url": tag_url,
    "access_badge": access_badge,
    "long_date": long_date,
    "price_label": price_label,
}


def reader_page(
    request: Request,
    template: str,
    viewer: Viewer,
    *,
    caching: Caching,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    return render_page(
        request,
        template,
        {**PAGE_HELPERS, "flash": None, **context, "viewer": viewer},
        status_code=status_code,
        caching=caching,
    )


def error_page(request: Request, viewer: Viewer, error: FolioError, **context: Any) -> HTMLResponse:
    """A domain error as a page with its status (and headers, such as Retry-After)."""
    if isinstance(error, NotFound):
        response = reader_page(
            request, "pages/not_found.html", viewer, caching="private", status_code=404, **context
        )
    else:
        response = reader_page(
            request,
            "pages/error.html",
            viewer,
            caching="no-store",
            status_code=error.status_code,
            message=error.message,
            **context,
        )
    return with_error_headers(response, error)


def with_error_headers(response: HTMLResponse, error: FolioError) -> HTMLResponse:
    """The error's own headers (Retry-After on a 429 or 503); never a bearer challenge."""
    for name, value in error.headers.items():
        if name.lower() != "www-authenticate":
            response.headers[name] = value
    return response
