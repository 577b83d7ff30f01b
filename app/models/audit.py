"""The audit trail: every admin write and every grant or loss of access, with its cause."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Integer
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, utcnow


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_entries"

    id: int | None = Field(default=None, primary_key=True)
    # "user:12", "stripe:evt_…" or "system"
    actor: str = Field(max_length=300, index=True)
    actor_user_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    )
    action: str = Field(max_length=100, index=True)
    target: str = Field(max_length=300, index=True)
    before: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    after: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
