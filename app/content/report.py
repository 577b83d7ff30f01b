"""Rendering a report body into the full text, the preview and their footnotes, at save time."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from markdown_it.token import Token

from app.content.cut import cut_preview
from app.content.footnotes import (
    CitationAnchors,
    Footnote,
    footnote_warnings,
    number_citations,
)
from app.content.markdown import parse_markdown, render_tokens
from app.content.sanitize import html_to_text, sanitize_html


@dataclass(frozen=True, slots=True)
class RenderedReport:
    """Everything stored for a report body; all HTML is sanitised, all text is plain."""

    full_html: str
    preview_html: str
    full_footnotes: tuple[Footnote, ...]
    preview_footnotes: tuple[Footnote, ...]
    full_text: str
    preview_text: str
    warnings: tuple[str, ...]
    has_cut: bool


def render_report(markdown: str, *, preview_blocks: int = 3) -> RenderedReport:
    """Render a Markdown body into full and preview HTML, their footnotes, text and warnings."""
    parsed = parse_markdown(markdown)
    cut = cut_preview(parsed.body, preview_blocks)
    numbers = number_citations(cut.full, parsed.notes)

    # One set of anchors for the body and then its notes keeps every citation id unique on the
    # full page; the preview is a prefix of the body, so fresh anchors give it the same ids.
    full_anchors = CitationAnchors(numbers)
    full_html = sanitize_html(render_tokens(cut.full, full_anchors))
    preview_html = sanitize_html(render_tokens(cut.preview, CitationAnchors(numbers)))
    notes = _render_notes(parsed.notes, numbers, full_anchors)

    # A preview note that cites another note links to it, so that note comes along too.
    preview_labels = number_citations(cut.preview, parsed.notes)
    full_footnotes = tuple(notes.values())
    preview_footnotes = tuple(note for label, note in notes.items() if label in preview_labels)

    warnings = [
        *footnote_warnings(parsed.definitions, numbers, parsed.unmatched_citations),
        *cut.warnings,
    ]
    return RenderedReport(
        full_html=full_html,
        preview_html=preview_html,
        full_footnotes=full_footnotes,
        preview_footnotes=preview_footnotes,
        full_text=_plain_text(full_html, full_footnotes),
        preview_text=_plain_text(preview_html, preview_footnotes),
        warnings=tuple(warnings),
        has_cut=cut.has_cut,
    )


def _render_notes(
    notes: Mapping[str, Sequence[Token]],
    numbers: Mapping[str, int],
    anchors: CitationAnchors,
) -> dict[str, Footnote]:
    """Each numbered note by label, in number order."""
    by_number = sorted(numbers.items(), key=lambda item: item[1])
    return {
        label: Footnote(n=n, html=sanitize_html(render_tokens(notes.get(label, ()), anchors)))
        for label, n in by_number
    }


def _plain_text(body_html: str, notes: Iterable[Footnote]) -> str:
    parts = [html_to_text(body_html), *(html_to_text(note.html) for note in notes)]
    return " ".join(part for part in parts if part)
