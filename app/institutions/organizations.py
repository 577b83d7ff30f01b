"""Institutional licences: created, changed and removed by admins, each change audited."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from app.access import Member
from app.audit import actor_of, record_audit
from app.billing.catalog import tier_by_ref
from app.errors import NotFound, Unprocessable
from app.institutions.schemas import (
    OrganizationIn,
    OrganizationOut,
    OrganizationPage,
    OrganizationUpdate,
)
from app.models import Organization, Tier, utcnow
from app.pagination import decode_id_cursor, encode_id_cursor


def licensed_tier(session: Session, ref: str | int) -> Tier:
    """A tier named in a request body: an unknown one is a 422 naming it, not a 404."""
    try:
        return tier_by_ref(session, ref)
    except NotFound as exc:
        raise Unprocessable(exc.message) from None


def organization_out(org: Organization, tier_slug: str, now: datetime) -> OrganizationOut:
    return OrganizationOut(
        id=org.id,  # type: ignore[arg-type]
        name=org.name,
        tier=tier_slug,
        email_domains=org.email_domains,
        ip_ranges=org.ip_ranges,
        expires_at=org.expires_at,
        active=org.expires_at is None or org.expires_at > now,
        notes=org.notes,
        created_at=org.created_at,
        updated_at=org.updated_at,
    )


def _snapshot(org: Organization, tier_slug: str) -> dict[str, Any]:
    return {
        "name": org.name,
        "tier": tier_slug,
        "email_domains": list(org.email_domains),
        "ip_ranges": list(org.ip_ranges),
        "expires_at": org.expires_at,
        "notes": org.notes,
    }


def _audit(
    session: Session, actor: Member, action: str, org_id: int, before: Any, after: Any
) -> None:
    record_audit(
        session,
        actor=actor_of(actor),
        action=action,
        target=f"organization:{org_id}",
        before=before,
        after=after,
        actor_user_id=actor.id,
    )


def organization_by_id(session: Session, org_id: int) -> Organization:
    org = session.get(Organization, org_id)
    if org is None:
        raise NotFound("Organization not found")
    return org


def tier_slug_of(session: Session, org: Organization) -> str:
    return session.execute(select(Tier.slug).where(Tier.id == org.tier_id)).scalar_one()


def create_organization(
    session: Session, data: OrganizationIn, actor: Member, now: datetime | None = None
) -> OrganizationOut:
    now = now or utcnow()
    if data.expires_at is not None and data.expires_at <= now:
        raise Unprocessable("expires_at must be in the future")
    tier = licensed_tier(session, data.tier)
    org = Organization(
        name=data.name,
        tier_id=tier.id,  # type: ignore[arg-type]
        email_domains=data.email_domains,
        ip_ranges=data.ip_ranges,
        expires_at=data.expires_at,
        notes=data.notes,
        created_at=now,
        updated_at=now,
    )
    session.add(org)
    session.flush()
    _audit(session, actor, "organization.create", org.id, None, _snapshot(org, tier.slug))  # type: ignore[arg-type]
    return organization_out(org, tier.slug, now)


def update_organization(
    session: Session,
    org_id: int,
    data: OrganizationUpdate,
    actor: Member,
    now: datetime | None = None,
) -> OrganizationOut:
    """Only the fields sent change. An expiry in the past ends the licence at once."""
    now = now or utcnow()
    org = organization_by_id(session, org_id)
    before = _snapshot(org, tier_slug_of(session, org))
    sent = data.model_fields_set
    for field in ("name", "email_domains", "ip_ranges", "notes"):
        value = getattr(data, field)
        if field in sent and value is not None:
            setattr(org, field, value)
    if "tier" in sent and data.tier is not None:
        org.tier_id = licensed_tier(session, data.tier).id  # type: ignore[assignment]
    if "expires_at" in sent:
        org.expires_at = data.expires_at
    org.updated_at = now
    session.add(org)
    session.flush()
    after = _snapshot(org, tier_slug_of(session, org))
    changed = {k: v for k, v in after.items() if before[k] != v}
    if changed:
        _audit(
            session,
            actor,
            "organization.update",
            org.id,  # type: ignore[arg-type]
            {k: before[k] for k in changed},
            changed,
        )
    return organization_out(org, after["tier"], now)


def delete_organization(session: Session, org_id: int, actor: Member) -> None:
    org = organization_by_id(session, org_id)
    before = _snapshot(org, tier_slug_of(session, org))
    session.delete(org)
    session.flush()
    _audit(session, actor, "organization.delete", org_id, before, None)


def read_organization(session: Session, org_id: int, now: datetime) -> OrganizationOut:
    org = organization_by_id(session, org_id)
    return organization_out(org, tier_slug_of(session, org), now)


def list_organizations(
    session: Session, limit: int, cursor: str | None, now: datetime
) -> OrganizationPage:
    """Newest first, keyset on id."""
    query = select(Organization, Tier.slug).join(Tier, Tier.id == Organization.tier_id)
    if cursor:
        query = query.where(Organization.id < decode_id_cursor(cursor))
    rows = session.execute(query.order_by(Organization.id.desc()).limit(limit + 1)).all()
    page = rows[:limit]
    next_cursor = encode_id_cursor(page[-1][0].id) if len(rows) > limit else None
    return OrganizationPage(
        items=[organization_out(org, slug, now) for org, slug in page], next_cursor=next_cursor
    )
