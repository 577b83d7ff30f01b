"""The teaser cut: where a report's free preview ends in its token stream."""

import re
from collections.abc import Sequence
from dataclasses import dataclass

from markdown_it.token import Token

from app.content.sanitize import sanitize_html

_PAYWALL_MARKER = re.compile(r"\s*<!--\s*paywall\s*-->\s*", re.IGNORECASE)

MARKER_NESTED_WARNING = (
    "the <!-- paywall --> marker inside a list or quote is ignored; "
    "put it on a line of its own outside them"
)
MARKER_REPEATED_WARNING = "only the first <!-- paywall --> marker counts; later ones are ignored"


@dataclass(frozen=True, slots=True)
class PreviewCut:
    """The body split at the cut: the preview's tokens, the full text's tokens, and warnings."""

    preview: list[Token]
    full: list[Token]
    has_cut: bool
    warnings: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Block:
    start: int
    end: int
    visible: bool
    is_marker: bool


def cut_preview(body: Sequence[Token], preview_blocks: int) -> PreviewCut:
    """Cut at the first top-level paywall marker, else after `preview_blocks` visible blocks."""
    if preview_blocks < 0:
        raise ValueError("preview_blocks must not be negative")
    blocks = _top_level_blocks(body)
    warnings = _marker_warnings(body, blocks)
    marker = next((block for block in blocks if block.is_marker), None)
    if marker is not None:
        after = [block for block in blocks if block.start >= marker.end]
        return PreviewCut(
            preview=list(body[: marker.start]),
            full=[*body[: marker.start], *body[marker.end :]],
            has_cut=any(block.visible for block in after),
            warnings=warnings,
        )
    visible = [block for block in blocks if block.visible]
    if len(visible) <= preview_blocks:
        return PreviewCut(list(body), list(body), has_cut=False, warnings=warnings)
    end = visible[preview_blocks - 1].end if preview_blocks else 0
    return PreviewCut(list(body[:end]), list(body), has_cut=True, warnings=warnings)


def _top_level_blocks(body: Sequence[Token]) -> list[_Block]:
    blocks: list[_Block] = []
    start = 0
    for index, token in enumerate(body):
        if token.level != 0:
            continue
        if token.nesting == 1:
            start = index
        elif token.nesting == 0:
            blocks.append(_single_token_block(token, index))
        else:
            blocks.append(_Block(start, index + 1, visible=True, is_marker=False))
    return blocks


def _single_token_block(token: Token, index: int) -> _Block:
    if token.type != "html_block":
        return _Block(index, index + 1, visible=True, is_marker=False)
    # A comment or a stripped <script> shows nothing, so it must not use up a preview block.
    return _Block(
        index,
        index + 1,
        visible=bool(sanitize_html(token.content)),
        is_marker=_is_marker(token),
    )


def _is_marker(token: Token) -> bool:
    return token.type == "html_block" and _PAYWALL_MARKER.fullmatch(token.content) is not None


def _marker_warnings(body: Sequence[Token], blocks: Sequence[_Block]) -> tuple[str, ...]:
    warnings: list[str] = []
    if any(token.level > 0 and _is_marker(token) for token in body):
        warnings.append(MARKER_NESTED_WARNING)
    if sum(block.is_marker for block in blocks) > 1:
        warnings.append(MARKER_REPEATED_WARNING)
    return tuple(warnings)
