"""The anonymous preview answered from this worker's cached bytes before FastAPI's routing.

A cached preview is served by `GET /api/v1/reports/{slug}` after the framework has matched
the route, built its dependencies (a session, the viewer, the settings) and run its
exception layers: most of the time of a request whose work is one dict look-up. This pure
ASGI layer answers the same request with the same bytes and headers first, and only when
the route itself would have served that entry (app.reports.routes.read_report):

- no Authorization header and no session cookie: the viewer is anonymous (anything else,
  even a token the route would refuse, goes to the route);
- an entry for that slug, fresh under the content generation (one os.stat) and its
  validity (free_after);
- this worker's network index, current for the generation, holds no organization range
  for the client's address (computed as the route does: trusted proxies, X-Forwarded-For):
  a campus reader, or an index not loaded yet, goes to the route and its licence query.

A signed-in read with a bearer token is answered here too when everything it needs is
kept by this worker (the token's claims, its live session and holdings under the access
generation, the report under the content generation: app.holdings_cache), with the
route's own code (app.reports.routes.kept_private_read) and its private headers.

It sits inside the body limit, HEAD handling and CSRF layers (app.main), so those apply as
before. Anything else, and every miss, passes through untouched.
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Receive, Scope, Send

from app.access import Anonymous
from app.access.client_ip import client_ip
from app.config import get_settings
from app.deps import Credentials
from app.models import utcnow
from app.reports.preview_cache import (
    ANONYMOUS_PREVIEW,
    VARY,
    current_generation,
    preview_cache_of,
)
from app.reports.routes import kept_private_read
from app.usage.recorder import record_read

REPORT_PATH = "/api/v1/reports/"
SESSION_COOKIE = b"folio_session="
SLUG = re.compile(r"[A-Za-z0-9_-]{1,200}")  # the route's Slug
PRIVATE = [(b"cache-control", b"private, no-cache"), (b"vary", VARY.encode())]


class CachedPreviewFastPath:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] == "GET"
            and scope["path"].startswith(REPORT_PATH)
            and await self._served(scope, send)
        ):
            return
        await self.app(scope, receive, send)

    async def _served(self, scope: Scope, send: Send) -> bool:
        app = scope.get("app")
        if app is None:
            return False
        slug = scope["path"][len(REPORT_PATH) :]
        for name, value in scope["headers"]:
            if name == b"authorization":
                return await self._served_privately(scope, send, app, slug, value)
        previews = preview_cache_of(app.state)
        generation = current_generation()
        now = utcnow()
        entry = previews.get(slug, generation, now)
        if entry is None:
            return False
        forwarded_for = if_none_match = user_agent = None
        for name, value in scope["headers"]:  # no authorization header: the loop above
            if name == b"cookie" and SESSION_COOKIE in value:
                return False
            if name == b"x-forwarded-for" and forwarded_for is None:
                forwarded_for = value.decode("latin-1")
            elif name == b"if-none-match" and if_none_match is None:
                if_none_match = value.decode("latin-1")
            elif name == b"user-agent" and user_agent is None:
                user_agent = value.decode("latin-1")
        client = scope.get("client")
        ip = client_ip(client[0] if client else None, forwarded_for, get_settings().trusted_proxies)
        if ip is not None:
            networks = previews.networks(generation)
            if networks is None or networks.may_hold(ip):
                return False  # the route's licence check decides
        # Still a read (COUNTER counts a 304 too): an append, no I/O (app.usage.recorder).
        record_read(entry.report_id, ANONYMOUS_PREVIEW, Anonymous(client_ip=ip), user_agent, now)
        if if_none_match is not None and entry.etag in if_none_match:
            await send(
                {
                    "type": "http.response.start",
                    "status": 304,
                    "headers": list(entry.not_modified_headers),
                }
            )
            await send({"type": "http.response.body", "body": b""})
        else:
            await send(
                {"type": "http.response.start", "status": 200, "headers": list(entry.headers)}
            )
            await send({"type": "http.response.body", "body": entry.body})
        return True

    async def _served_privately(
        self, scope: Scope, send: Send, app: object, slug: str, authorization: bytes
    ) -> bool:
        scheme, _, token = authorization.decode("latin-1").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or not SLUG.fullmatch(slug):
            return False
        forwarded_for = user_agent = None
        for name, value in scope["headers"]:
            if name == b"x-forwarded-for" and forwarded_for is None:
                forwarded_for = value.decode("latin-1")
            elif name == b"user-agent" and user_agent is None:
                user_agent = value.decode("latin-1")
        settings = get_settings()
        client = scope.get("client")
        ip = client_ip(client[0] if client else None, forwarded_for, settings.trusted_proxies)
        body = kept_private_read(
            app.state,  # type: ignore[attr-defined]
            slug,
            Credentials(token, ip),
            settings,
            utcnow(),
            user_agent,
        )
        if body is None:
            return False
        headers = [
            (b"content-length", str(len(body)).encode()),
            (b"content-type", b"application/json"),
            *PRIVATE,
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return True
