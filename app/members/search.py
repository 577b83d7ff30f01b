"""The member list: search by email or name, filter by status and tier, keyset by id.

A member's status is the first of disabled, paid (a Stripe subscription that grants now),
comp, org (a live licence covering their verified email domain), free; the filter and the
`status` shown on each row use the same SQL, so they always agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, func, not_, or_, select
from sqlmodel import Session

from app.access.entitlements import (
    GRANTING_STRIPE_STATUSES,
    HeldSubscription,
    TierGrant,
    domain_matches,
    subscription_entitlement,
)
from app.institutions.organizations import licensed_tier
from app.members.schemas import MemberOut, MemberPage
from app.models import Organization, Subscription, User
from app.pagination import decode_id_cursor, encode_id_cursor

LIKE_ESCAPE = "\\"
ANY_TIER = TierGrant(0, "", None)  # status needs whether a row grants, not what


def like_literal(text: str) -> str:
    """`text` matched literally inside a LIKE pattern."""
    for char in (LIKE_ESCAPE, "%", "_"):
        text = text.replace(char, LIKE_ESCAPE + char)
    return text


def stripe_granting(held: Any, now: datetime) -> list[ColumnElement[bool]]:
    """A Stripe subscription (row or alias `held`) that grants access now: the member
    list, its status filter, the stats and MRR all count by this one rule. A row without
    a tier (an unknown price) grants nothing, as in the access decision."""
    return [
        held.source == "stripe",
        held.tier_id.is_not(None),
        held.status.in_(GRANTING_STRIPE_STATUSES),
        held.current_period_end > now,
    ]


def paid_now(now: datetime, tier_id: int | None = None) -> ColumnElement[bool]:
    clauses = [Subscription.user_id == User.id, *stripe_granting(Subscription, now)]
    if tier_id is not None:
        clauses.append(Subscription.tier_id == tier_id)
    return exists().where(*clauses)


def comp_now(now: datetime, tier_id: int | None = None) -> ColumnElement[bool]:
    clauses = [
        Subscription.user_id == User.id,
        Subscription.source == "comp",
        Subscription.tier_id.is_not(None),
        Subscription.status == "active",
        or_(Subscription.current_period_end.is_(None), Subscription.current_period_end > now),
    ]
    if tier_id is not None:
        clauses.append(Subscription.tier_id == tier_id)
    return exists().where(*clauses)


def licensed_domains(session: Session, now: datetime, tier_id: int | None = None) -> set[str]:
    """Email domains of every live licence (licences are few; members are many)."""
    query = select(Organization.email_domains).where(
        or_(Organization.expires_at.is_(None), Organization.expires_at > now)
    )
    if tier_id is not None:
        query = query.where(Organization.tier_id == tier_id)
    return {d.lower() for domains in session.execute(query).scalars() for d in domains}


def covered_by_domain(domains: set[str], dialect: str) -> ColumnElement[bool]:
    """The access rule in SQL: a verified address at a domain or one of its subdomains."""
    if not domains:
        return false()
    if dialect == "postgresql":
        # The address's last m labels, looked up among the licensed domains of m labels
        # (a hashed = ANY): a few cheap steps per row, where a LIKE pair per domain or
        # one big alternation (slow to compile) cost hundreds of milliseconds per page.
        domain = func.substring(User.email, "@([^@]*)$")
        by_labels: dict[int, list[str]] = {}
        for d in sorted(domains):
            by_labels.setdefault(d.count(".") + 1, []).append(d)
        # coalesce: an address with fewer labels gives NULL, and NOT NULL would hide it.
        matches = [
            func.coalesce(
                func.substring(domain, rf"([^.]+(\.[^.]+){{{labels - 1}}})$").in_(names),
                false(),
            )
            for labels, names in sorted(by_labels.items())
        ]
    else:
        # Licensed domains are validated to [a-z0-9.-]; only the dot needs escaping.
        alternatives = "|".join(d.replace(".", r"\.") for d in sorted(domains))
        matches = [User.email.regexp_match(f"[@.]({alternatives})$")]
    return and_(User.email_verified_at.is_not(None), or_(*matches))


def org_cover(session: Session, now: datetime, tier_id: int | None = None) -> ColumnElement[bool]:
    dialect = session.get_bind().dialect.name
    return covered_by_domain(licensed_domains(session, now, tier_id), dialect)


def domain_covered(email: str, domains: set[str]) -> bool:
    """The same rule in Python, for rows already fetched."""
    return domain_matches(email.rpartition("@")[2], domains)


def status_of(disabled: bool, paid: bool, comp: bool, org: bool) -> str:
    if disabled:
        return "disabled"
    if paid:
        return "paid"
    if comp:
        return "comp"
    return "org" if org else "free"


def status_filter(
    status: str, paid: ColumnElement[bool], comp: ColumnElement[bool], org: ColumnElement[bool]
) -> ColumnElement[bool]:
    enabled = User.disabled.is_(False)
    return {
        "disabled": User.disabled.is_(True),
        "paid": and_(enabled, paid),
        "comp": and_(enabled, not_(paid), comp),
        "org": and_(enabled, not_(paid), not_(comp), org),
        "free": and_(enabled, not_(paid), not_(comp), not_(org)),
    }[status]


def _text_filter(q: str) -> ColumnElement[bool]:
    """An email prefix; without an `@`, also any part of the name."""
    needle = like_literal(q.strip().lower())
    by_email = User.email.like(f"{needle}%", escape=LIKE_ESCAPE)
    if "@" in q:
        return by_email
    return or_(by_email, func.lower(User.name).like(f"%{needle}%", escape=LIKE_ESCAPE))


def tier_id_of(session: Session, ref: str) -> int:
    return licensed_tier(session, ref).id  # type: ignore[return-value]


def search_members(
    session: Session,
    now: datetime,
    *,
    q: str | None = None,
    status: str | None = None,
    tier: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> MemberPage:
    """Newest first. Erased members are left out: they are no longer anyone."""
    domains = licensed_domains(session, now)
    query = select(User).where(User.erased_at.is_(None))
    if q and q.strip():
        query = query.where(_text_filter(q))
    if status is not None:
        query = query.where(
            status_filter(status, paid_now(now), comp_now(now), org_cover(session, now))
        )
    if tier is not None:
        tier_id = tier_id_of(session, tier)
        query = query.where(
            or_(
                paid_now(now, tier_id),
                comp_now(now, tier_id),
                org_cover(session, now, tier_id),
            )
        )
    if cursor:
        query = query.where(User.id < decode_id_cursor(cursor))
    rows = session.execute(query.order_by(User.id.desc()).limit(limit + 1)).scalars().all()
    page = rows[:limit]
    statuses = page_statuses(session, page, domains, now)
    return MemberPage(
        items=[member_out(user, statuses[user.id]) for user in page],  # type: ignore[index]
        next_cursor=encode_id_cursor(page[-1].id) if len(rows) > limit else None,  # type: ignore[arg-type]
    )


def page_statuses(
    session: Session, users: Sequence[User], domains: set[str], now: datetime
) -> dict[int, str]:
    """Each fetched member's status, by the access rules themselves, in one query: far
    cheaper than three correlated subqueries in the select list."""
    paid: set[int] = set()
    comp: set[int] = set()
    if users:
        held = session.execute(
            select(
                Subscription.user_id,
                Subscription.source,
                Subscription.status,
                Subscription.current_period_end,
            ).where(
                Subscription.user_id.in_([u.id for u in users]),
                Subscription.tier_id.is_not(None),
            )
        ).all()
        for user_id, source, sub_status, period_end in held:
            sub = HeldSubscription(0, source, sub_status, period_end, ANY_TIER)
            if subscription_entitlement(sub, now) is not None:
                (paid if source == "stripe" else comp).add(user_id)
    return {
        user.id: status_of(  # type: ignore[misc]
            user.disabled,
            user.id in paid,
            user.id in comp,
            user.email_verified_at is not None and domain_covered(user.email, domains),
        )
        for user in users
    }


def member_out(user: User, status: str) -> MemberOut:
    return MemberOut(
        id=user.id,  # type: ignore[arg-type]
        email=user.email,
        name=user.name,
        role=user.role,
        status=status,  # type: ignore[arg-type]
        disabled=user.disabled,
        email_verified=user.email_verified_at is not None,
        created_at=user.created_at,
    )


def member_status(session: Session, user: User, now: datetime) -> str:
    return page_statuses(session, [user], licensed_domains(session, now), now)[user.id]  # type: ignore[index]
