"""Admin statistics: members by status, MRR per currency, new and churned members."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends
from sqlalchemy import func, select

from app.access.entitlements import GRANTING_STRIPE_STATUSES
from app.deps import SessionDep, TransactionRoute, require_admin
from app.models import AuditEntry, Price, Subscription, User, utcnow

router = APIRouter(
    prefix="/api/v1/admin",
    tags=["admin: stats"],
    dependencies=[Depends(require_admin)],
    route_class=TransactionRoute,
)


def monthly_recurring_revenue(session) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Minor units per currency from active Stripe subscriptions; a year counts as 12 months."""
    rows = session.execute(
        select(Price.currency, Price.interval, func.sum(Price.amount))
        .join(Subscription, Subscription.stripe_price_id == Price.stripe_price_id)
        .where(
            Subscription.source == "stripe",
            Subscription.status == "active",
            Subscription.current_period_end > utcnow(),
        )
        .group_by(Price.currency, Price.interval)
    ).all()
    mrr: dict[str, float] = {}
    for currency, interval, total in rows:
        mrr[currency] = mrr.get(currency, 0) + (total / 12 if interval == "year" else total)
    return {currency: round(amount) for currency, amount in sorted(mrr.items())}


@router.get("/stats")
def stats(session: SessionDep) -> dict[str, Any]:
    now = utcnow()
    since = now - timedelta(days=30)
    members = session.execute(
        select(func.count()).select_from(User).where(User.erased_at.is_(None))
    ).scalar_one()
    disabled = session.execute(
        select(func.count()).select_from(User).where(User.disabled.is_(True))
    ).scalar_one()
    by_source = dict(
        session.execute(
            select(Subscription.source, func.count(func.distinct(Subscription.user_id)))
            .where(
                Subscription.status.in_(GRANTING_STRIPE_STATUSES),
                (Subscription.current_period_end.is_(None))
                | (Subscription.current_period_end > now),
            )
            .group_by(Subscription.source)
        ).all()
    )
    new = session.execute(
        select(func.count()).select_from(User).where(User.created_at >= since)
    ).scalar_one()
    churned = session.execute(
        select(func.count(func.distinct(AuditEntry.target))).where(
            AuditEntry.action == "access.revoke", AuditEntry.at >= since
        )
    ).scalar_one()
    return {
        "members": {
            "total": members,
            "paid": by_source.get("stripe", 0),
            "comp": by_source.get("comp", 0),
            "disabled": disabled,
        },
        "mrr": monthly_recurring_revenue(session),
        "new_last_30_days": new,
        "churned_last_30_days": churned,
    }
