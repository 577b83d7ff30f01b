"""Reading events (the raw ledger), their COUNTER monthly aggregates, and harvest credentials."""

from datetime import date, datetime

from sqlalchemy import Column, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, utcnow


class ReadingEvent(SQLModel, table=True):
    """One read of a report, as decided. Never a raw IP address or email: a member by id,
    anyone else by a keyed hash that changes every day (app/usage/recorder.py)."""

    __tablename__ = "reading_events"
    __table_args__ = (Index("ix_reading_events_occurred_at", "occurred_at"),)

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(
        sa_column=Column(Integer, ForeignKey("reports.id", ondelete="CASCADE"), nullable=False)
    )
    occurred_at: datetime = Field(sa_type=UTCDateTime)  # the last read of the row's group
    # Identical reads within one flush are one row (app/usage/recorder.py): the first read's
    # time when there were several, and how many.
    first_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    repeats: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    outcome: str = Field(max_length=8)  # full | preview
    reason: str = Field(max_length=32)  # the access decision's reason
    access_type: str = Field(max_length=16)  # COUNTER: Controlled | Free_To_Read | Open
    organization_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("organizations.id", ondelete="SET NULL"), nullable=True
        ),
    )
    member_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True
        ),
    )
    session_key: str | None = Field(default=None, max_length=64)
    # A verified reader's email domain, only when no organization is attributed: the
    # turnaway lead list names domains, never people.
    reader_domain: str | None = Field(default=None, max_length=253)
    is_robot: bool = Field(default=False)


class UsageMonthly(SQLModel, table=True):
    """COUNTER counts of one report for one organization in one month (robots, staff and
    double clicks already taken out): what the reports read, never the raw events."""

    __tablename__ = "usage_monthly"
    __table_args__ = (UniqueConstraint("organization_id", "month", "report_id", "access_type"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False
        )
    )
    report_id: int = Field(
        sa_column=Column(Integer, ForeignKey("reports.id", ondelete="CASCADE"), nullable=False)
    )
    month: date = Field(sa_column=Column(Date, nullable=False))  # its first day
    access_type: str = Field(max_length=16)
    total_item_investigations: int = 0
    unique_item_investigations: int = 0
    total_item_requests: int = 0
    unique_item_requests: int = 0
    no_license: int = 0
    limit_exceeded: int = 0


class UsageProcessing(SQLModel, table=True):
    """One row: the months aggregated so far (first and last), so a report can tell
    "no usage" (3030) from "not processed yet" (3031), and a re-run does nothing twice."""

    __tablename__ = "usage_processing"

    id: int | None = Field(default=None, primary_key=True)
    first_month: date = Field(sa_column=Column(Date, nullable=False))
    processed_through: date = Field(sa_column=Column(Date, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CounterCredential(SQLModel, table=True):
    """An organization's COUNTER API credentials: its public customer ID (kept across key
    rotations) and the SHA-256 of its API key (the key itself is shown once)."""

    __tablename__ = "counter_credentials"

    organization_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
        )
    )
    customer_id: str = Field(sa_column=Column(String(40), nullable=False, unique=True))
    api_key_hash: str = Field(max_length=64)
    issued_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class UsageDomainTurnaways(SQLModel, table=True):
    """Denials of one report in one month to verified readers no organization covers, by
    their email domain only (the turnaway lead list): never a member, a key or an address.
    Counted with the same rules as usage_monthly (robots out, double clicks once)."""

    __tablename__ = "usage_domain_turnaways"
    __table_args__ = (UniqueConstraint("month", "reader_domain", "report_id"),)

    id: int | None = Field(default=None, primary_key=True)
    month: date = Field(sa_column=Column(Date, nullable=False))  # its first day
    reader_domain: str = Field(max_length=253)
    report_id: int = Field(
        sa_column=Column(Integer, ForeignKey("reports.id", ondelete="CASCADE"), nullable=False)
    )
    no_license: int = 0
    limit_exceeded: int = 0
