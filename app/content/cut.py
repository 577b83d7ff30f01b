"""The teaser cut: where a report's free preview ends, and the markers that cannot cut."""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from markdown_it.token import Token

from app.content.sanitize import sanitize_html

_MARKER = re.compile(r"<!--\s*paywall\s*-->", re.IGNORECASE)

MARKER_NESTED_WARNING = (
    "a <!-- paywall --> marker inside a list, quote or note is ignored; "
    "put it on a line of its own outside them"
)
MARKER_INLINE_WARNING = (
    "a <!-- paywall --> marker inside a line of text is ignored; put it on a line of its own"
)
MARKER_IN_HTML_WARNING = (
    "a <!-- paywall --> marker inside an HTML block is ignored; "
    "put it on a line of its own, with a blank line before it"
)
MARKER_IN_CODE_WARNING = "a <!-- paywall --> marker in code is ignored: it is shown as code"
MARKER_REPEATED_WARNING = "only the first <!-- paywall --> marker counts; later ones are ignored"
WHOLE_BODY_WARNING = (
    "the preview would be the whole body of a report that is not public, so it is only "
    "the first block (nothing when there is one); put <!-- paywall --> where the free "
    "part ends, with text after it"
)


@dataclass(frozen=True, slots=True)
class PreviewCut:
    """The body split at the cut.

    With a cut, `end_line` is the first source line after the preview: the preview is
    rendered from the source before it (see ParsedMarkdown.source_before), never from
    `preview`, whose links were resolved against the whole body; `preview` is the same run
    of blocks in the whole body's tokens, to learn which notes it cites. Without a cut,
    `end_line` is None: the preview is the whole body, as rendered for the full text.
    """

    end_line: int | None
    preview: list[Token]
    full: list[Token]
    warnings: tuple[str, ...]

    @property
    def has_cut(self) -> bool:
        return self.end_line is not None


@dataclass(frozen=True, slots=True)
class _Block:
    start: int
    end: int
    visible: bool
    is_marker: bool


def cut_preview(
    body: Sequence[Token],
    preview_blocks: int,
    *,
    never_whole: bool,
    notes: Iterable[Sequence[Token]] = (),
) -> PreviewCut:
    """Cut at the first top-level paywall marker, else after `preview_blocks` visible blocks.

    With `never_whole` (a report that is not public), a cut that would leave the whole
    body in the preview leaves only the first visible block, or nothing when the body has
    only one, and warns: a short paid report is never given away. `notes` are searched for
    markers that cannot cut, to warn about them too.
    """
    if preview_blocks < 0:
        raise ValueError("preview_blocks must not be negative")
    blocks = _top_level_blocks(body)
    visible = [block for block in blocks if block.visible]
    warnings = _marker_warnings(body, blocks, notes)
    marker = next((block for block in blocks if block.is_marker), None)
    # Where the preview ends: (token index, source line), or None for "nowhere".
    end: tuple[int, int] | None
    if marker is not None:
        full = [*body[: marker.start], *body[marker.end :]]
        anything_after = any(block.visible for block in blocks if block.start >= marker.end)
        end = (marker.start, _line(body[marker.start], 0)) if anything_after else None
    else:
        full = list(body)
        end = None
        if len(visible) > preview_blocks:
            end = _end_of(body, visible[preview_blocks - 1] if preview_blocks else None)
    if end is None and never_whole and visible:
        end = _end_of(body, visible[0] if len(visible) > 1 else None)
        warnings = (*warnings, WHOLE_BODY_WARNING)
    if end is None:
        return PreviewCut(None, full, full, warnings=warnings)
    index, line = end
    return PreviewCut(line, list(body[:index]), full, warnings=warnings)


def _end_of(body: Sequence[Token], block: _Block | None) -> tuple[int, int]:
    """Token index and source line just after `block` (the start, for no block)."""
    if block is None:
        return 0, 0
    return block.end, _line(body[block.start], 1)


def _line(token: Token, side: int) -> int:
    # Every top-level block token from our parser has a map; without one, cut at the start.
    return token.map[side] if token.map else 0


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
    return token.type == "html_block" and _MARKER.fullmatch(token.content.strip()) is not None


def _marker_warnings(
    body: Sequence[Token], blocks: Sequence[_Block], notes: Iterable[Sequence[Token]]
) -> tuple[str, ...]:
    """Why each marker other than the one that cuts is ignored, each reason once."""
    warnings = [
        warning
        for tokens in (body, *notes)
        for token in tokens
        for warning in _ignored_markers(token)
    ]
    if sum(block.is_marker for block in blocks) > 1:
        warnings.append(MARKER_REPEATED_WARNING)
    return tuple(dict.fromkeys(warnings))


def _ignored_markers(token: Token) -> Iterable[str]:
    if token.type in ("fence", "code_block") and _MARKER.search(token.content):
        yield MARKER_IN_CODE_WARNING
    elif token.type == "html_block":
        if _is_marker(token):
            if token.level > 0:
                yield MARKER_NESTED_WARNING
            return
        for line in token.content.splitlines():
            if _MARKER.search(line):
                alone = _MARKER.fullmatch(line.strip()) is not None
                yield MARKER_IN_HTML_WARNING if alone else MARKER_INLINE_WARNING
    elif token.type == "inline":
        for child in token.children or ():
            if child.type == "html_inline" and _MARKER.search(child.content):
                yield MARKER_INLINE_WARNING
            elif child.type == "code_inline" and _MARKER.search(child.content):
                yield MARKER_IN_CODE_WARNING
