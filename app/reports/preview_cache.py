"""The anonymous preview, served from bytes prepared once per worker (issue 12, R-P1).

The anonymous preview of a report is the same for every anonymous viewer whose network
holds no licence, so each worker keeps its serialised bytes and ETag, keyed by slug. An
entry is good while:

- the content generation is the one it was built under. Every commit that writes a report,
  its tags, a collection, a tier, a price or a tier's collections bumps the generation
  (session events below: whichever service or CLI command did the write, in whichever
  process). The generation is a file in FOLIO_DATA_DIR: a write appends one byte to it
  after its commit, and a reader compares the file's (inode, size, mtime) with os.stat —
  a few microseconds, no query. Every worker on one host (or sharing FOLIO_DATA_DIR on a
  shared volume) sees a bump on its next request. Workers on several hosts must share
  FOLIO_DATA_DIR (a shared volume); a Redis counter is the alternative not built here.
- its validity has not ended: the next instant at which the report changes without a write
  (free_after passing makes it complimentary, full for everyone). A scheduled report is
  not visible before its time, and only visible previews are ever kept.

The generation is read BEFORE the report is, and bumped AFTER the commit: a reader that
raced a write stores what it read under the older generation, which the bump has already
made stale, so a stale entry is never served after the writer's commit returned.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import os
import threading
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from app.access import Access, Decision, Reason
from app.access.entitlements import client_address
from app.config import get_settings
from app.models import (
    Collection,
    Organization,
    OrganizationRange,
    Price,
    Report,
    ReportTag,
    Tier,
    TierCollection,
)

log = logging.getLogger("folio")

GENERATION_FILE = ".folio-content-generation"
# The file is rewritten (a new inode) once it grows this large, so it never grows further.
ROTATE_AT = 4096
# What the anonymous preview of a report is made from (the report, its tags and
# collection, the paywall's tiers, their prices and collections).
# Organizations and their ranges too: they make the per-worker network index (below).
_PREVIEW_MODELS = (
    Report,
    ReportTag,
    Collection,
    Tier,
    Price,
    TierCollection,
    Organization,
    OrganizationRange,
)
PREVIEW_TABLES = frozenset(model.__table__.name for model in _PREVIEW_MODELS)  # type: ignore[attr-defined]
_STALE = "folio_preview_stale"
MAX_ENTRIES = 4096

Generation = tuple[int, int, int]


def generation_path(name: str = GENERATION_FILE) -> Path:
    return get_settings().data_dir / name


def current_generation(name: str = GENERATION_FILE) -> Generation:
    """(inode, size, mtime_ns) of a generation file: one os.stat, no query."""
    try:
        st = os.stat(generation_path(name))
    except FileNotFoundError:
        return (0, 0, 0)
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def bump_generation(name: str = GENERATION_FILE) -> None:
    """Makes every worker's cached previews (or, by name, whatever else a generation file
    guards) stale: called after a commit that changed them."""
    path = generation_path(name)
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
        # Readers would keep serving the old preview: say so loudly.
        log.exception("could not bump the generation at %s", path)


# Every cached preview was decided so: an anonymous reader off licensed networks sees a
# preview only of a `registered` or `subscribers` report, and always for this reason.
ANONYMOUS_PREVIEW = Decision(Access.PREVIEW, Reason.LOGIN_REQUIRED)
PUBLIC_MAX_AGE = 60
VARY = "Authorization, Cookie"
Headers = list[tuple[bytes, bytes]]


@dataclass(frozen=True, slots=True)
class CachedPreview:
    body: bytes
    etag: str
    generation: Generation
    valid_until: datetime | None  # the next instant the report changes without a write
    # The response's headers, built once: a 200 and a 304 (what Starlette's Response with
    # public caching writes, in its order).
    headers: Headers
    not_modified_headers: Headers
    report_id: int  # a cached read is still a read: the ledger records it (app.usage)

    def fresh(self, generation: Generation, now: datetime) -> bool:
        return self.generation == generation and (
            self.valid_until is None or now < self.valid_until
        )


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def public_headers(etag: str) -> Headers:
    return [
        (b"cache-control", f"public, max-age={PUBLIC_MAX_AGE}".encode()),
        (b"vary", VARY.encode()),
        (b"etag", etag.encode()),
    ]


def cached_preview(
    body: bytes, generation: Generation, valid_until: datetime | None, report_id: int
) -> CachedPreview:
    etag = etag_of(body)
    public = public_headers(etag)
    content = [(b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")]
    return CachedPreview(body, etag, generation, valid_until, content + public, public, report_id)


class NetworkIndex:
    """Every organization's IP range, expired or not, as {(version, prefix): {network}}:
    whether ANY range holds an address, in microseconds. A superset of the live licences,
    so its "no" is exact (the cached preview is served) and its "maybe" sends the read to
    the indexed licence query (app.holdings.matching_licences), which decides."""

    def __init__(self, networks: list[str]) -> None:
        self._by_shape: dict[tuple[int, int], set[int]] = {}
        for text in networks:
            network = ipaddress.ip_network(str(text), strict=False)
            shape = (network.version, network.prefixlen)
            self._by_shape.setdefault(shape, set()).add(int(network.network_address))

    def may_hold(self, ip: str | None) -> bool:
        address = client_address(ip) if ip is not None else None
        if address is None:
            return False
        number, bits = int(address), address.max_prefixlen
        for (version, prefix), networks in self._by_shape.items():
            if version == address.version:
                shift = bits - prefix
                if (number >> shift) << shift in networks:
                    return True
        return False


def load_network_index(session: Session) -> NetworkIndex:
    ranges = OrganizationRange.__table__.c  # type: ignore[attr-defined]
    return NetworkIndex(list(session.execute(select(ranges.network)).scalars()))


class PreviewCache:
    """One worker's anonymous previews by slug (bounded; a dict is thread-safe enough for
    whole-value get/set), and its network index, both under the content generation."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: dict[str, CachedPreview] = {}
        self._max = max_entries
        self._networks: tuple[Generation, NetworkIndex] | None = None
        # Rows made only of content tables (a report with its tags and collection, the
        # tiers granting a collection): good under the generation they were read in.
        self._content: dict[Hashable, tuple[Generation, Any]] = {}

    def content(self, key: Hashable, generation: Generation) -> Any:
        kept = self._content.get(key)
        return kept[1] if kept is not None and kept[0] == generation else None

    def keep_content(self, key: Hashable, generation: Generation, value: Any) -> None:
        if len(self._content) >= self._max and key not in self._content:
            self._content.clear()
        self._content[key] = (generation, value)

    def networks(self, generation: Generation) -> NetworkIndex | None:
        kept = self._networks
        return kept[1] if kept is not None and kept[0] == generation else None

    def keep_networks(self, generation: Generation, index: NetworkIndex) -> None:
        self._networks = (generation, index)

    def get(self, slug: str, generation: Generation, now: datetime) -> CachedPreview | None:
        entry = self._entries.get(slug)
        if entry is None or not entry.fresh(generation, now):
            return None
        return entry

    def put(
        self,
        slug: str,
        body: bytes,
        generation: Generation,
        valid_until: datetime | None,
        report_id: int,
    ) -> CachedPreview:
        entry = cached_preview(body, generation, valid_until, report_id)
        if len(self._entries) >= self._max and slug not in self._entries:
            self._entries.clear()  # rare: more previews than the bound; start afresh
        self._entries[slug] = entry
        return entry


