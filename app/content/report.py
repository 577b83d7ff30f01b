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
from app.content.markdown import ParsedMarkdown, parse_markdown, render_tokens
from app.content.sanitize import html_to_text, sanitize_html

# Bumped whenever the renderer, the cut or the sanitiser would store something different for
# the same body: `folio migrate` renders again every report stored under an older version,
# so an upgrade that closes a leak closes it for reports saved before it too.
# 1: before 2026-12 (links defined after the cut resolved in the preview, short paid
# reports were their own preview); 2: the cut of issues 8 and 9.
RENDER_VERSION = 2


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

    @property
    def has_cut(self) -> bool:
        """The preview is shorter than the full text."""
        return self.preview_html != self.full_html


def render_report(
    markdown: str, *, preview_blocks: int = 3, access_level: str = "subscribers"
) -> RenderedReport:
    """Render a Markdown body into full and preview HTML, their footnotes, text and warnings.

    The preview is rendered from the source before the cut plus the notes it cites, so no
    link, image or note defined after the cut resolves in it. Any `access_level` but
    "public" means the preview is never the whole body (see cut_preview); the default is
    the strict one.
    """
    parsed = parse_markdown(markdown)
    cut = cut_preview(
        parsed.body,
        preview_blocks,
        never_whole=access_level != "public",
        notes=parsed.notes.values(),
    )
    numbers = number_citations(cut.full, parsed.notes)

    # One set of anchors for the body and then its notes keeps every citation id unique.
    full_anchors = CitationAnchors(numbers)
    full_html = sanitize_html(render_tokens(cut.full, full_anchors))
    full_footnotes = tuple(_render_notes(parsed.notes, numbers, full_anchors))
    if cut.end_line is None:
        preview_html, preview_footnotes = full_html, full_footnotes
    else:
        # A preview note that cites another note links to it, so that note comes along too.
        cited = number_citations(cut.preview, parsed.notes)
        preview_html, preview_footnotes = _render_preview(
            parse_markdown(parsed.source_before(cut.end_line, cited)), numbers
        )

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
    )


def _render_preview(
    preview: ParsedMarkdown, full_numbers: Mapping[str, int]
) -> tuple[str, tuple[Footnote, ...]]:
    """The preview's HTML and notes, its notes numbered as in the full text."""
    cited = number_citations(preview.body, preview.notes)
    numbers = dict(full_numbers)
    for label in cited:
        # The full text numbers every note its prefix cites; a fresh number beats a failed save.
        numbers.setdefault(label, len(numbers) + 1)
    anchors = CitationAnchors(numbers)
    html = sanitize_html(render_tokens(preview.body, anchors))
    notes = _render_notes(preview.notes, {label: numbers[label] for label in cited}, anchors)
    return html, tuple(notes)


def _render_notes(
    notes: Mapping[str, Sequence[Token]],
    numbers: Mapping[str, int],
    anchors: CitationAnchors,
) -> list[Footnote]:
    """Each numbered note, in number order."""
    by_number = sorted(numbers.items(), key=lambda item: item[1])
    return [
        Footnote(n=n, html=sanitize_html(render_tokens(notes.get(label, ()), anchors)))
        for label, n in by_number
    ]


def _plain_text(body_html: str, notes: Iterable[Footnote]) -> str:
    parts = [html_to_text(body_html), *(html_to_text(note.html) for note in notes)]
    return " ".join(part for part in parts if part)
