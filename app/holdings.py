"""What a viewer holds (subscriptions, comps, licences), read fresh on every request (R-A1).

Licences are found through indexes, whatever the number of organizations: the ranges that
hold the client's address (`organization_ranges`) and the member's verified domain or its
parents (`organization_domains`). Only those organizations are loaded, each carrying just
the range or domain that matched; the pure rule (app.access.entitlements) still decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from sqlalchemy import Select, String, bindparam, cast, literal, or_, select, union_all
from sqlalchemy.dialects.postgresql import INET
from sqlmodel import Session

from app.access.entitlements import (
    GRANTING_STRIPE_STATUSES,
    Entitlement,
    HeldSubscription,
    Licence,
    TierGrant,
    client_address,
    collect_entitlements,
    domain_and_parents,
    enclosing_networks,
)
from app.access.viewer import Viewer
from app.models import (
    Organization,
    OrganizationDomain,
    OrganizationRange,
    Subscription,
    Tier,
    TierCollection,
)


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
    licences = matching_licences(session, viewer, now)
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
        Licence(o.id, grants[o.tier_id], o.domains, o.networks, o.expires_at, o.name)
        for o in licences
        if o.tier_id in grants
    ]
    return collect_entitlements(viewer, held, org_licences, now)


@dataclass(slots=True)
class _Match:
    id: int
    name: str
    tier_id: int
    expires_at: datetime | None
    networks: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    prefix: int = -1  # the longest matching range's prefix length; -1: matched by domain
    labels: int = 0  # the longest matching domain's number of labels

    def rank(self) -> tuple[int, int, int]:
        return (-self.prefix, -self.labels, self.id)


@lru_cache(maxsize=8)
def _licences_query(postgresql: bool, by_ip: bool, by_domain: bool) -> Select:
    """Built once per shape (the statement's construction cost more than its execution);
    bound per read: `address` or `networks`, `domains`, `now`."""
    parts = []
    if by_ip:
        ranges = OrganizationRange.__table__.c  # type: ignore[attr-defined]
        if postgresql:
            holds = ranges.network.op(">>=")(cast(bindparam("address", type_=String), INET))
        else:
            holds = ranges.network.in_(bindparam("networks", expanding=True))
        parts.append(
            select(
                ranges.organization_id,
                literal("ip").label("kind"),
                cast(ranges.network, String).label("value"),
            ).where(holds)
        )
    if by_domain:
        domains = OrganizationDomain.__table__.c  # type: ignore[attr-defined]
        parts.append(
            select(
                domains.organization_id,
                literal("domain").label("kind"),
                domains.domain.label("value"),
            ).where(domains.domain.in_(bindparam("domains", expanding=True)))
        )
    found = (parts[0] if len(parts) == 1 else union_all(*parts)).subquery()
    org_id, kind, value = found.c
    now = bindparam("now")
    return (
        select(
            Organization.id,
            Organization.name,
            Organization.tier_id,
            Organization.expires_at,
            kind,
            value,
        )
        .join(found, org_id == Organization.id)
        .where(or_(Organization.expires_at.is_(None), Organization.expires_at > now))
    )


def matching_licences(session: Session, viewer: Viewer, now: datetime) -> list[_Match]:
    """Live organizations whose ranges hold the client's address or whose domains cover the
    member's verified email, most specific first: the longest matching range, then the
    longest matching domain, then the oldest organization. That order is the attribution
    when licences overlap (decide_access takes the first entitlement that grants)."""
    address = client_address(viewer.client_ip) if viewer.client_ip is not None else None
    by_domain = viewer.is_member and viewer.email_verified
    if address is None and not by_domain:
        return []
    postgresql = session.get_bind().dialect.name == "postgresql"
    params: dict[str, object] = {"now": now}
    if address is not None:
        if postgresql:
            params["address"] = str(address)
        else:
            params["networks"] = enclosing_networks(str(address))
    if by_domain:
        params["domains"] = domain_and_parents(viewer.email_domain)  # type: ignore[union-attr]
    query = _licences_query(postgresql, address is not None, by_domain)
    rows = session.execute(query, params).all()
    matches: dict[int, _Match] = {}
    for oid, name, tier_id, expires_at, how, what in rows:
        match = matches.setdefault(oid, _Match(oid, name, tier_id, expires_at))
        if how == "ip":
            match.networks += (what,)
            match.prefix = max(match.prefix, int(what.rpartition("/")[2]))
        else:
            match.domains += (what,)
            match.labels = max(match.labels, what.count(".") + 1)
    return sorted(matches.values(), key=_Match.rank)
