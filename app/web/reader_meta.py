"""A report page's meta description, Open Graph tags and JSON-LD: from the summary or preview.

R-A2: what search engines and link previews read is the same for every viewer and never
comes from the full text, even when the viewer reading the page may read it all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from app.reports.schemas import ReportDetail

DESCRIPTION_CHARS = 200

# Inside <script> the HTML parser ends the element at `</script`, and `<!--` changes how it
# reads on; JSON allows these characters escaped, so the data means the same to a reader.
_SCRIPT_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


@dataclass(frozen=True, slots=True)
class ReportMeta:
    description: str
    canonical_url: str
    json_ld: Markup


def script_json(data: Any) -> Markup:
    """JSON safe to place inside <script type="application/ld+json">: the one Markup here."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for char, escape in _SCRIPT_ESCAPES.items():
        text = text.replace(char, escape)
    return Markup(text)  # noqa: S704  (every character that could end the script is escaped)


def shorten(text: str, limit: int = DESCRIPTION_CHARS) -> str:
    """At most `limit` characters, cut at a word boundary, with an ellipsis when cut."""
    words = " ".join(text.split())
    if len(words) <= limit:
        return words
    cut = words[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:.-–—")
    return cut + "…"


def report_description(summary: str, preview_text: str) -> str:
    """The summary, or else the start of the preview's plain text: never the full text."""
    return shorten(summary) if summary.strip() else shorten(preview_text)


def report_meta(
    detail: ReportDetail, preview_text: str, canonical_url: str, site_name: str
) -> ReportMeta:
    # A report whose whole text is after the cut, without a summary, is described by its title.
    description = report_description(detail.summary, preview_text) or detail.title
    # Free to read for everyone only when the report itself is: not because this viewer is.
    free = detail.access_level == "public" or detail.complimentary
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Report",
        "headline": detail.title,
        "description": description,
        "url": canonical_url,
        "mainEntityOfPage": canonical_url,
        "author": [{"@type": "Person", "name": name} for name in detail.authors],
        "publisher": {"@type": "Organization", "name": site_name},
        "isAccessibleForFree": free,
        "isPartOf": {"@type": "CreativeWorkSeries", "name": detail.collection.name},
        "dateModified": detail.updated_at.isoformat(),
    }
    if detail.published_at is not None:
        data["datePublished"] = detail.published_at.isoformat()
    if detail.tags:
        data["keywords"] = detail.tags
    return ReportMeta(description, canonical_url, script_json(data))
