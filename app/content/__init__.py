"""Report bodies: Markdown to sanitised HTML, the teaser cut and footnotes; pure functions."""

from app.content.footnotes import Footnote
from app.content.report import RENDER_VERSION, RenderedReport, render_report
from app.content.slugs import slugify

__all__ = ["RENDER_VERSION", "Footnote", "RenderedReport", "render_report", "slugify"]
