"""What a viewer holds (subscriptions, comps, licences), read fresh on every request (R-A1)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlmodel import Session

from app.access.entitlements import (
    GRANTING_STRIPE_STATUSES,
    Entitlement,
    HeldSubscription,
    Licence,
    TierGrant,
    collect_entitlements,
)
from app.access.viewer import Viewer
from app.models import Organization, Subscription, Tier, TierCollection


def tier_grants(session: Session, tier_ids: set[int]) -> dict[int, TierGrant]:
    if not tier_ids:
        return {}
    tiers = session.execute(
        select(Tier.id, Tier.slug, Tier.all_collections).where(Tier.id.in_(tier_ids))
    ).all()
    covered: dict[int, set[int]] = {tier_id: set() for tier_id in tier_ids}
    for tier_id, collection_id in session.execute(
        select(TierCollection.tier_id, TierCollection.collection_id).where(
            TierCollection.tier_id.in_(tier_ids)
        )
    ):
        covered[tier_id].add(collection_id)
    return {
        tier_id: TierGrant(tier_id, slug, None if every else frozenset(covered[tier_id]))
        for tier_id, slug, every in tiers
    }


def load_entitlements(session: Session, viewer: Viewer, now: datetime) -> list[Entitlement]:
    subscriptions = []
    if viewer.is_member:
        subscriptions = (
            session.execute(
                select(Subscription).where(
                    Subscription.user_id == viewer.id,  # type: ignore[union-attr]
                    Subscription.tier_id.is_not(None),
                    # Comps are "active" too; the pure rules then judge each row.
                    Subscription.status.in_(GRANTING_STRIPE_STATUSES),
                )
            )
            .scalars()
            .all()
        )
    licences = []
    if viewer.client_ip is not None or (viewer.is_member and viewer.email_verified):
        licences = (
            session.execute(
                select(Organization).where(
                    or_(Organization.expires_at.is_(None), Organization.expires_at > now)
                )
            )
            .scalars()
            .all()
        )
    if not subscriptions and not licences:
        return []
    grants = tier_grants(
        session, {s.tier_id for s in subscriptions} | {o.tier_id for o in licences}
    )
    held = [
        HeldSubscription(s.id, s.source, s.status, s.current_period_end, grants[s.tier_id])
        for s in subscriptions
        if s.tier_id in grants
    ]
    org_licences = [
        Licence(
            o.id,
            grants[o.tier_id],
            tuple(o.email_domains),
            tuple(o.ip_ranges),
            o.expires_at,
            o.name,
        )
        for o in licences
        if o.tier_id in grants
    ]
    return collect_entitlements(viewer, held, org_licences, now)
