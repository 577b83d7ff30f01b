"""SPEC §4 as a table: every report kind against every kind of viewer, and every source."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.access import (
    Access,
    Anonymous,
    Entitlement,
    HeldSubscription,
    Licence,
    Member,
    Reason,
    ReportFacts,
    TierGrant,
    decide_access,
    is_visible,
)
from app.access.client_ip import client_ip
from app.access.entitlements import collect_entitlements

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=30)
EARLIER = NOW - timedelta(days=1)
COLLECTION, OTHER = 1, 2
TIER = TierGrant(tier_id=7, tier_slug="threat-pro", collection_ids=frozenset({COLLECTION}))
OTHER_TIER = TierGrant(tier_id=8, tier_slug="cyber", collection_ids=frozenset({OTHER}))
ALL_ACCESS = TierGrant(tier_id=9, tier_slug="all-access", collection_ids=None)


def report(
    level: str,
    *,
    complimentary: bool = False,
    free_after: datetime | None = None,
    status: str = "published",
    published_at: datetime | None = EARLIER,
) -> ReportFacts:
    return ReportFacts(level, complimentary, free_after, COLLECTION, status, published_at)


ANONYMOUS = Anonymous()
VERIFIED = Member(1, "reader@example.org", "reader", email_verified=True)
UNVERIFIED = Member(2, "new@example.org", "reader", email_verified=False)
EDITOR = Member(3, "ed@folio.test", "editor", email_verified=True)
ADMIN = Member(4, "admin@folio.test", "admin", email_verified=True)
ENTITLED = [Entitlement("stripe", TIER, LATER)]

REPORTS = {
    "public": report("public"),
    "complimentary": report("subscribers", complimentary=True),
    "registered": report("registered"),
    "subscribers": report("subscribers"),
}
# (report kind) -> expected (access, reason) for: anonymous, verified, entitled, editor, admin
TABLE = {
    "public": [("full", "public")] * 5,
    "complimentary": [("full", "complimentary")] * 5,
    "registered": [
        ("preview", "login_required"),
        ("full", "registered"),
        ("full", "entitled"),
        ("full", "staff"),
        ("full", "staff"),
    ],
    "subscribers": [
        ("preview", "login_required"),
        ("preview", "subscription_required"),
        ("full", "entitled"),
        ("full", "staff"),
        ("full", "staff"),
    ],
}
VIEWERS = [(ANONYMOUS, []), (VERIFIED, []), (VERIFIED, ENTITLED), (EDITOR, []), (ADMIN, [])]
VIEWER_NAMES = ["anonymous", "verified", "entitled", "editor", "admin"]


@pytest.mark.parametrize(
    ("kind", "column"),
    [(kind, column) for kind in TABLE for column in range(5)],
    ids=[f"{kind}-{VIEWER_NAMES[c]}" for kind in TABLE for c in range(5)],
)
def test_access_table(kind: str, column: int) -> None:
    viewer, entitlements = VIEWERS[column]
    decision = decide_access(REPORTS[kind], viewer, entitlements, NOW)
    assert (decision.access.value, decision.reason.value) == TABLE[kind][column]


def test_unverified_member_reads_as_anonymous() -> None:
    decision = decide_access(REPORTS["registered"], UNVERIFIED, [], NOW)
    assert decision.access is Access.PREVIEW and decision.reason is Reason.LOGIN_REQUIRED


def test_entitlement_to_another_collection_grants_nothing() -> None:
    held = [Entitlement("stripe", OTHER_TIER, LATER)]
    decision = decide_access(REPORTS["subscribers"], VERIFIED, held, NOW)
    assert decision.reason is Reason.SUBSCRIPTION_REQUIRED


def test_all_collections_tier_grants_every_collection() -> None:
    held = [Entitlement("comp", ALL_ACCESS, None)]
    assert decide_access(REPORTS["subscribers"], VERIFIED, held, NOW).full


def test_free_after_in_the_past_reads_as_complimentary() -> None:
    passed = report("subscribers", free_after=EARLIER)
    decision = decide_access(passed, ANONYMOUS, [], NOW)
    assert decision.full and decision.reason is Reason.FREE_AFTER


def test_free_after_in_the_future_changes_nothing_yet() -> None:
    coming = report("subscribers", free_after=LATER)
    assert not decide_access(coming, ANONYMOUS, [], NOW).full


@pytest.mark.parametrize(
    ("status", "grants"),
    [
        ("active", True),
        ("trialing", True),
        ("past_due", True),
        ("incomplete", False),
        ("incomplete_expired", False),
        ("unpaid", False),
        ("canceled", False),
        ("paused", False),
    ],
)
def test_stripe_statuses(status: str, grants: bool) -> None:
    held = collect_entitlements(
        VERIFIED, [HeldSubscription(1, "stripe", status, LATER, TIER)], [], NOW
    )
    assert decide_access(REPORTS["subscribers"], VERIFIED, held, NOW).full is grants


def test_stripe_subscription_whose_period_ended_grants_nothing() -> None:
    held = collect_entitlements(
        VERIFIED, [HeldSubscription(1, "stripe", "active", EARLIER, TIER)], [], NOW
    )
    assert held == []


@pytest.mark.parametrize(
    ("expires", "grants"),
    [(None, True), (LATER, True), (EARLIER, False)],
    ids=["no-expiry", "expires-later", "expired"],
)
def test_comps(expires: datetime | None, grants: bool) -> None:
    held = collect_entitlements(
        VERIFIED, [HeldSubscription(1, "comp", "active", expires, TIER)], [], NOW
    )
    assert decide_access(REPORTS["subscribers"], VERIFIED, held, NOW).full is grants


def test_revoked_comp_grants_nothing() -> None:
    held = collect_entitlements(
        VERIFIED, [HeldSubscription(1, "comp", "canceled", None, TIER)], [], NOW
    )
    assert held == []


UNIVERSITY = Licence(1, TIER, ("uni.example.edu",), ("192.0.2.0/24", "2001:db8:42::/48"), LATER)


@pytest.mark.parametrize(
    ("viewer", "grants"),
    [
        (Member(5, "prof@uni.example.edu", "reader", email_verified=True), True),
        (Member(5, "prof@physics.uni.example.edu", "reader", email_verified=True), True),
        (Member(5, "prof@uni.example.edu", "reader", email_verified=False), False),
        (Member(5, "prof@notuni.example.edu", "reader", email_verified=True), False),
        (Anonymous(client_ip="192.0.2.77"), True),
        (Anonymous(client_ip="198.51.100.1"), False),
        (Anonymous(client_ip="2001:db8:42::1:5"), True),
        (Anonymous(client_ip="2001:db8:43::1"), False),
        (Anonymous(client_ip="::ffff:192.0.2.9"), True),
        (
            Member(
                6, "someone@gmail.example", "reader", email_verified=True, client_ip="192.0.2.10"
            ),
            True,
        ),
    ],
    ids=[
        "domain",
        "subdomain",
        "domain-unverified",
        "lookalike-domain",
        "ipv4-in",
        "ipv4-out",
        "ipv6-in",
        "ipv6-out",
        "ipv4-mapped-ipv6",
        "member-on-campus",
    ],
)
def test_organization_licence(viewer: Anonymous | Member, grants: bool) -> None:
    held = collect_entitlements(viewer, [], [UNIVERSITY], NOW)
    assert decide_access(REPORTS["subscribers"], viewer, held, NOW).full is grants


def test_expired_organization_licence_grants_nothing() -> None:
    expired = Licence(1, TIER, ("uni.example.edu",), ("192.0.2.0/24",), EARLIER)
    assert collect_entitlements(Anonymous(client_ip="192.0.2.77"), [], [expired], NOW) == []


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "expected"),
    [
        ("192.0.2.77", None, [], "192.0.2.77"),
        ("10.0.0.5", "192.0.2.77", [], "10.0.0.5"),  # untrusted peer: header ignored
        ("10.0.0.5", "192.0.2.77", ["10.0.0.0/8"], "192.0.2.77"),
        ("10.0.0.5", "6.6.6.6, 192.0.2.77", ["10.0.0.0/8"], "192.0.2.77"),  # spoofed left part
        ("10.0.0.5", "192.0.2.77, 10.0.0.9", ["10.0.0.0/8"], "192.0.2.77"),
        ("::1", "2001:db8:42::7", ["::1/128"], "2001:db8:42::7"),
        ("::1", "2001:db8:42::7", [], "::1"),
        ("10.0.0.5", "not-an-ip", ["10.0.0.0/8"], "10.0.0.5"),
    ],
)
def test_client_ip_trusts_forwarded_for_only_from_trusted_proxies(
    peer: str, forwarded: str | None, trusted: list[str], expected: str
) -> None:
    assert client_ip(peer, forwarded, trusted) == expected


@pytest.mark.parametrize(
    ("status", "published_at", "staff_only"),
    [
        ("draft", None, True),
        ("draft", EARLIER, True),
        ("scheduled", LATER, True),
        ("scheduled", EARLIER, False),
        ("published", EARLIER, False),
    ],
)
def test_drafts_and_future_reports_are_visible_to_staff_only(
    status: str, published_at: datetime | None, staff_only: bool
) -> None:
    facts = report("public", status=status, published_at=published_at)
    assert is_visible(facts, EDITOR, NOW) and is_visible(facts, ADMIN, NOW)
    assert is_visible(facts, ANONYMOUS, NOW) is not staff_only
    assert is_visible(facts, VERIFIED, NOW) is not staff_only
