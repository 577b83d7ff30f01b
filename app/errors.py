"""Domain errors that carry their HTTP status; one handler renders them as {"detail": ...}."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorBody(BaseModel):
    detail: Any


class FolioError(Exception):
    status_code = 400

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ):
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code
        self.headers = headers or {}
        self.extra = extra or {}


class BadRequest(FolioError):
    status_code = 400


class Unauthorized(FolioError):
    status_code = 401

    def __init__(self, message: str = "Not authenticated", **kwargs: Any):
        kwargs.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(message, **kwargs)


class Forbidden(FolioError):
    status_code = 403


class NotFound(FolioError):
    status_code = 404


class Conflict(FolioError):
    status_code = 409


class Unprocessable(FolioError):
    status_code = 422


class TooManyRequests(FolioError):
    status_code = 429

    def __init__(self, message: str, retry_after: int):
        super().__init__(message, headers={"Retry-After": str(max(1, retry_after))})
        self.retry_after = retry_after


class ServiceUnavailable(FolioError):
    """Every 503 says when to come back (R-S7)."""

    status_code = 503

    def __init__(self, message: str, retry_after: int = 1, **kwargs: Any):
        kwargs.setdefault("headers", {"Retry-After": str(max(1, retry_after))})
        super().__init__(message, **kwargs)


def error_responses(*errors: type[FolioError]) -> dict[int | str, dict[str, Any]]:
    """The `responses=` entry of a route that may raise these errors."""
    return {err.status_code: {"description": err.__name__, "model": ErrorBody} for err in errors}
