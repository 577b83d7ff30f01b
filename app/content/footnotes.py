"""Footnotes: separating notes from the body, numbering citations, and the author's warnings."""

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from markdown_it.token import Token


@dataclass(frozen=True, slots=True)
class Footnote:
    """One note as shown under a text: its number there and its sanitised inner HTML."""

    n: int
    html: str


@dataclass(slots=True)
class CitationAnchors:
    """Numbers and unique element ids for the citations of one rendered page."""

    numbers: Mapping[str, int]
    _seen: Counter[int] = field(default_factory=Counter)

    def next_anchor(self, label: str) -> tuple[int, str]:
        """The note number of `label` and a fresh id for this citation of it."""
        n = self.numbers[label]
        self._seen[n] += 1
        times = self._seen[n]
        return n, f"fnref-{n}" if times == 1 else f"fnref-{n}-{times}"


def split_footnote_block(tokens: Sequence[Token]) -> tuple[list[Token], dict[str, list[Token]]]:
    """The body tokens, and each cited note's content tokens by label.

    The footnote plugin moves every cited note into one block at the end of the stream;
    Folio returns notes separately, so that block never reaches the body HTML.
    """
    body: list[Token] = []
    notes: dict[str, list[Token]] = {}
    current: list[Token] | None = None
    in_block = False
    for token in tokens:
        if token.type == "footnote_block_open":
            in_block = True
        elif token.type == "footnote_block_close":
            in_block = False
        elif token.type == "footnote_open":
            current = notes.setdefault(token.meta["label"], [])
        elif token.type == "footnote_close":
            current = None
        elif in_block:
            # The back-reference arrows belong to the page template, not to the note.
            if current is not None and token.type != "footnote_anchor":
                current.append(token)
        else:
            body.append(token)
    return body, notes


def iter_citations(tokens: Iterable[Token]) -> Iterator[str]:
    """Labels of the footnote citations in `tokens`, in reading order."""
    for token in tokens:
        for child in token.children or ():
            if child.type == "footnote_ref":
                yield child.meta["label"]


def number_citations(
    tokens: Sequence[Token], notes: Mapping[str, Sequence[Token]]
) -> dict[str, int]:
    """Number each note by its first citation in `tokens`, then in the notes cited so far.

    A note cited only from inside another note still needs a number, and it comes after
    every note the text itself cites, so the text's own numbering stays 1, 2, 3...
    """
    order: list[str] = []
    seen: set[str] = set()

    def visit(labels: Iterable[str]) -> None:
        for label in labels:
            if label not in seen:
                seen.add(label)
                order.append(label)

    visit(iter_citations(tokens))
    position = 0
    while position < len(order):
        visit(iter_citations(notes.get(order[position], ())))
        position += 1
    return {label: n for n, label in enumerate(order, start=1)}


def footnote_warnings(
    defined: Sequence[str],
    numbered: Mapping[str, int],
    unmatched_citations: Sequence[str],
) -> list[str]:
    """Warnings for citations without a note, notes never cited and notes defined twice."""
    warnings: list[str] = []
    defined_set = set(defined)
    for label in dict.fromkeys(unmatched_citations):
        if label not in defined_set:
            warnings.append(f"citation [^{label}] has no note")
    definitions = Counter(defined)
    for label in dict.fromkeys(defined):
        if label not in numbered:
            warnings.append(f"note [^{label}] is never cited")
        if definitions[label] > 1:
            warnings.append(f"note [^{label}] is defined more than once; the last one is used")
    return warnings
