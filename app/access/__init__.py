"""Access: the one decision (decide.py), what viewers hold (entitlements.py), who they are."""

from app.access.decide import (
    LIVE_STATUSES,
    Access,
    Decision,
    Meter,
    Reason,
    ReportFacts,
    decide_access,
    is_complimentary,
    is_live,
    is_visible,
)
from app.access.entitlements import Entitlement, HeldSubscription, Licence, TierGrant
from app.access.viewer import Anonymous, Member, Viewer

__all__ = [
    "LIVE_STATUSES",
    "Access",
    "Anonymous",
    "Decision",
    "Entitlement",
    "HeldSubscription",
    "Licence",
    "Member",
    "Meter",
    "Reason",
    "ReportFacts",
    "TierGrant",
    "Viewer",
    "decide_access",
    "is_complimentary",
    "is_live",
    "is_visible",
]
