"""What a viewer holds: entitlements from Stripe, comps and institutional licences. Pure."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from app.access.viewer import Viewer

GRANTING_STRIPE_STATUSES = frozenset({"active", "trialing", "past_due"})

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class TierGrant:
    tier_id: int
    tier_slug: str
    collection_ids: frozenset[int] | None  # None: every collection

    def covers(self, collection_id: int) -> bool:
        return self.collection_ids is None or collection_id in self.collection_ids


@dataclass(frozen=True, slots=True)
class Entitlement:
    source: str  # stripe | comp | organization
    tier: TierGrant
    until: datetime | None
    reference: str = ""  # subscription or organization id, for the audit trail and /me
    organization: str | None = None  # the licence holder's name, shown on /me

    def live(self, now: datetime) -> bool:
        return self.until is None or self.until > now

    def grants(self, collection_id: int, now: datetime) -> bool:
        return self.live(now) and self.tier.covers(collection_id)


@dataclass(frozen=True, slots=True)
class HeldSubscription:
    id: int
    source: str  # stripe | comp
    status: str
    current_period_end: datetime | None
    tier: TierGrant


@dataclass(frozen=True, slots=True)
class Licence:
    id: int
    tier: TierGrant
    email_domains: tuple[str, ...]
    ip_ranges: tuple[str, ...]
    expires_at: datetime | None
    name: str = ""


def subscription_entitlement(sub: HeldSubscription, now: datetime) -> Entitlement | None:
    if sub.source == "stripe":
        # A period end in the past grants nothing even if the webhook that says so was missed.
        if sub.status not in GRANTING_STRIPE_STATUSES:
            return None
        if sub.current_period_end is None or sub.current_period_end <= now:
            return None
    elif sub.source == "comp":
        if sub.status != "active":
            return None
        if sub.current_period_end is not None and sub.current_period_end <= now:
            return None
    else:
        return None
    return Entitlement(sub.source, sub.tier, sub.current_period_end, f"subscription:{sub.id}")


def licence_entitlement(licence: Licence, viewer: Viewer, now: datetime) -> Entitlement | None:
    if licence.expires_at is not None and licence.expires_at <= now:
        return None
    by_domain = (
        viewer.is_member
        and viewer.email_verified
        and domain_matches(viewer.email_domain, licence.email_domains)  # type: ignore[union-attr]
    )
    by_ip = viewer.client_ip is not None and ip_in_ranges(viewer.client_ip, licence.ip_ranges)
    if not (by_domain or by_ip):
        return None
    return Entitlement(
        "organization",
        licence.tier,
        licence.expires_at,
        f"organization:{licence.id}",
        licence.name,
    )


def collect_entitlements(
    viewer: Viewer,
    subscriptions: Iterable[HeldSubscription],
    licences: Iterable[Licence],
    now: datetime,
) -> list[Entitlement]:
    held = [e for s in subscriptions if (e := subscription_entitlement(s, now))]
    held += [e for lic in licences if (e := licence_entitlement(lic, viewer, now))]
    return held


def domain_matches(domain: str, licensed: Sequence[str]) -> bool:
    # An exact domain, or a subdomain of it (staff@news.example.org under example.org).
    return any(domain == d or domain.endswith("." + d) for d in licensed)


@lru_cache(maxsize=4096)
def parse_network(cidr: str) -> IPNetwork:
    return ipaddress.ip_network(cidr.strip(), strict=False)


@lru_cache(maxsize=4096)
def client_address(ip: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a range is matched against: an IPv4-mapped IPv6 address is its IPv4."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


@lru_cache(maxsize=4096)
def enclosing_networks(ip: str) -> tuple[str, ...]:
    """Every network that holds this address, canonical CIDR text, /0 to the host: a range
    contains the address exactly when it is one of these (what ip_in_ranges decides), so
    a database finds the licences of an address by looking these up in an index."""
    address = client_address(ip)
    if address is None:
        return ()
    bits, number, kind = address.max_prefixlen, int(address), type(address)
    return tuple(
        f"{kind((number >> (bits - prefix)) << (bits - prefix))}/{prefix}"
        for prefix in range(bits + 1)
    )


def domain_and_parents(domain: str) -> tuple[str, ...]:
    """news.example.org, example.org, org: a licensed domain matches (domain_matches)
    exactly when it is one of these."""
    labels = domain.lower().split(".")
    return tuple(".".join(labels[i:]) for i in range(len(labels)) if labels[i])


def ip_in_ranges(ip: str, ranges: Iterable[str]) -> bool:
    address = client_address(ip)
    if address is None:
        return False
    return any(
        address.version == (net := parse_network(r)).version and address in net for r in ranges
    )
