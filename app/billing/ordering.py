"""THE staleness rule for Stripe state (R-B3): which incoming fact may change a subscription.

Stripe's `created` has whole seconds and events arrive in any order, so every writer of a
Stripe subscription row (subscription events, invoices, `folio stripe-sync`) asks `verdict`
and nothing else. Pure.
"""

from __future__ import annotations

from enum import Enum

from app.models.billing import FINAL_STRIPE_STATUSES


class Source(Enum):
    SUBSCRIPTION = "subscription event"
    INVOICE = "invoice event"
    SYNC = "stripe-sync"


class Verdict(Enum):
    APPLY = "apply"  # the whole state (an invoice: recovery to active and the period)
    PERIOD_ONLY = "period only"  # an invoice of the same second: extend the period, no status
    IGNORE = "ignore"


def verdict(
    held_created: int | None,
    held_status: str,
    source: Source,
    created: int,
    incoming_status: str | None = None,
) -> tuple[Verdict, str]:
    """(what to do, why). `created` is the event's second, or for stripe-sync the second
    taken before it fetched (so a listing is never thought newer than it can be)."""
    if held_created is None:
        return Verdict.APPLY, "new"
    if held_status in FINAL_STRIPE_STATUSES:
        return Verdict.IGNORE, f"subscription is already {held_status}"
    if created < held_created:
        return Verdict.IGNORE, "older than the state held"
    if created > held_created:
        return Verdict.APPLY, "newer"
    # A tie: the same second as the state held, so either may be the later one.
    if source is Source.SYNC:
        return Verdict.IGNORE, "listing fetched in the second of the state held"
    if source is Source.INVOICE:
        return Verdict.PERIOD_ONLY, "same second as the state held"
    if incoming_status == "incomplete" and held_status != "incomplete":
        # `incomplete` is where every subscription starts: it cannot follow a later state.
        return Verdict.IGNORE, f"same second as {held_status}; incomplete cannot follow it"
    return Verdict.APPLY, "same second"
