"""The anonymous preview, served from bytes prepared once per worker (issue 12, R-P1).

The anonymous preview of a report is the same for every anonymous viewer whose network
holds no licence, so each worker keeps its serialised bytes and ETag, keyed by slug. An
entry is good while:

- the content generation is the one it was built under. Every commit that writes a report,
  its tags, a collection, a tier, a price, a tier's collections, an organization or its
  ranges bumps the generation (app.generation.WriteWatch: whichever service or CLI command
  did the write, in whichever process; a reader's check is one os.stat, no query).
- its validity has not ended: the next instant at which the report changes without a write
  (free_after passing makes it complimentary, full for everyone). A scheduled report is
  not visible before its time, and only visible previews are ever kept.

The generation is read BEFORE the report is, and bumped AFTER the commit (app.generation).
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.access import Access, Decision, Reason
from app.access.entitlements import client_address
from app.generation import Generation, GenerationCache, WriteWatch
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
# What the anonymous preview of a report is made from (the report, its tags and
# collection, the paywall's tiers, their prices and collections).
# Organizations and their ranges too: they make the per-worker network index (below).
CONTENT = WriteWatch(
    GENERATION_FILE,
    (
        Report,
        ReportTag,
        Collection,
        Tier,
        Price,
        TierCollection,
        Organization,
        OrganizationRange,
    ),
)
PREVIEW_TABLES = CONTENT.tables
MAX_ENTRIES = 4096


def current_generation() -> Generation:
    """The content generation: one os.stat."""
    return CONTENT.current()


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
        self.content = GenerationCache(max_entries)

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
