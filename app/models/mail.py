"""The email outbox: written in the request's transaction, sent later by the worker."""

from datetime import datetime

from sqlalchemy import Index, Text
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, utcnow


class OutboxEmail(SQLModel, table=True):
    __tablename__ = "outbox_emails"
    __table_args__ = (
        Index("ix_outbox_emails_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_outbox_emails_recipient_kind_created_at", "recipient", "kind", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    recipient: str = Field(max_length=320)
    kind: str = Field(default="", max_length=40)  # verify, reset, magic, notice, ...
    subject: str = Field(max_length=300)
    body_text: str = Field(sa_type=Text)
    body_html: str = Field(default="", sa_type=Text)
    status: str = Field(default="pending", max_length=16)  # pending | sent | failed
    # Every time a sender took it, a pass while the mail server was unreachable included.
    attempts: int = Field(default=0)
    # Times the mail server answered 4xx/5xx for it: what FOLIO_OUTBOX_MAX_ATTEMPTS limits.
    refusals: int = Field(default=0)
    last_error: str = Field(default="", sa_type=Text)
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
