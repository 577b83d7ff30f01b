"""Domain errors that carry their HTTP status; one handler renders them as {"detail": ...}."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError


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


# PostgreSQL SQLSTATEs and SQLite extended result names of the violations a client can cause
# (a race on a unique key, a row removed or still referenced at the same time); NOT NULL and
# CHECK violations are our bugs and stay 500s.
_UNIQUE = {"23505", "SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"}
_FOREIGN_KEY = {"23503", "SQLITE_CONSTRAINT_FOREIGNKEY"}
_PG_KEY = re.compile(r"Key \(([^)]*)\)=")


def conflict_from_integrity_error(exc: IntegrityError) -> Conflict | None:
    """The 409 for a constraint violation the database raised, or None if it is not one."""
    orig = exc.orig
    code = getattr(orig, "sqlstate", None) or getattr(orig, "sqlite_errorname", None)
    if code in _FOREIGN_KEY:
        return Conflict("Conflict: a record this refers to was removed, or is still in use")
    if code not in _UNIQUE:
        return None
    columns = _violated_columns(orig)
    if not columns:
        return Conflict("Conflict: this record already exists")
    return Conflict(f"Conflict: a record with this {', '.join(columns)} already exists")


def _violated_columns(orig: BaseException | None) -> list[str]:
    diag = getattr(orig, "diag", None)
    if diag is not None:  # psycopg: "Key (slug)=(x) already exists."
        found = _PG_KEY.search(diag.message_detail or "")
        return [c.strip() for c in found.group(1).split(",")] if found else []
    # SQLite: "UNIQUE constraint failed: collections.slug, collections.other"
    _, _, names = str(orig).partition(":")
    return [name.strip().rsplit(".", 1)[-1] for name in names.split(",") if name.strip()]
