"""What every console page shares: rendering (no-store, flash), the redirect after a post,
turning a refused action into a message, and reading form fields into service bodies."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session
from starlette.responses import HTMLResponse, RedirectResponse

from app.access.viewer import Member
from app.errors import FolioError, conflict_from_integrity_error
from app.web.account_forms import undo
from app.web.templating import render_page

# Errors a console action shows on its page instead of answering in JSON.
FORM_ERRORS = (FolioError, ValidationError, IntegrityError)

# The flash after a successful post (post/redirect/get): a key in the query, never free
# text, so a crafted link cannot put words in the console's mouth.
FLASHES = {
    "comp-granted": "Comp granted.",
    "comp-revoked": "Comp revoked.",
    "member-saved": "Member saved.",
    "member-erased": "The member's personal data was erased.",
    "approved": "Request approved.",
    "declined": "Request declined.",
    "org-created": "Organization created.",
    "org-saved": "Organization saved.",
    "org-deleted": "Organization deleted.",
    "report-saved": "Report saved.",
    "report-deleted": "Report deleted.",
    "collection-saved": "Collection saved.",
    "tier-saved": "Tier saved.",
}


@dataclass(frozen=True)
class Failure:
    message: str
    status: int


def failed(session: Session, exc: Exception) -> Failure:
    """The message and status of a refused action, its partial writes rolled back (the
    page answers normally, so the request's transaction would otherwise commit them)."""
    undo(session, exc)
    if isinstance(exc, FolioError):
        return Failure(exc.message, exc.status_code)
    if isinstance(exc, ValidationError):
        return Failure(validation_message(exc), 422)
    if isinstance(exc, IntegrityError):
        conflict = conflict_from_integrity_error(exc)
        if conflict is not None:
            return Failure(conflict.message, conflict.status_code)
    raise exc


def validation_message(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error.get("loc", ()) if not isinstance(part, int))
        message = str(error.get("msg", "")).removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


def console_page(
    request: Request,
    template: str,
    viewer: Member,
    *,
    failure: Failure | None = None,
    **context: Any,
) -> HTMLResponse:
    """A console page: never cached, with the flash of the last action or its failure."""
    flash, kind = None, "info"
    if failure is not None:
        flash, kind = failure.message, "error"
    elif request.query_params.get("done") in FLASHES:
        flash, kind = FLASHES[request.query_params["done"]], "ok"
    return render_page(
        request,
        template,
        {"viewer": viewer, "flash": flash, "flash_kind": kind, **FORMATS, **context},
        status_code=failure.status if failure else 200,
        caching="no-store",
    )


def back_to(path: str, done: str, **query: str) -> RedirectResponse:
    """The 303 after a successful post, to a GET page that shows `done`'s flash."""
    target = f"{path}?{urlencode({**query, 'done': done})}"
    return RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})


def page_link(path: str, **query: str | None) -> str:
    """A link to `path` with the query parameters that have a value."""
    kept = {k: v for k, v in query.items() if v}
    return f"{path}?{urlencode(kept)}" if kept else path


def optional(value: str | None) -> str | None:
    """A form field left empty is a value not given."""
    value = (value or "").strip()
    return value or None


def lines(value: str | None) -> list[str]:
    """A textarea with one entry per line."""
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


def commas(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def pretty_json(value: object) -> str:
    if value is None:
        return ""
    return json.dumps(value, indent=2, sort_keys=True, default=str, ensure_ascii=False)


def field_date(value: object) -> str:
    """An instant as a date input's value (YYYY-MM-DD)."""
    return value.strftime("%Y-%m-%d") if value is not None else ""  # type: ignore[attr-defined]


def field_datetime(value: object) -> str:
    """An instant as a datetime-local input's value, in UTC."""
    return value.strftime("%Y-%m-%dT%H:%M") if value is not None else ""  # type: ignore[attr-defined]


def shown(value: object) -> str:
    """An instant as the console shows it."""
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else "—"  # type: ignore[attr-defined]


FORMATS = {"as_date": field_date, "as_datetime": field_datetime, "shown": shown}
