"""The client's address: X-Forwarded-For is believed only when the peer is a trusted proxy."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from app.access.entitlements import ip_in_ranges


def client_ip(peer: str | None, forwarded_for: str | None, trusted: Sequence[str]) -> str | None:
    if peer is None or not trusted or not ip_in_ranges(peer, trusted):
        return _valid(peer)
    if not forwarded_for:
        return _valid(peer)
    # Walk from the nearest hop back: the first address not ours is the client.
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if _valid(hop) is None:
            return _valid(peer)
        if not ip_in_ranges(hop, trusted):
            return hop
    return _valid(hops[0]) if hops else _valid(peer)


def _valid(ip: str | None) -> str | None:
    if ip is None:
        return None
    try:
        return str(ipaddress.ip_address(ip))
    except ValueError:
        return None
