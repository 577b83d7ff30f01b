"""Metered reading: which subscribers reports each verified reader read for free, and when."""

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime


class MeterRead(SQLModel, table=True):
    """One report a reader read on the meter. One row per (reader, report): a reread in the
    window costs nothing; one after the window moves `read_at` and counts again."""

    __tablename__ = "meter_reads"
    __table_args__ = (UniqueConstraint("user_id", "report_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    )
    report_id: int = Field(
        sa_column=Column(Integer, ForeignKey("reports.id", ondelete="CASCADE"), nullable=False)
    )
    read_at: datetime = Field(sa_type=UTCDateTime)
