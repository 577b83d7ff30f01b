"""Staff request and response bodies of content (SPEC §5): collections and reports."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field

from app.bodies import Slug, StrictBody
from app.instants import Instant
from app.reports.schemas import FootnoteOut

AccessLevel = Literal["public", "registered", "subscribers"]
Status = Literal["draft", "scheduled", "published"]
MAX_BODY_CHARS = 500_000


class CollectionIn(StrictBody):
    slug: Slug
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=5000)


class CollectionUpdate(StrictBody):
    slug: Slug | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)


class CollectionOut(BaseModel):
    id: int
    slug: str
    name: str
    description: str


class ReportIn(StrictBody):
    slug: Slug | None = None
    title: str = Field(min_length=1, max_length=300)
    summary: str = Field(default="", max_length=5000)
    body: str = Field(default="", max_length=MAX_BODY_CHARS)
    collection: str = Field(min_length=1, max_length=120)
    access_level: AccessLevel = "subscribers"
    complimentary: bool = False
    status: Status = "draft"
    published_at: Instant | None = None
    free_after: Instant | None = None
    tags: Tags = Field(default_factory=list)
    authors: Authors = Field(default_factory=list)


class ReportUpdate(StrictBody):
    slug: Slug | None = None
    title: str | None = Field(default=None, min_length=1, max_length=300)
    summary: str | None = Field(default=None, max_length=5000)
    body: str | None = Field(default=None, max_length=MAX_BODY_CHARS)
    collection: str | None = Field(default=None, min_length=1, max_length=120)
    access_level: AccessLevel | None = None
    complimentary: bool | None = None
    status: Status | None = None
    published_at: Instant | None = None
    free_after: Instant | None = None
    tags: Tags | None = None
    authors: Authors | None = None


def normalise_tags(tags: list[str]) -> list[str]:
    cleaned: list[str] = []
    for tag in tags:
        tag = tag.strip().lower()
        if not tag or len(tag) > 64:
            raise ValueError("each tag must be 1 to 64 characters")
        if tag not in cleaned:
            cleaned.append(tag)
    return cleaned


def normalise_authors(authors: list[str]) -> list[str]:
    cleaned = [a.strip() for a in authors]
    if any(not a or len(a) > 200 for a in cleaned):
        raise ValueError("each author must be 1 to 200 characters")
    return cleaned


class ReportAdminOut(BaseModel):
    id: int
    slug: str
    title: str
    summary: str
    body: str
    collection: str
    access_level: str
    complimentary: bool
    status: str
    published_at: Instant | None
    free_after: Instant | None
    tags: list[str]
    authors: list[str]
    full_html: str
    preview_html: str
    footnotes: list[FootnoteOut]
    preview_footnotes: list[FootnoteOut]
    warnings: list[str]
    created_at: Instant
    updated_at: Instant


class ReportAdminPage(BaseModel):
    items: list[ReportAdminOut]
    next_cursor: str | None


# Normalised as they are read, wherever a body takes them.
Tags = Annotated[list[str], Field(max_length=30), AfterValidator(normalise_tags)]
Authors = Annotated[list[str], Field(max_length=30), AfterValidator(normalise_authors)]
