"""The pages' Jinja2 environment (autoescaped) and the one way a page is rendered.

Report HTML reaches a template already sanitised (app.content.sanitize, at save time); the
`sanitised` filter is the one place it is marked safe. Templates never use `|safe`
(tests/web/test_templates.py reads them all).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Literal

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from markupsafe import Markup
from starlette.responses import HTMLResponse

from app.config import get_settings
from app.resources import resource_path
from app.web.csrf import FORM_FIELD, csrf_token

Caching = Literal["public", "private", "no-store"]
PUBLIC_MAX_AGE = 60


def sanitised(html: str | None) -> Markup:
    """Report, footnote and snippet HTML produced by our sanitiser: the only Markup made."""
    return Markup(html or "")  # noqa: S704  (sanitised at save time by app.content)


@pass_context
def csrf_field(context: Any) -> Markup:
    request: Request = context["request"]
    token = csrf_token(request.scope)
    return Markup('<input type="hidden" name="{}" value="{}">').format(FORM_FIELD, token)


@lru_cache
def templates() -> Jinja2Templates:
    env = Environment(
        loader=FileSystemLoader(resource_path("templates")),
        autoescape=select_autoescape(enabled_extensions=("html", "xml"), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["sanitised"] = sanitised
    env.globals["csrf_field"] = csrf_field
    return Jinja2Templates(env=env)


def render_page(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
    caching: Caching = "private",
    media_type: str | None = None,
) -> HTMLResponse:
    """A page; `context` must hold `viewer`. Anything personal (a signed-in viewer, full
    text, a form's CSRF token) is `private`; only what every anonymous visitor sees alike
    may be `public`."""
    settings = get_settings()
    base = {
        "site_name": settings.site_name,
        "base_url": settings.base_url,
        "canonical_url": settings.base_url + request.url.path,
    }
    response = templates().TemplateResponse(
        request, template, {**base, **context}, status_code=status_code, media_type=media_type
    )
    if caching == "public":
        response.headers["Cache-Control"] = f"public, max-age={PUBLIC_MAX_AGE}"
    elif caching == "private":
        response.headers["Cache-Control"] = "private, no-cache"
    else:
        response.headers["Cache-Control"] = "no-store"
    response.headers["Vary"] = "Cookie"
    return response
