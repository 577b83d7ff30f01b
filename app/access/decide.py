"""THE access decision: for a report and a viewer, full text or preview, and why. Pure."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
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
    METERED = "metered"
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


METER_WINDOW = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Meter:
    """A verified reader's free reads in the rolling window, as counted before this read:
    `used` distinct reports read in the last 30 days, `oldest` the earliest of those reads,
    `already_read` whether this report is one of them (a reread costs nothing)."""

    used: int
    limit: int
    already_read: bool = False
    oldest: datetime | None = None

    def after_read(self, now: datetime) -> Meter:
        """The meter once this report has been read in full."""
        if self.already_read:
            return self
        return Meter(self.used + 1, self.limit, True, min(self.oldest or now, now))

    @property
    def resets_at(self) -> datetime | None:
        """When the oldest counted read leaves the window (and a read comes back)."""
        return self.oldest + METER_WINDOW if self.oldest is not None else None


@dataclass(frozen=True, slots=True)
class Decision:
    access: Access
    reason: Reason
    entitlement: Entitlement | None = None
    meter: Meter | None = None  # set when the meter decided (metered or meter_exhausted)

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
    report: ReportFacts,
    viewer: Viewer,
    entitlements: Iterable[Entitlement],
    now: datetime,
    meter: Callable[[], Meter | None] | None = None,
) -> Decision:
    """SPEC §4's table. `entitlements` are what the viewer holds now, loaded per request.

    Metered reading: `meter` reads the viewer's meter (None: metering is off or not offered
    here). It is asked only for a verified member without an entitlement reading a
    `subscribers` report, so nobody else pays for it (the caller locks and counts there).
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
    state = meter() if meter is not None and report.access_level == "subscribers" else None
    if state is not None and state.limit > 0:
        if state.already_read or state.used < state.limit:
            return Decision(Access.FULL, Reason.METERED, meter=state.after_read(now))
        return Decision(Access.PREVIEW, Reason.METER_EXHAUSTED, meter=state)
    return Decision(Access.PREVIEW, Reason.SUBSCRIPTION_REQUIRED)
