"""The Markdown dialect of report bodies: parsing once, and rendering token runs to HTML."""

import re
from collections.abc import Sequence
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

# The footnote plugin's own label syntax: no spaces, no empty label.
_CITATION_SYNTAX = re.compile(r"\[\^([^\]\s]+)\]")


@dataclass(slots=True)
class _SourceAudit:
    definitions: list[str] = field(default_factory=list)
    unmatched_citations: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ParsedMarkdown:
    """A body parsed once: its block tokens, its cited notes, and what the author should hear."""

    body: list[Token]
    notes: dict[str, list[Token]]
    definitions: tuple[str, ...]
    unmatched_citations: tuple[str, ...]


def _audit_source(state: StateCore) -> None:
    """Record footnote definitions and citations the plugin could not match.

    It runs before `footnote_tail` drops uncited definitions, and before `text_join`
    merges an escaped "\\[^x]" into plain text, where it would look like a real citation.
    """
    audit = state.env.get(_AUDIT_KEY)
    if not isinstance(audit, _SourceAudit):
        return
    for token in state.tokens:
        if token.type == "footnote_reference_open":
            audit.definitions.append(token.meta["label"])
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
        definitions=tuple(audit.definitions),
        unmatched_citations=tuple(audit.unmatched_citations),
    )


def render_tokens(tokens: Sequence[Token], anchors: CitationAnchors) -> str:
    """Unsanitised HTML of `tokens`; citations take their numbers and ids from `anchors`."""
    return _PARSER.renderer.render(tokens, _PARSER.options, {_ANCHORS_KEY: anchors})
