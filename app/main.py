"""create_app(): routers, the one error handler, the body limit, the outbox lifespan."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app import ops
from app.accounts.routes import router as accounts_router
from app.admin.routes import router as admin_router
from app.billing.routes import router as billing_router
from app.billing.webhooks import router as stripe_webhook_router
from app.body_limit import BodySizeLimit
from app.config import get_settings
from app.errors import FolioError
from app.mail.sender import OutboxSender
from app.reports.routes import feeds_router
from app.reports.routes import router as reports_router

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


def unexpected_error_response(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return JSONResponse({"detail": "Internal server error"}, 500)


def create_app() -> FastAPI:
    settings = get_settings()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Each serving process also sends the email outbox (safe with several: rows are
        # claimed); off under tests unless FOLIO_OUTBOX_SENDER=on. See app/mail/sender.py.
        sender = OutboxSender(settings) if settings.outbox_sender_enabled else None
        if sender is not None:
            sender.start()
        try:
            yield
        finally:
            if sender is not None:
                await asyncio.to_thread(sender.stop)

    # Swagger UI and ReDoc assets come from the fastapi-offline package, not a CDN: /docs
    # (and its Authorize button) works on a server without internet access.
    app = FastAPIOffline(
        title="Folio",
        summary="Subscription publishing backend for research publishers",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.add_exception_handler(FolioError, folio_error_response)
    app.add_exception_handler(RequestValidationError, validation_error_response)
    app.add_exception_handler(StarletteHTTPException, http_error_response)
    app.add_exception_handler(DataError, refused_data_response)
    app.add_exception_handler(Exception, unexpected_error_response)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.include_router(ops.router)
    app.include_router(reports_router)
    app.include_router(feeds_router)
    app.include_router(accounts_router)
    app.include_router(admin_router)
    app.include_router(billing_router)
    app.include_router(stripe_webhook_router)
    return app
