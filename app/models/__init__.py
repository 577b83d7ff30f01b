"""Every table of Folio, registered on one metadata (what Alembic compares against)."""

from sqlmodel import SQLModel

from app.models.audit import AuditEntry
from app.models.base import UTCDateTime, utcnow
from app.models.billing import Price, StripeEvent, Subscription, Tier, TierCollection
from app.models.content import Collection, Report, ReportTag
from app.models.institutions import (
    Organization,
    OrganizationDomain,
    OrganizationRange,
    SubscriptionRequest,
)
from app.models.mail import OutboxEmail
from app.models.meter import MeterRead
from app.models.usage import (
    CounterCredential,
    ReadingEvent,
    UsageDomainTurnaways,
    UsageMonthly,
    UsageProcessing,
)
from app.models.users import OneTimeToken, RefreshToken, User

metadata = SQLModel.metadata

# Search structures live outside the models (the FTS5 table on SQLite; the generated
# tsvector column and its index on PostgreSQL; the PostgreSQL member-search indexes of
# migration 0011): not compared.
UNMODELLED_PREFIXES = ("reports_fts", "ix_reports_search", "search_vector", "ix_users_search")


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic's filter: what the models do not describe is left out of the comparison."""
    return not (name and name.startswith(UNMODELLED_PREFIXES))


__all__ = [
    "AuditEntry",
    "Collection",
    "CounterCredential",
    "MeterRead",
    "OneTimeToken",
    "Organization",
    "OrganizationDomain",
    "OrganizationRange",
    "OutboxEmail",
    "Price",
    "ReadingEvent",
    "RefreshToken",
    "Report",
    "ReportTag",
    "StripeEvent",
    "Subscription",
    "SubscriptionRequest",
    "Tier",
    "TierCollection",
    "UTCDateTime",
    "UsageDomainTurnaways",
    "UsageMonthly",
    "UsageProcessing",
    "User",
    "include_name",
    "metadata",
    "utcnow",
]
