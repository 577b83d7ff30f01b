"""API shapes of collections, tiers and reports as readers see them."""

from __future__ import annotations

from pydantic import BaseModel

from app.instants import Instant


class CollectionPublic(BaseModel):
    slug: str
    name: str
    description: str


class PricePublic(BaseModel):
    interval: str
    amount: int
    currency: str


class TierPublic(BaseModel):
    slug: str
    name: str
    description: str
    all_collections: bool
    collections: list[str]
    prices: list[PricePublic]


class FootnoteOut(BaseModel):
    n: int
    html: str


class Paywall(BaseModel):
    reason: str
    message: str
    tiers: list[TierPublic]
    login_url: str
    register_url: str
    request_url: str


class Meter(BaseModel):
    used: int
    limit: int
    resets_at: Instant | None


class ReportListItem(BaseModel):
    slug: str
    title: str
    summary: str
    collection: str
    published_at: Instant | None
    access_level: str
    complimentary: bool
    tags: list[str]


class ReportPage(BaseModel):
    items: list[ReportListItem]
    next_cursor: str | None


class ReportDetail(BaseModel):
    slug: str
    title: str
    summary: str
    collection: CollectionPublic
    published_at: Instant | None
    updated_at: Instant
    authors: list[str]
    tags: list[str]
    access_level: str
    complimentary: bool
    access: str
    body_html: str
    footnotes: list[FootnoteOut]
    paywall: Paywall | None
    # A verified reader's free reads (FOLIO_METERED_FREE_READS), present only when the
    # meter decided this read: `metered` (full) or `meter_exhausted` (preview).
    meter: Meter | None = None


class SearchHit(ReportListItem):
    snippet: str
    access: str


class SearchResults(BaseModel):
    items: list[SearchHit]
