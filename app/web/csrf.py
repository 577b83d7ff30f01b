"""CSRF protection for every cookie-carried form: asgi-csrf's signed double submit.

Why asgi-csrf rather than fastapi-csrf-protect: it is middleware, so no page route can
forget the check; it reads the token from an ordinary form field (pages work without
JavaScript); and it compares tokens in constant time (fastapi-csrf-protect 1.0.7 uses `!=`).

Every state-changing request outside the JSON API is checked, cookies or not (a bare
cross-site POST to /login would otherwise sign a victim into an attacker's account). The
API (/api/, /webhooks/, /feeds/) is exempt here because it authenticates writes by bearer
header only (app.deps.get_viewer): a foreign page can make the browser send our cookies,
never our header. A page puts `{{ csrf_field() }}` in each form (app.web.templating).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from asgi_csrf import asgi_csrf_decorator
from starlette.types import ASGIApp, Receive, Scope, Send

API_PREFIXES = ("/api/", "/webhooks/", "/feeds/", "/r51/")
FORM_FIELD = "csrftoken"
COOKIE = "folio_csrf"


class _PagePaths:
    """asgi-csrf's `always_protect` as a predicate: every path that is not the API."""

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and not path.startswith(API_PREFIXES)


def _is_api(scope: dict[str, Any]) -> bool:
    return str(scope.get("path", "")).startswith(API_PREFIXES)


async def _refuse(_scope: Scope, send: Send, _reason: object) -> None:
    body = (
        b"<!doctype html><html lang=en><meta charset=utf-8><title>Form expired</title>"
        b"<h1>This form has expired</h1><p>Go back, reload the page and send it again.</p>"
    )
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [
                (b"content-type", b"text/html; charset=utf-8"),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class CsrfMiddleware:
    def __init__(self, app: ASGIApp, secret_key: str, secure: bool) -> None:
        # A key of its own, derived from the installation secret.
        signing_secret = hmac.new(secret_key.encode(), b"folio-csrf", hashlib.sha256).hexdigest()
        self.inner = app
        self.app = asgi_csrf_decorator(
            cookie_name=COOKIE,
            form_input=FORM_FIELD,
            signing_secret=signing_secret,
            always_protect=_PagePaths(),
            skip_if_scope=_is_api,
            cookie_secure=secure,
            cookie_samesite="Lax",
            send_csrf_failed=_refuse,
        )(app)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The API is exempt (see above): skip asgi-csrf entirely there, since it would
        # otherwise sign a fresh token on every cookieless request, the hot reads included.
        if scope["type"] == "http" and _is_api(scope):
            await self.inner(scope, receive, send)
            return
        await self.app(scope, receive, send)


def csrf_token(scope: dict[str, Any]) -> str:
    """The token a page's forms carry; asgi-csrf sets its cookie on the response."""
    return scope["csrftoken"]()
