"""THE access decision: for a report and a viewer, full text or preview, and why. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from app.access.entitlements import Entitlement
from app.access.viewer import Viewer


class Access(StrEnum):
    FULL = "full"
    PREVIEW = "preview"


class Reason(StrEnum):
    PUBLIC = "public"
    COMPLIMENTARY = "complimentary"
    FREE_AFTER = "free_after"
    REGISTERED = "registered"
    ENTITLED = "entitled"
    STAFF = "staff"
    LOGIN_REQUIRED = "login_required"
    SUBSCRIPTION_REQUIRED = "subscription_required"
    METER_EXHAUSTED = "meter_exhausted"


@dataclass(frozen=True, slots=True)
class ReportFacts:
    """What the decision needs to know of a report (a Report row satisfies it)."""

    access_level: str
    complimentary: bool
    free_after: datetime | None
    collection_id: int
    status: str
    published_at: datetime | None


@dataclass(frozen=True, slots=True)
class Decision:
    access: Access
    reason: Reason
    entitlement: Entitlement | None = None

    @property
    def full(self) -> bool:
        return self.access is Access.FULL


# Reports in these states are live once their published_at has passed (no cron flips them).
LIVE_STATUSES = ("published", "scheduled")


def is_live(report: ReportFacts, now: datetime) -> bool:
    """Published, or scheduled and its time has come."""
    if report.status not in LIVE_STATUSES:
        return False
    return report.published_at is not None and report.published_at <= now


def is_visible(report: ReportFacts, viewer: Viewer, now: datetime) -> bool:
    """Drafts and scheduled reports exist only for editors and admins (R-A3)."""
    return viewer.is_staff or is_live(report, now)


def is_complimentary(report: ReportFacts, now: datetime) -> bool:
    return report.complimentary or (report.free_after is not None and report.free_after <= now)


def decide_access(
    report: ReportFacts, viewer: Viewer, entitlements: Iterable[Entitlement], now: datetime
) -> Decision:
    """SPEC §4's table. `entitlements` are what the viewer holds now, loaded per request.

    Metered reading (a later issue) arrives as one more kind of entitlement-like allowance
    decided after the entitled check, so this stays the only place that decides.
    """
    if report.access_level == "public":
        return Decision(Access.FULL, Reason.PUBLIC)
    if report.complimentary:
        return Decision(Access.FULL, Reason.COMPLIMENTARY)
    if report.free_after is not None and report.free_after <= now:
        return Decision(Access.FULL, Reason.FREE_AFTER)
    if viewer.is_staff:
        return Decision(Access.FULL, Reason.STAFF)
    for entitlement in entitlements:
        if entitlement.grants(report.collection_id, now):
            return Decision(Access.FULL, Reason.ENTITLED, entitlement)
    verified_member = viewer.is_member and viewer.email_verified
    if report.access_level == "registered" and verified_member:
        return Decision(Access.FULL, Reason.REGISTERED)
    if not verified_member:
        return Decision(Access.PREVIEW, Reason.LOGIN_REQUIRED)
    return Decision(Access.PREVIEW, Reason.SUBSCRIPTION_REQUIRED)
