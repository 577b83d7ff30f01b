"""Generations: how every worker learns, in microseconds, that what it keeps went stale.

A generation is a file in FOLIO_DATA_DIR. A `WriteWatch` appends one byte to its file after
every commit that wrote one of its tables, whichever service, webhook or CLI command did
the write, in whichever process: its session events see ORM flushes and Core
INSERT/UPDATE/DELETE statements run through a session. A reader compares the file's
(inode, size, mtime) with one os.stat: no query. Every worker on one host sees a bump on
its next request. With FOLIO_REDIS_URL set, a bump also travels through Redis to workers on
other hosts (app.generation_relay), and a generation is the stat with what this process
heard from Redis appended, still without I/O; without Redis, workers on several hosts would
have to share FOLIO_DATA_DIR (a network volume caching attributes defeats R-A1).

Read the generation BEFORE the rows it guards, bump it AFTER the commit: a reader that
raced a write keeps what it read under the older generation, which the bump has already
made stale, so nothing stale is served after the writer's commit returned.

Two watches exist: the content generation (app.reports.preview_cache: reports and what
their previews are made of) and the access generation (app.access_generation: who a
viewer is and what they hold).
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from app import generation_relay
from app.config import Settings, get_settings

log = logging.getLogger("folio")

# (inode, size, mtime_ns) of the file, and with Redis what this process heard of it there.
Generation = tuple[int, ...]
# A file is rewritten (a new inode) once it grows this large, so it never grows further.
ROTATE_AT = 4096


def generation_feed(settings: Settings) -> generation_relay.Feed | None:
    """Where bumps travel between hosts: None without Redis."""
    if not settings.redis_url:
        return None
    return (settings.redis_url, settings.generation_channel)


def current_generation_of(name: str) -> Generation:
    """(inode, size, mtime_ns) of a generation file: one os.stat, no query. With Redis,
    followed by what this process heard there (never the same twice while not listening)."""
    settings = get_settings()
    try:
        st = os.stat(settings.data_dir / name)
        here: Generation = (st.st_ino, st.st_size, st.st_mtime_ns)
    except FileNotFoundError:
        here = (0, 0, 0)
    feed = generation_feed(settings)
    if feed is None:
        return here
    return (*here, generation_relay.heard(name, feed))


def bump_generation_of(name: str) -> None:
    """Makes everything kept under the named generation stale, in every worker (of every
    host, with Redis: published before this returns)."""
    settings = get_settings()
    _append_to(settings.data_dir / name, name)
    feed = generation_feed(settings)
    if feed is not None:
        generation_relay.publish(name, feed)


def _append_to(path: Path, name: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() and path.stat().st_size >= ROTATE_AT:
            draft = path.with_name(f"{name}.{os.getpid()}.{threading.get_ident()}")
            draft.write_bytes(b".")
            os.replace(draft, path)
        else:
            with open(path, "ab") as file:
                file.write(b".")
    except OSError:
        # Readers would keep serving what they kept: say so loudly.
        log.exception("could not bump the generation at %s", path)


class WriteWatch:
    """Bumps the generation file `name` after every commit that wrote one of `models`.

    `quiet_new`: models whose new rows stale nothing (a sign-in's refresh token).
    `neutral_option`: an execution option that marks a statement as staling nothing."""

    def __init__(
        self,
        name: str,
        models: tuple[type, ...],
        *,
        quiet_new: tuple[type, ...] = (),
        neutral_option: str | None = None,
    ) -> None:
        self.name = name
        self.models = models
        self.tables = frozenset(model.__table__.name for model in models)  # type: ignore[attr-defined]
        self._quiet_new = quiet_new
        self._quiet_new_tables = frozenset(m.__table__.name for m in quiet_new)  # type: ignore[attr-defined]
        self._neutral_option = neutral_option
        self._flag = f"folio_stale:{name}"  # a flag left by a rolled-back write: one needless bump
        event.listen(Session, "after_flush", self._note_flushed_writes)
        event.listen(Session, "do_orm_execute", self._note_statement_writes)
        event.listen(Session, "after_commit", self._bump_after_commit)

    def current(self) -> Generation:
        return current_generation_of(self.name)

    def bump(self) -> None:
        bump_generation_of(self.name)

    def _stales(self, instance: Any, new: bool) -> bool:
        return isinstance(instance, self.models) and not (
            new and isinstance(instance, self._quiet_new)
        )

    def _note_flushed_writes(self, session: Session, _flush: UOWTransaction) -> None:
        if (
            any(self._stales(instance, True) for instance in session.new)
            or any(self._stales(instance, False) for instance in session.dirty)
            or any(self._stales(instance, False) for instance in session.deleted)
        ):
            session.info[self._flag] = True

    def _note_statement_writes(self, state: ORMExecuteState) -> None:
        """Bulk UPDATE/DELETE/INSERT statements run through the session (no flush)."""
        if not (state.is_update or state.is_delete or state.is_insert):
            return
        name = getattr(getattr(state.statement, "table", None), "name", None)
        if name not in self.tables:
            return
        if state.is_insert and name in self._quiet_new_tables:
            return
        if self._neutral_option and state.execution_options.get(self._neutral_option):
            return
        state.session.info[self._flag] = True

    def _bump_after_commit(self, session: Session) -> None:
        if session.info.pop(self._flag, False):
            self.bump()


ABSENT: Any = object()  # what GenerationCache.get answers for nothing kept
MAX_ENTRIES = 4096


class GenerationCache:
    """One worker's kept answers, each with the generation it was read under (an LRU)."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: OrderedDict[Hashable, tuple[Generation, Any]] = OrderedDict()
        self._max = max_entries
        self._lock = threading.Lock()

    def get(self, key: Hashable, generation: Generation) -> Any:
        """The value kept under this generation, or ABSENT."""
        with self._lock:
            found = self._entries.get(key)
            if found is None or found[0] != generation:
                return ABSENT
            self._entries.move_to_end(key)
            return found[1]

    def put(self, key: Hashable, generation: Generation, value: Any) -> None:
        with self._lock:
            self._entries[key] = (generation, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


@dataclass(frozen=True, slots=True)
class Kept:
    """A request's view of a worker's cache: the generation it read before any row."""

    cache: GenerationCache
    generation: Generation

    def get(self, key: Hashable, read: Callable[[], Any]) -> Any:
        """The kept answer for `key`, else `read()` kept under this request's generation."""
        value = self.cache.get(key, self.generation)
        if value is ABSENT:
            value = read()
            self.cache.put(key, self.generation, value)
        return value
