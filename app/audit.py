"""Writes the audit trail: who (a user, a Stripe event, the system) did what to what."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from app.access import Member
from app.models import AuditEntry, utcnow


def actor_of(member: Member | None) -> str:
    return f"user:{member.id}" if member is not None else "system"


def record_audit(
    session: Session,
    *,
    actor: str,
    action: str,
    target: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    actor_user_id: int | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        actor=actor,
        actor_user_id=actor_user_id,
        action=action,
        target=target,
        before=_jsonable(before),
        after=_jsonable(after),
        at=utcnow(),
    )
    session.add(entry)
    session.flush()
    return entry


def _jsonable(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in value.items()}
