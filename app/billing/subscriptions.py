"""Subscription state from Stripe, ordered by `ordering.verdict`, audited. The user row is
locked before the subscription row on every path."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from app.access.entitlements import HeldSubscription, TierGrant, subscription_entitlement
from app.audit import record_audit
from app.billing.ordering import Source, Verdict, verdict
from app.billing.stripe_objects import CheckoutFacts, InvoiceFacts, SubscriptionState
from app.db import insert_ignoring_conflict
from app.models import Price, Subscription, User, utcnow

RECOVERABLE_BY_PAYMENT = frozenset({"incomplete", "past_due", "unpaid"})


def grants_access(sub: Subscription, now: datetime) -> bool:
    if sub.tier_id is None or sub.user_id is None:
        return False
    held = HeldSubscription(
        sub.id or 0,
        sub.source,
        sub.status,
        sub.current_period_end,
        TierGrant(sub.tier_id, "", None),
    )
    return subscription_entitlement(held, now) is not None


def tier_for_price(session: Session, price_id: str | None) -> int | None:
    if price_id is None:
        return None
    return session.execute(
        select(Price.tier_id).where(Price.stripe_price_id == price_id)
    ).scalar_one_or_none()


def locked_user(session: Session, *conditions) -> User | None:  # type: ignore[no-untyped-def]
    """The user row locked before anything in this transaction references it.

    Writing a row that points at the user takes a share lock on it, and linking a customer
    updates a unique column, which needs the full lock: taken later, two events for one
    user would each hold the first and wait for the second (a deadlock on PostgreSQL).
    """
    return session.execute(
        select(User).where(*conditions).with_for_update().execution_options(populate_existing=True)
    ).scalar_one_or_none()


def find_user(session: Session, customer_id: str | None, folio_user_id: int | None) -> User | None:
    """By Stripe customer first, else by the user id the Checkout Session put in metadata.

    Locked first, before the subscription row, on every path (see `locked_user`)."""
    if customer_id:
        user = locked_user(session, User.stripe_customer_id == customer_id)
        if user is not None:
            return user
    if folio_user_id is None:
        return None
    return locked_user(session, User.id == folio_user_id)


def _link_customer(session: Session, user: User, customer_id: str | None) -> None:
    # Read under the lock: the first event to link a customer wins, none overwrites it.
    if customer_id and user.stripe_customer_id is None:
        user.stripe_customer_id = customer_id
        session.add(user)


def locked_subscription(session: Session, stripe_subscription_id: str) -> Subscription:
    """The row for this Stripe subscription, created if new, locked until commit."""
    now = utcnow()
    insert_ignoring_conflict(
        session,
        Subscription,
        {
            "stripe_subscription_id": stripe_subscription_id,
            "source": "stripe",
            "status": "incomplete",
            "created_at": now,
            "updated_at": now,
        },
        ["stripe_subscription_id"],
    )
    return session.execute(
        select(Subscription)
        .where(Subscription.stripe_subscription_id == stripe_subscription_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def _audit_change(
    session: Session, sub: Subscription, before: bool, cause: str, now: datetime
) -> None:
    after = grants_access(sub, now)
    if before == after:
        return
    record_audit(
        session,
        actor=cause,
        action="access.grant" if after else "access.revoke",
        target=f"user:{sub.user_id}",
        after={
            "source": "stripe",
            "subscription": sub.stripe_subscription_id,
            "status": sub.status,
            "tier_id": sub.tier_id,
            "current_period_end": sub.current_period_end,
        },
    )


def apply_subscription_state(
    session: Session,
    state: SubscriptionState,
    created: int,
    cause: str,
    source: Source = Source.SUBSCRIPTION,
    now: datetime | None = None,
) -> str:
    """Applies what a subscription says of itself, unless `verdict` finds it stale."""
    now = now or utcnow()
    user = find_user(session, state.customer_id, state.folio_user_id)
    sub = locked_subscription(session, state.subscription_id)
    decision, why = verdict(sub.stripe_event_created, sub.status, source, created, state.status)
    if decision is not Verdict.APPLY:
        return f"ignored: {why}"
    if source is Source.SYNC and _holds_already(session, sub, user, state):
        # A listing that agrees changes nothing, not even the stamp: a re-run of
        # stripe-sync writes no row. (A late event older than the listing may then still
        # apply; Stripe sends the newer one that put this state back, and so does a sync.)
        return "unchanged"
    return _write_state(session, sub, user, state, created, cause, now)


def _holds_already(
    session: Session, sub: Subscription, user: User | None, state: SubscriptionState
) -> bool:
    linked = user is None or (
        sub.user_id == user.id
        and (state.customer_id is None or user.stripe_customer_id is not None)
    )
    return (
        linked
        and sub.stripe_event_created is not None
        and sub.status == state.status
        and sub.current_period_end == state.current_period_end
        and sub.cancel_at_period_end == state.cancel_at_period_end
        and sub.stripe_price_id == state.price_id
        and sub.stripe_customer_id == state.customer_id
        and sub.tier_id == tier_for_price(session, state.price_id)
    )


def _write_state(
    session: Session,
    sub: Subscription,
    user: User | None,
    state: SubscriptionState,
    created: int,
    cause: str,
    now: datetime,
) -> str:
    before = grants_access(sub, now)
    if user is not None:
        _link_customer(session, user, state.customer_id)
        sub.user_id = user.id
    sub.tier_id = tier_for_price(session, state.price_id)
    sub.stripe_customer_id = state.customer_id
    sub.stripe_price_id = state.price_id
    sub.status = state.status
    sub.current_period_end = state.current_period_end
    sub.cancel_at_period_end = state.cancel_at_period_end
    sub.stripe_event_created = created
    sub.updated_at = now
    session.add(sub)
    session.flush()
    _audit_change(session, sub, before, cause, now)
    notes = [f"status={sub.status}"]
    if sub.user_id is None:
        notes.append(f"unknown customer {state.customer_id}")
    if sub.tier_id is None:
        notes.append(f"unknown price {state.price_id}")
    return "applied: " + ", ".join(notes)


def apply_paid_invoice(
    session: Session,
    facts: InvoiceFacts,
    created: int,
    cause: str,
    now: datetime | None = None,
) -> str:
    """A paid invoice proves the subscription current, even before its own events arrive;
    it never overrides a status set by a subscription event of the same second or later."""
    now = now or utcnow()
    if facts.subscription_id is None:
        return "ignored: not a subscription invoice"
    user = find_user(session, facts.customer_id, facts.folio_user_id)
    sub = locked_subscription(session, facts.subscription_id)
    decision, why = verdict(sub.stripe_event_created, sub.status, Source.INVOICE, created)
    if decision is Verdict.IGNORE:
        return f"ignored: {why}"
    if sub.stripe_event_created is None:  # the first we hear of it: paid, so active
        state = SubscriptionState(
            facts.subscription_id,
            facts.customer_id,
            "active",
            facts.price_id,
            facts.period_end,
            False,
            facts.folio_user_id,
        )
        return _write_state(session, sub, user, state, created, cause, now)
    before = grants_access(sub, now)
    if decision is Verdict.APPLY and sub.status in RECOVERABLE_BY_PAYMENT:
        sub.status = "active"
    if facts.period_end and (
        sub.current_period_end is None or facts.period_end > sub.current_period_end
    ):
        sub.current_period_end = facts.period_end
    sub.stripe_event_created = created
    sub.updated_at = now
    session.add(sub)
    session.flush()
    _audit_change(session, sub, before, cause, now)
    return f"applied: status={sub.status} ({why})"


def link_checkout(
    session: Session, facts: CheckoutFacts, cause: str, now: datetime | None = None
) -> str:
    """Links the Stripe customer to the user; grants nothing by itself."""
    now = now or utcnow()
    if facts.folio_user_id is None or facts.customer_id is None:
        return "ignored: no user or customer on the session"
    user = locked_user(session, User.id == facts.folio_user_id)
    if user is None:
        return f"ignored: unknown user {facts.folio_user_id}"
    if user.stripe_customer_id not in (None, facts.customer_id):
        return f"ignored: user already has customer {user.stripe_customer_id}"
    owner = session.execute(
        select(User.id).where(User.stripe_customer_id == facts.customer_id)
    ).scalar_one_or_none()
    if owner not in (None, user.id):
        return f"ignored: customer belongs to user {owner}"
    user.stripe_customer_id = facts.customer_id
    session.add(user)
    # Subscription events that came before this one could not be matched: they are now.
    orphans = (
        session.execute(
            select(Subscription)
            .where(
                Subscription.stripe_customer_id == facts.customer_id, Subscription.user_id.is_(None)
            )
            .with_for_update()
        )
        .scalars()
        .all()
    )
    for sub in orphans:
        before = grants_access(sub, now)
        sub.user_id = user.id
        session.add(sub)
        session.flush()
        _audit_change(session, sub, before, cause, now)
    return f"linked customer {facts.customer_id} to user {user.id}"
