"""Published content: collections, reports (with their save-time renderings) and tags."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, String, Text
from sqlmodel import Field, Relationship, SQLModel

from app.models.base import UTCDateTime, utcnow


class Collection(SQLModel, table=True):
    __tablename__ = "collections"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=120, unique=True)
    name: str = Field(max_length=200)
    description: str = Field(default="", sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ReportTag(SQLModel, table=True):
    __tablename__ = "report_tags"

    report_id: int = Field(
        sa_column=Column(Integer, ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True)
    )
    tag: str = Field(sa_column=Column(String(64), primary_key=True, index=True))
    report: "Report" = Relationship(back_populates="tag_rows")


class Report(SQLModel, table=True):
    __tablename__ = "reports"
    __table_args__ = (
        Index("ix_reports_status_published_at_id", "status", "published_at", "id"),
        Index("ix_reports_collection_id_published_at", "collection_id", "published_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=120, unique=True)
    title: str = Field(max_length=300)
    summary: str = Field(default="", sa_type=Text)
    body: str = Field(default="", sa_type=Text)
    collection_id: int = Field(
        sa_column=Column(Integer, ForeignKey("collections.id", ondelete="RESTRICT"), nullable=False)
    )
    access_level: str = Field(default="subscribers", max_length=16)
    complimentary: bool = Field(default=False)
    free_after: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status: str = Field(default="draft", max_length=16)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    authors: list[str] = Field(default_factory=list, sa_type=JSON)
    # Rendered at save time so a read never does Markdown work.
    full_html: str = Field(default="", sa_type=Text)
    preview_html: str = Field(default="", sa_type=Text)
    full_footnotes: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    preview_footnotes: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    full_text: str = Field(default="", sa_type=Text)
    preview_text: str = Field(default="", sa_type=Text)
    render_warnings: list[str] = Field(default_factory=list, sa_type=JSON)
    # app.content.RENDER_VERSION of the stored rendering (0: saved before versions existed).
    render_version: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    collection: Collection = Relationship(sa_relationship_kwargs={"lazy": "joined"})
    tag_rows: list[ReportTag] = Relationship(
        back_populates="report",
        sa_relationship_kwargs={
            "lazy": "selectin",
            "cascade": "all, delete-orphan",
            "order_by": "ReportTag.tag",
        },
    )

    @property
    def tags(self) -> list[str]:
        return [row.tag for row in self.tag_rows]
