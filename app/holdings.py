"""What a viewer holds (subscriptions, comps, licences), read fresh on every request (R-A1).

Licences are found through indexes, whatever the number of organizations: the ranges that
hold the client's address (`organization_ranges`) and the member's verified domain or its
parents (`organization_domains`). Only those organizations are loaded, each carrying just
the range or domain that matched; the pure rule (app.access.entitlements) still decides.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from sqlalchemy import (
    Select,
    String,
    any_,
    bindparam,
    cast,
    func,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY, INET
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


def load_entitlements(session: Session, viewer: Viewer, now: datetime) -> list[Entitlement]:
    """Everything the viewer holds, in ONE indexed statement (subscriptions and comps by
    user, licences by address and verified domain, each with its tier's grant), read
    fresh on every call (R-A1); the pure rules (app.access.entitlements) then judge."""
    shape = _shape_of(session, viewer)
    if shape is None:
        return []
    postgresql, member, by_ip, by_domain = shape
    rows = (
        session.connection()
        .execute(_holdings_query(postgresql, member, by_ip, by_domain), _params(viewer, now, shape))
        .all()
    )
    subscriptions: dict[int, tuple[str, str, datetime | None, int]] = {}
    matches: dict[int, _Match] = {}
    tiers: dict[int, tuple[str, bool, set[int]]] = {}
    for kind, row_id, source, status, until, tier_id, name, value, slug, every, collection in rows:
        covered = tiers.setdefault(tier_id, (slug, every, set()))[2]
        if collection is not None:
            covered.add(collection)
        if kind == "sub":
            subscriptions[row_id] = (source, status, until, tier_id)
        else:
            _note_match(
                matches.setdefault(row_id, _Match(row_id, name, tier_id, until)), kind, value
            )
    grants = {
        tier_id: TierGrant(tier_id, slug, None if every else frozenset(covered))
        for tier_id, (slug, every, covered) in tiers.items()
    }
    held = [
        HeldSubscription(sub_id, source, status, until, grants[tier_id])
        for sub_id, (source, status, until, tier_id) in sorted(subscriptions.items())
    ]
    org_licences = [
        Licence(o.id, grants[o.tier_id], o.domains, o.networks, o.expires_at, o.name)
        for o in sorted(matches.values(), key=_Match.rank)
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


def _json_values(name: str) -> Select:
    """SQLite: the values of a JSON array bound as ONE parameter (an expanding IN of 33
    or 129 networks cost more to bind each time than the statement took to run)."""
    return select(func.json_each(bindparam(name, type_=String)).table_valued("value").c.value)


@lru_cache(maxsize=4096)
def _json_list(values: tuple[str, ...]) -> str:
    return json.dumps(list(values))


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
            holds = ranges.network.in_(_json_values("networks"))
        parts.append(
            select(
                ranges.organization_id,
                literal_column("'ip'", String).label("kind"),
                cast(ranges.network, String).label("value"),
            ).where(holds)
        )
    if by_domain:
        domains = OrganizationDomain.__table__.c  # type: ignore[attr-defined]
        parts.append(
            select(
                domains.organization_id,
                literal_column("'domain'", String).label("kind"),
                domains.domain.label("value"),
            ).where(
                domains.domain == any_(bindparam("domains", type_=ARRAY(String)))
                if postgresql
                else domains.domain.in_(_json_values("domains"))
            )
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


# (postgresql, member, by_ip, by_domain): which parts a viewer's statement has.
Shape = tuple[bool, bool, bool, bool]


def _shape_of(session: Session, viewer: Viewer) -> Shape | None:
    """None when the viewer can hold nothing (anonymous, no usable address)."""
    by_ip = viewer.client_ip is not None and client_address(viewer.client_ip) is not None
    by_domain = viewer.is_member and viewer.email_verified
    if not (viewer.is_member or by_ip):
        return None
    postgresql = session.get_bind().dialect.name == "postgresql"
    return postgresql, viewer.is_member, by_ip, by_domain


def _params(viewer: Viewer, now: datetime, shape: Shape) -> dict[str, object]:
    postgresql, member, by_ip, by_domain = shape
    params: dict[str, object] = {"now": now}
    if member:
        params["user_id"] = viewer.id  # type: ignore[union-attr]
    if by_ip:
        address = str(client_address(viewer.client_ip))  # type: ignore[arg-type]
        if postgresql:
            params["address"] = address
        else:
            params["networks"] = _json_list(enclosing_networks(address))
    if by_domain:
        domains = domain_and_parents(viewer.email_domain)  # type: ignore[union-attr]
        params["domains"] = list(domains) if postgresql else _json_list(domains)
    return params


# Constants in the SQL text, not parameters bound on every read.
_GRANTING = [literal_column(f"'{status}'", String) for status in sorted(GRANTING_STRIPE_STATUSES)]


@lru_cache(maxsize=16)
def _holdings_query(postgresql: bool, member: bool, by_ip: bool, by_domain: bool) -> Select:
    """The member's granting subscriptions and comps, and the live licences matching the
    address or domain, each row with its tier's slug, scope and (one row each) covered
    collections. Built once per shape; bound per read (see _params)."""
    text = String()
    parts = []
    if member:
        subs = Subscription.__table__.c  # type: ignore[attr-defined]
        parts.append(
            select(
                literal_column("'sub'", text).label("kind"),
                subs.id,
                subs.source,
                subs.status,
                subs.current_period_end.label("until"),
                subs.tier_id,
                cast(null(), text).label("name"),
                cast(null(), text).label("value"),
            ).where(
                subs.user_id == bindparam("user_id"),
                subs.tier_id.is_not(None),
                # Comps are "active" too; the pure rules then judge each row.
                subs.status.in_(
                    [
                        literal_column(f"'{status}'", text)
                        for status in sorted(GRANTING_STRIPE_STATUSES)
                    ]
                ),
            )
        )
    if by_ip or by_domain:
        licences = _licences_query(postgresql, by_ip, by_domain).subquery()
        parts.append(
            select(
                licences.c.kind,
                licences.c.id,
                cast(null(), text).label("source"),
                cast(null(), text).label("status"),
                licences.c.expires_at.label("until"),
                licences.c.tier_id,
                licences.c.name,
                licences.c.value,
            )
        )
    held = (parts[0] if len(parts) == 1 else union_all(*parts)).subquery()
    tiers = Tier.__table__.c  # type: ignore[attr-defined]
    covered = TierCollection.__table__.c  # type: ignore[attr-defined]
    return (
        select(*held.c, tiers.slug, tiers.all_collections, covered.collection_id)
        .join(Tier.__table__, tiers.id == held.c.tier_id)  # type: ignore[attr-defined]
        .outerjoin(TierCollection.__table__, covered.tier_id == held.c.tier_id)  # type: ignore[attr-defined]
    )


def _note_match(match: _Match, how: str, what: str) -> None:
    """A range or domain that matched (rows repeat per covered collection: counted once)."""
    if how == "ip":
        if what not in match.networks:
            match.networks += (what,)
            match.prefix = max(match.prefix, int(what.rpartition("/")[2]))
    elif what not in match.domains:
        match.domains += (what,)
        match.labels = max(match.labels, what.count(".") + 1)


def matching_licences(session: Session, viewer: Viewer, now: datetime) -> list[_Match]:
    """Live organizations whose ranges hold the client's address or whose domains cover the
    member's verified email, most specific first: the longest matching range, then the
    longest matching domain, then the oldest organization. That order is the attribution
    when licences overlap (decide_access takes the first entitlement that grants)."""
    shape = _shape_of(session, viewer)
    if shape is None or not (shape[2] or shape[3]):
        return []
    postgresql, _member, by_ip, by_domain = shape
    rows = (
        session.connection()
        .execute(_licences_query(postgresql, by_ip, by_domain), _params(viewer, now, shape))
        .all()
    )
    matches: dict[int, _Match] = {}
    for oid, name, tier_id, expires_at, how, what in rows:
        _note_match(matches.setdefault(oid, _Match(oid, name, tier_id, expires_at)), how, what)
    return sorted(matches.values(), key=_Match.rank)
