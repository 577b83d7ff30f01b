"""Reads the audit trail: filtered by actor, action, target and time, newest first."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from app.members.schemas import AuditEntryOut, AuditPage
from app.models import AuditEntry
from app.pagination import decode_id_cursor, encode_id_cursor


def audit_out(entry: AuditEntry) -> AuditEntryOut:
    return AuditEntryOut.model_validate(entry, from_attributes=True)


def list_audit(
    session: Session,
    *,
    actor: str | None = None,
    action: str | None = None,
    target: str | None = None,
    since: datetime | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> AuditPage:
    """Exact matches on actor (`user:12`, `stripe:evt_…`, `system`), action and target;
    an action ending in `.` is a prefix (`organization.` for every organization write)."""
    query = select(AuditEntry)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if action:
        query = query.where(
            AuditEntry.action.startswith(action, autoescape=True)
            if action.endswith(".")
            else AuditEntry.action == action
        )
    if target:
        query = query.where(AuditEntry.target == target)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if cursor:
        query = query.where(AuditEntry.id < decode_id_cursor(cursor))
    rows = session.execute(query.order_by(AuditEntry.id.desc()).limit(limit + 1)).scalars().all()
    page = rows[:limit]
    return AuditPage(
        items=[audit_out(e) for e in page],
        next_cursor=encode_id_cursor(page[-1].id) if len(rows) > limit else None,  # type: ignore[arg-type]
    )
