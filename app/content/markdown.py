"""The Markdown dialect of report bodies: parsing once, and rendering token runs to HTML."""

import re
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from mdit_py_plugins.footnote import footnote_plugin

from app.content.footnotes import CitationAnchors, split_footnote_block
from app.content.sanitize import renderer_attribute

_AUDIT_KEY = "folio_audit"
_ANCHORS_KEY = "folio_anchors"

# Lines as the block parser counts them: only "\n" ends one (str.splitlines knows more).
_LINE = re.compile(r"[^\n]*\n|[^\n]+\Z")

# The footnote plugin's own label syntax: no spaces, no empty label.
_CITATION_SYNTAX = re.compile(r"\[\^([^\]\s]+)\]")


@dataclass(frozen=True, slots=True)
class NoteDefinition:
    """Where one footnote definition stands in the source: lines [start, end)."""

    label: str
    start: int
    end: int


@dataclass(slots=True)
class _SourceAudit:
    source: str = ""
    definitions: list[NoteDefinition] = field(default_factory=list)
    unmatched_citations: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ParsedMarkdown:
    """A body parsed once: its block tokens, its cited notes, and what the author should hear.

    Token maps count lines of `lines`, the source as the parser read it (newlines normalised).
    """

    body: list[Token]
    notes: dict[str, list[Token]]
    lines: tuple[str, ...]
    note_definitions: tuple[NoteDefinition, ...]
    unmatched_citations: tuple[str, ...]

    @property
    def definitions(self) -> tuple[str, ...]:
        """Labels of every footnote definition, in source order, repeats included."""
        return tuple(definition.label for definition in self.note_definitions)

    def source_before(self, line: int, notes: Iterable[str]) -> str:
        """The source up to `line`, then the definitions of `notes` that stand after it.

        Markdown resolves link references and notes across the whole document; a preview
        parsed from this text can resolve only what is written before the cut, plus the
        notes it cites, which it shows.
        """
        wanted = set(notes)
        later = [
            # A note written inside a list item is indented; on its own it must not be code.
            textwrap.dedent("".join(self.lines[definition.start : definition.end]))
            for definition in self.note_definitions
            if definition.label in wanted and definition.start >= line
        ]
        # Blank lines end whatever block the text before ends in, and part the notes.
        parts = ["".join(self.lines[:line]), *later]
        return "\n\n".join(part.rstrip("\n") for part in parts) + "\n"


def _audit_source(state: StateCore) -> None:
    """Record footnote definitions and citations the plugin could not match.

    It runs before `footnote_tail` drops uncited definitions, and before `text_join`
    merges an escaped "\\[^x]" into plain text, where it would look like a real citation.
    """
    audit = state.env.get(_AUDIT_KEY)
    if not isinstance(audit, _SourceAudit):
        return
    audit.source = state.src
    for token in state.tokens:
        if token.type == "footnote_reference_open":
            start, end = token.map or (0, 0)
            audit.definitions.append(NoteDefinition(token.meta["label"], start, end))
        elif token.type == "inline":
            for child in token.children or ():
                if child.type == "text":
                    audit.unmatched_citations.extend(_CITATION_SYNTAX.findall(child.content))


def _render_citation(
    self: RendererHTML,
    tokens: Sequence[Token],
    idx: int,
    options: OptionsDict,
    env: EnvType,
) -> str:
    anchors: CitationAnchors = env[_ANCHORS_KEY]
    n, anchor = anchors.next_anchor(tokens[idx].meta["label"])
    css_class, anchor_id = renderer_attribute("footnote-ref"), renderer_attribute(anchor)
    return f'<sup class="{css_class}"><a href="#fn-{n}" id="{anchor_id}">[{n}]</a></sup>'


def _build_parser() -> MarkdownIt:
    # The fence's language class is ours to write, so the sanitiser keeps it.
    md = MarkdownIt("commonmark", {"langPrefix": renderer_attribute("language-")})
    md.enable(["table", "strikethrough"])
    # Inline notes (^[...]) have no label to warn about or to cite twice; Folio keeps to [^label].
    md.use(footnote_plugin, inline=False)
    md.core.ruler.after("inline", "folio_audit", _audit_source)
    md.add_render_rule("footnote_ref", _render_citation)
    return md


_PARSER = _build_parser()


def parse_markdown(source: str) -> ParsedMarkdown:
    """Parse `source` once into body tokens and the content tokens of each cited note."""
    audit = _SourceAudit()
    tokens = _PARSER.parse(source, {_AUDIT_KEY: audit})
    body, notes = split_footnote_block(tokens)
    return ParsedMarkdown(
        body=body,
        notes=notes,
        lines=tuple(_LINE.findall(audit.source)),
        note_definitions=tuple(audit.definitions),
        unmatched_citations=tuple(audit.unmatched_citations),
    )


def render_tokens(tokens: Sequence[Token], anchors: CitationAnchors) -> str:
    """Unsanitised HTML of `tokens`; citations take their numbers and ids from `anchors`."""
    return _PARSER.renderer.render(tokens, _PARSER.options, {_ANCHORS_KEY: anchors})
