"""Renders an email's text and HTML parts from templates/email/ (HTML autoescaped)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from app.resources import resource_path

TEMPLATE_DIR = resource_path("templates") / "email"

SUBJECTS = {
    "verify": "Confirm your email address",
    "account_exists": "You already have an account",
    "reset": "Reset your password",
    "magic": "Your sign-in link",
    "password_changed": "Your password was changed",
}


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


@lru_cache
def environment() -> Environment:
    # Autoescape for .html only: the text part is plain text and must stay as written.
    return Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def render_email(
    template: str, context: dict[str, Any], subject: str | None = None
) -> RenderedEmail:
    """`template` names `<template>.txt` and `<template>.html` under templates/email/."""
    env = environment()
    return RenderedEmail(
        subject=subject or SUBJECTS[template],
        text=env.get_template(f"{template}.txt").render(context),
        html=env.get_template(f"{template}.html").render(context),
    )
