"""Subscriber statistics from subscription state: members by status, MRR, new and churned.

"paid" and MRR count the same rows: the granting Stripe subscriptions (active, trialing,
past_due, period end ahead) of members whose status is paid. Churn is read from the
subscriptions themselves, never from audit wording.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, not_, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from app.access.entitlements import GRANTING_STRIPE_STATUSES
from app.members.schemas import MemberCounts, StatsOut
from app.members.search import comp_now, org_cover, paid_now, status_filter, stripe_granting
from app.models import Price, Subscription, User

WINDOW = timedelta(days=30)


def member_counts(session: Session, now: datetime) -> MemberCounts:
    paid, comp = paid_now(now), comp_now(now)
    org = org_cover(session, now)
    counts = {
        status: session.execute(
            select(func.count())
            .select_from(User)
            .where(User.erased_at.is_(None), status_filter(status, paid, comp, org))
        ).scalar_one()
        for status in ("free", "paid", "comp", "org", "disabled")
    }
    return MemberCounts(total=sum(counts.values()), **counts)


def monthly_recurring_revenue(session: Session, now: datetime) -> tuple[dict[str, int], int]:
    """Minor units per currency (a yearly price counts a twelfth), and the rows counted."""
    paying_member = and_(User.erased_at.is_(None), User.disabled.is_(False))
    rows = session.execute(
        select(Price.currency, Price.interval, func.sum(Price.amount), func.count())
        .select_from(Subscription)
        .join(User, User.id == Subscription.user_id)
        .join(Price, Price.stripe_price_id == Subscription.stripe_price_id)
        .where(*stripe_granting(Subscription, now), paying_member)
        .group_by(Price.currency, Price.interval)
    ).all()
    mrr: dict[str, float] = {}
    counted = 0
    for currency, interval, total, count in rows:
        mrr[currency] = mrr.get(currency, 0) + (total / 12 if interval == "year" else total)
        counted += count
    return {currency: round(amount) for currency, amount in sorted(mrr.items())}, counted


def churned(session: Session, now: datetime) -> int:
    """Members whose Stripe subscription stopped granting in the window and who do not
    pay now: a final or lapsed status set in the window, or a period that ran out in it."""
    since = now - WINDOW
    stopped = or_(
        and_(
            Subscription.status.not_in(GRANTING_STRIPE_STATUSES),
            Subscription.updated_at >= since,
        ),
        and_(
            Subscription.status.in_(GRANTING_STRIPE_STATUSES),
            Subscription.current_period_end > since,
            Subscription.current_period_end <= now,
        ),
    )
    # An alias, so the "pays now" test looks at the member's other rows, not this one.
    held = aliased(Subscription)
    pays_now = exists().where(held.user_id == Subscription.user_id, *stripe_granting(held, now))
    return session.execute(
        select(func.count(func.distinct(Subscription.user_id))).where(
            Subscription.source == "stripe",
            Subscription.user_id.is_not(None),
            stopped,
            not_(pays_now),
        )
    ).scalar_one()


def subscriber_stats(session: Session, now: datetime) -> StatsOut:
    mrr, counted = monthly_recurring_revenue(session, now)
    trialing = session.execute(
        select(func.count())
        .select_from(Subscription)
        .join(User, User.id == Subscription.user_id)
        .where(
            *stripe_granting(Subscription, now),
            Subscription.status == "trialing",
            User.disabled.is_(False),
        )
    ).scalar_one()
    new = session.execute(
        select(func.count())
        .select_from(User)
        .where(User.created_at >= now - WINDOW, User.erased_at.is_(None))
    ).scalar_one()
    return StatsOut(
        members=member_counts(session, now),
        mrr=mrr,
        paid_subscriptions=counted,
        trialing_subscriptions=trialing,
        new_last_30_days=new,
        churned_last_30_days=churned(session, now),
    )
