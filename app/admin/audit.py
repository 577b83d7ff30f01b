"""Admin route for the audit trail."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from app.audit_log import list_audit
from app.deps import SessionDep, TransactionRoute, require_admin
from app.errors import BadRequest, error_responses
from app.members.schemas import AuditPage

router = APIRouter(
    prefix="/api/v1/admin",
    tags=["admin: audit"],
    dependencies=[Depends(require_admin)],
    route_class=TransactionRoute,
)
Filter = Annotated[str | None, Query(min_length=1, max_length=300)]


@router.get("/audit", response_model=AuditPage, responses=error_responses(BadRequest))
def audit(
    session: SessionDep,
    actor: Filter = None,
    action: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    target: Filter = None,
    since: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> AuditPage:
    """Every admin and editor write and every grant or loss of access, newest first.
    `action` ending in `.` matches a family (`organization.`); `since` without an offset
    is UTC."""
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return list_audit(
        session,
        actor=actor,
        action=action,
        target=target,
        since=since,
        limit=limit,
        cursor=cursor,
    )
