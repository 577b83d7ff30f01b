"""Request and response shapes of the admin member endpoints."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.instants import Instant

MemberStatus = Literal["free", "paid", "comp", "org", "disabled"]
Role = Literal["reader", "editor", "admin"]


class MemberOut(BaseModel):
    id: int
    email: str
    name: str
    role: str
    # One per member, first that holds: disabled, paid (Stripe), comp, org, free.
    status: MemberStatus
    disabled: bool
    email_verified: bool
    created_at: Instant


class MemberPage(BaseModel):
    items: list[MemberOut]
    next_cursor: str | None


class MemberSubscriptionOut(BaseModel):
    id: int
    tier: str | None
    source: str  # stripe | comp
    status: str
    current_period_end: Instant | None
    cancel_at_period_end: bool
    grants_access: bool  # by the same rules as the access decision, now
    stripe_subscription_id: str | None
    note: str
    created_at: Instant


class CoveringOrganization(BaseModel):
    id: int
    name: str
    tier: str
    expires_at: Instant | None


class MemberRequestOut(BaseModel):
    id: int
    organization: str
    message: str
    tier: str | None
    status: str
    decided_at: Instant | None
    decision_reason: str
    created_at: Instant


class AuditEntryOut(BaseModel):
    id: int
    actor: str
    action: str
    target: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    at: Instant


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    next_cursor: str | None


class MemberDetail(MemberOut):
    erased_at: Instant | None
    stripe_customer_id: str | None
    subscriptions: list[MemberSubscriptionOut]
    # Licences covering the member by verified email domain (network licences follow the
    # reader's IP, not the account, so they are not listed here).
    organizations: list[CoveringOrganization]
    subscription_requests: list[MemberRequestOut]
    recent_audit: list[AuditEntryOut]  # newest first, about this member


class MemberUpdate(BaseModel):
    """What staff may change; anything else (email, verification) is refused with a 422."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(default=None, max_length=200)
    role: Role | None = None
    disabled: bool | None = None


class MemberCounts(BaseModel):
    """Each member counted once, by the same status as the member list."""

    total: int
    free: int
    paid: int
    comp: int
    org: int
    disabled: int


class StatsOut(BaseModel):
    members: MemberCounts
    mrr: dict[str, int]  # minor units per currency, a yearly price counting a twelfth
    paid_subscriptions: int  # the Stripe subscriptions MRR sums (of members counted paid)
    trialing_subscriptions: int  # among them, in a trial
    new_last_30_days: int
    churned_last_30_days: int  # stopped paying in the window and not paying now
