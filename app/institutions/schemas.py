"""Request and response shapes of organizations and subscription-request decisions."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.bodies import StrictBody
from app.instants import Instant

# A label of letters, digits and inner hyphens; a domain has at least two labels.
_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_DOMAIN = re.compile(rf"^{_LABEL}(\.{_LABEL})+$")
MAX_DOMAINS = 200
MAX_RANGES = 500


def normalise_domains(domains: list[str]) -> list[str]:
    cleaned: list[str] = []
    for raw in domains:
        domain = raw.strip().lower().removeprefix("@").rstrip(".")
        if len(domain) > 253 or not _DOMAIN.match(domain):
            raise ValueError(f"not an email domain: {raw!r}")
        if domain not in cleaned:
            cleaned.append(domain)
    return cleaned


def normalise_ranges(ranges: list[str]) -> list[str]:
    """Canonical CIDRs (a bare address is one host); a range covering everything is refused."""
    cleaned: list[str] = []
    for raw in ranges:
        try:
            if "%" in raw:  # an IPv6 zone names a local interface, never a client network
                raise ValueError
            network = ipaddress.ip_network(raw.strip(), strict=False)
        except ValueError:
            raise ValueError(f"not an IPv4 or IPv6 range in CIDR notation: {raw!r}") from None
        if network.prefixlen == 0:
            raise ValueError(f"{raw!r} covers every address")
        if str(network) not in cleaned:
            cleaned.append(str(network))
    return cleaned


TierRef = Annotated[str | int, Field(description="tier slug or id")]
# Normalised and checked as they are read, wherever a body takes them (a bad one is a 422).
Domains = Annotated[
    list[Annotated[str, Field(max_length=300)]],
    Field(max_length=MAX_DOMAINS),
    AfterValidator(normalise_domains),
]
Ranges = Annotated[
    list[Annotated[str, Field(max_length=100)]],
    Field(max_length=MAX_RANGES),
    AfterValidator(normalise_ranges),
]


class OrganizationIn(StrictBody):
    name: str = Field(min_length=1, max_length=200)
    tier: TierRef
    email_domains: Domains = Field(default_factory=list)
    ip_ranges: Ranges = Field(default_factory=list)
    expires_at: Instant | None = None
    notes: str = Field(default="", max_length=10_000)


class OrganizationUpdate(StrictBody):
    """Every field optional; `expires_at: null` removes the expiry."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    tier: TierRef | None = None
    email_domains: Domains | None = None
    ip_ranges: Ranges | None = None
    expires_at: Instant | None = None
    notes: str | None = Field(default=None, max_length=10_000)


class OrganizationOut(BaseModel):
    id: int
    name: str
    tier: str
    email_domains: list[str]
    ip_ranges: list[str]
    expires_at: Instant | None
    active: bool  # not expired
    notes: str
    created_at: Instant
    updated_at: Instant


class OrganizationPage(BaseModel):
    items: list[OrganizationOut]
    next_cursor: str | None


RequestStatus = Literal["pending", "approved", "declined"]


class ApproveIn(StrictBody):
    """`as: comp` (default) grants the requester a comp; `organization` creates a licence
    named after the request. `tier` defaults to the tier the requester asked for."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, populate_by_name=True)

    tier: TierRef | None = None
    expires_at: Instant | None = None
    grant_as: Literal["comp", "organization"] = Field(default="comp", alias="as")
    email_domains: Domains = Field(default_factory=list)
    ip_ranges: Ranges = Field(default_factory=list)
    organization_name: str | None = Field(default=None, min_length=1, max_length=200)
    note: str = Field(default="", max_length=2000)


class DeclineIn(StrictBody):
    reason: str = Field(min_length=1, max_length=5000)


class RequesterOut(BaseModel):
    id: int
    email: str
    name: str


class SubscriptionRequestAdminOut(BaseModel):
    id: int
    requester: RequesterOut | None
    organization: str
    message: str
    tier: str | None
    status: str
    decided_by: int | None
    decided_at: Instant | None
    decision_reason: str
    organization_id: int | None  # the licence an approval `as: organization` created
    created_at: Instant


class SubscriptionRequestPage(BaseModel):
    items: list[SubscriptionRequestAdminOut]
    next_cursor: str | None
