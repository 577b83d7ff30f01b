"""Admin statistics: members by status, MRR per currency, new and churned members."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from app.deps import SessionDep, TransactionRoute, require_admin
from app.members.schemas import StatsOut
from app.members.stats import subscriber_stats
from app.models import utcnow

router = APIRouter(
    prefix="/api/v1/admin",
    tags=["admin: stats"],
    dependencies=[Depends(require_admin)],
    route_class=TransactionRoute,
)


@router.get("/stats", response_model=StatsOut)
def stats(session: SessionDep) -> StatsOut:
    """Members by status (`free`, `paid`, `comp`, `org`, `disabled`, as in the member
    list), MRR per currency from the same subscriptions as `paid`, new and churned
    members in the last 30 days."""
    return subscriber_stats(session, utcnow())
