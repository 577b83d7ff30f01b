"""What the sign-in and account pages share: a safe `next`, post/redirect/get, refusals."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from pydantic import BaseModel, ValidationError
from sqlmodel import Session
from starlette.responses import RedirectResponse, Response

from app.errors import FolioError
from app.web.templating import render_page

# Headers of a domain error that a page passes on (a 401's WWW-Authenticate means nothing here).
PASSED_HEADERS = ("Retry-After",)


def local_path(value: str | None, default: str = "/") -> str:
    """`next` as a path on this site, or `default`: never another host (`//evil`, `/\\evil`),
    and nothing a browser would strip or reinterpret (spaces, tabs, backslashes)."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return default
    if len(value) > 2000 or any(ch <= " " or ch in "\\\x7f" for ch in value):
        return default
    return value


def see_other(request: Request, url: str) -> RedirectResponse:
    """The 303 that ends every successful POST (post/redirect/get)."""
    response = RedirectResponse(url, status_code=303)
    response.headers["Cache-Control"] = "no-store"
    return response


def undo(session: Session, exc: Exception) -> None:
    """A refused action leaves nothing behind, as the API's rollback does; except a refusal
    whose writes must stand (a revoked token family, a spent code guess)."""
    if not getattr(exc, "keep_writes", False):
        session.rollback()


def refusal_page(
    request: Request,
    template: str,
    context: dict[str, Any],
    exc: FolioError,
    *,
    status_code: int | None = None,
) -> Response:
    """The form again with the service's message, the error's status and Retry-After."""
    response = render_page(
        request,
        template,
        {"flash": None, "error": exc.message, **context},
        status_code=status_code or exc.status_code,
        caching="no-store",
    )
    for name in PASSED_HEADERS:
        if name in exc.headers:
            response.headers[name] = exc.headers[name]
    return response


def field_errors(exc: ValidationError) -> dict[str, str]:
    """Pydantic's errors by field name, first one each, worded for a reader."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else "form"
        message = str(error["msg"]).removeprefix("Value error, ")
        errors.setdefault(field, message[:1].upper() + message[1:])
    return errors


def parse_form(model: type[BaseModel], **values: Any) -> tuple[Any, dict[str, str]]:
    """(the validated body, {}) or (None, the errors per field)."""
    try:
        return model.model_validate(values), {}
    except ValidationError as exc:
        return None, field_errors(exc)
