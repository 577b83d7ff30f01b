"""Counting what the serving engine sends: a statement count is behaviour (how many round
trips a read costs), not timing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from app.db import get_engine


@contextmanager
def statements() -> Iterator[list[str]]:
    """Every statement the serving engine sends while the block runs (BEGIN included)."""
    sent: list[str] = []

    def note(_conn, _cursor, statement, _params, _context, _many) -> None:  # type: ignore[no-untyped-def]
        # A pooled SQLite connection may first be set back to the request's busy timeout,
        # depending on what used it last (the usage flusher): upkeep, not the read's work.
        if not statement.lstrip().upper().startswith("PRAGMA"):
            sent.append(statement)

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", note)
