"""create_app(): routers, the error handlers, the body limit, HEAD as GET, the outbox lifespan."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi_offline import FastAPIOffline
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from app import ops
from app.access.viewer import Anonymous
from app.accounts.routes import router as accounts_router
from app.admin.routes import router as admin_router
from app.billing.routes import router as billing_router
from app.billing.webhooks import router as stripe_webhook_router
from app.body_limit import BodySizeLimit
from app.config import get_settings
from app.db import is_busy, is_unreachable
from app.errors import FolioError, ServiceUnavailable, conflict_from_integrity_error
from app.generation import generation_feed
from app.generation_relay import start_listening, stop_listening
from app.head_requests import HeadAsGet
from app.mail.sender import OutboxSender
from app.reports.preview_fast_path import CachedPreviewFastPath
from app.reports.routes import feeds_router
from app.reports.routes import router as reports_router
from app.usage import recorder as usage_recorder
from app.usage import routes as usage_routes
from app.web.csrf import API_PREFIXES, CsrfMiddleware
from app.web.reader_common import error_page
from app.web.routes import router as web_router
from app.web.routes import static_files
from app.web.session import cookies_secure

log = logging.getLogger("folio")


def folio_error_response(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, FolioError)
    return JSONResponse({"detail": exc.message, **exc.extra}, exc.status_code, exc.headers)


def validation_error_response(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # Only where and what: echoing the input back serves no one and can be huge.
    detail = [
        {
            "loc": list(error.get("loc", ())),
            "msg": error.get("msg", ""),
            "type": error.get("type", ""),
        }
        for error in exc.errors()
    ]
    return JSONResponse({"detail": detail}, 422)


def http_error_response(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return JSONResponse({"detail": exc.detail}, exc.status_code, exc.headers)


def refused_data_response(_request: Request, exc: Exception) -> JSONResponse:
    # Input the database refuses (a NUL character in text on PostgreSQL, an out-of-range
    # number); the request's transaction is already rolled back.
    log.info("database refused input: %s", exc)
    return JSONResponse({"detail": "Invalid input: the database cannot store a value sent"}, 400)


def conflict_response(request: Request, exc: Exception) -> JSONResponse:
    # A unique key taken by a concurrent request (its pre-check passed too), raised at a
    # flush or at the request's commit; the request's transaction is rolled back either way.
    assert isinstance(exc, IntegrityError)
    conflict = conflict_from_integrity_error(exc)
    if conflict is None:
        return unexpected_error_response(request, exc)
    log.info("database conflict: %s", exc.orig)
    return folio_error_response(request, conflict)


def unexpected_error_response(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return JSONResponse({"detail": "Internal server error"}, 500)


# JSON endpoints outside the API prefixes; every other path is a page.
JSON_PATHS = ("/healthz", "/readyz", "/docs", "/redoc", "/openapi.json")


def database_error_response(request: Request, exc: Exception) -> Response:
    """A busy database (full pool, lock or statement timeout, SQLite's writer lock) or one
    that is down is a 503 with Retry-After, as JSON or, for a page, as a page: the request's
    transaction is already rolled back (R-S7). Other database errors are our bugs: 500."""
    if is_busy(exc):
        log.warning("database busy: %s", exc)
        error = ServiceUnavailable("The service is busy; try again.")
    elif is_unreachable(exc):
        # One line, no traceback: while the database is down every request says the same.
        log.warning("database unavailable: %s", str(exc).splitlines()[0])
        error = ServiceUnavailable("The service is unavailable for a moment; try again.", 5)
    else:
        return unexpected_error_response(request, exc)
    path = request.url.path
    if path.startswith(API_PREFIXES) or path.startswith(JSON_PATHS):
        return folio_error_response(request, error)
    return error_page(request, Anonymous(), error)


_startup_heap_frozen = False


def freeze_startup_heap() -> None:
    """Once a process, after startup: move every object alive now (modules, the app, its
    routes; ~230,000 of them) out of the cyclic collector's reach. Otherwise each full
    collection a busy worker runs walks them all: measured as 140 ms pauses a few times a
    minute, the read's p99 under load (bench.run)."""
    global _startup_heap_frozen
    if not _startup_heap_frozen:
        _startup_heap_frozen = True
        gc.collect()
        gc.freeze()


def create_app() -> FastAPI:
    settings = get_settings()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Sync routes run on this many threads; the database pool is sized from the same
        # setting (app.db), so a thread never waits for a connection.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.worker_threads
        # Each serving process also sends the email outbox (safe with several: rows are
        # claimed); off under tests unless FOLIO_OUTBOX_SENDER=on. See app/mail/sender.py.
        sender = OutboxSender(settings) if settings.outbox_sender_enabled else None
        if sender is not None:
            sender.start()
        usage_recorder.start()  # reading events: written in batches every second
        # With Redis, generation bumps from other hosts (app.generation_relay): until the
        # subscription is live this worker serves nothing from its caches.
        feed = generation_feed(settings)
        if feed is not None:
            start_listening(feed)
        freeze_startup_heap()
        try:
            yield
        finally:
            if feed is not None:
                await asyncio.to_thread(stop_listening, feed)
            await asyncio.to_thread(usage_recorder.stop)  # writes what is still pending
            if sender is not None:
                await asyncio.to_thread(sender.stop)

    # Swagger UI and ReDoc assets come from the fastapi-offline package, not a CDN: /docs
    # (and its Authorize button) works on a server without internet access.
    app = FastAPIOffline(
        title="Folio",
        summary="Subscription publishing backend for research publishers",
        version="0.1.0",
        lifespan=lifespan,
        # A redirect would be built from the request's Host header: paths are exact instead,
        # and a trailing slash is a 404.
        redirect_slashes=False,
    )
    app.add_exception_handler(FolioError, folio_error_response)
    app.add_exception_handler(RequestValidationError, validation_error_response)
    app.add_exception_handler(StarletteHTTPException, http_error_response)
    app.add_exception_handler(DataError, refused_data_response)
    app.add_exception_handler(IntegrityError, conflict_response)
    # DBAPIError: OperationalError and the other errors of a connection that went away
    # (IntegrityError and DataError keep their own handlers above).
    app.add_exception_handler(DBAPIError, database_error_response)
    app.add_exception_handler(PoolTimeout, database_error_response)
    app.add_exception_handler(Exception, unexpected_error_response)
    # Innermost first: the CSRF check reads a form body only after the size limit has
    # bounded it. A cached anonymous preview is answered innermost of all, so every layer
    # above still applies to it.
    app.add_middleware(CachedPreviewFastPath)
    app.add_middleware(
        CsrfMiddleware, secret_key=settings.secret_key, secure=cookies_secure(settings)
    )
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(HeadAsGet)
    app.include_router(ops.router)
    app.include_router(reports_router)
    app.include_router(feeds_router)
    app.include_router(accounts_router)
    app.include_router(admin_router)
    app.include_router(billing_router)
    app.include_router(stripe_webhook_router)
    app.include_router(usage_routes.router)
    app.include_router(usage_routes.admin_router)
    app.include_router(web_router)
    app.mount("/static", static_files(), name="static")
    return app