def preview_cache_of(state: Any) -> PreviewCache:
    """This worker's (this app's) previews, kept on the app's state."""
    previews = getattr(state, "preview_cache", None)
    if previews is None:
        previews = state.preview_cache = PreviewCache()
    return previews


# --- every write that changes a preview bumps the generation after its commit ---


def _touches_preview(instances: Any) -> bool:
    return any(isinstance(instance, _PREVIEW_MODELS) for instance in instances)


@event.listens_for(Session, "after_flush")
def _note_flushed_writes(session: Session, _flush: UOWTransaction) -> None:
    # A flag left by a write later rolled back only costs one needless bump.
    if any(_touches_preview(group) for group in (session.new, session.dirty, session.deleted)):
        session.info[_STALE] = True


@event.listens_for(Session, "do_orm_execute")
def _note_statement_writes(state: ORMExecuteState) -> None:
    """Bulk UPDATE/DELETE/INSERT statements run through the session (no flush)."""
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    table = getattr(state.statement, "table", None)
    if table is not None and getattr(table, "name", None) in PREVIEW_TABLES:
        state.session.info[_STALE] = True


@event.listens_for(Session, "after_commit")
def _bump_after_commit(session: Session) -> None:
    if session.info.pop(_STALE, False):
        bump_generation()
