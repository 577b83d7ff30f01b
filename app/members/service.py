"""A member's record for staff, and the writes staff make to it: edit, disable, erase.

Every write is audited in the same transaction. The last active admin can be neither
demoted, disabled nor erased: the admin rows are locked first (FOR UPDATE on PostgreSQL;
SQLite writers hold the database lock), so two admins demoting each other cannot both win.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlmodel import Session

from app.access import Member
from app.access.entitlements import (
    HeldSubscription,
    TierGrant,
    subscription_entitlement,
)
from app.accounts.service import member_of
from app.audit import actor_of, record_audit
from app.audit_log import list_audit
from app.billing import comps
from app.errors import Conflict, NotFound
from app.holdings import load_entitlements
from app.members.schemas import (
    CoveringOrganization,
    MemberDetail,
    MemberRequestOut,
    MemberSubscriptionOut,
    MemberUpdate,
)
from app.members.search import member_out, member_status
from app.models import (
    AuditEntry,
    OneTimeToken,
    OutboxEmail,
    RefreshToken,
    Subscription,
    SubscriptionRequest,
    Tier,
    User,
    utcnow,
)

RECENT_AUDIT = 20
ERASED_DOMAIN = "erased.invalid"  # RFC 2606: never deliverable


def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("User not found")
    return user


def _live_user(session: Session, user_id: int) -> User:
    user = _user(session, user_id)
    if user.erased_at is not None:
        raise NotFound("User not found")
    return user


def _subscriptions(session: Session, user_id: int, now: datetime) -> list[MemberSubscriptionOut]:
    rows = session.execute(
        select(Subscription, Tier.slug)
        .outerjoin(Tier, Tier.id == Subscription.tier_id)
        .where(Subscription.user_id == user_id)
        .order_by(Subscription.id.desc())
    ).all()
    out = []
    for sub, slug in rows:
        held = HeldSubscription(
            sub.id, sub.source, sub.status, sub.current_period_end, TierGrant(0, "", None)
        )
        out.append(
            MemberSubscriptionOut(
                id=sub.id,  # type: ignore[arg-type]
                tier=slug,
                source=sub.source,
                status=sub.status,
                current_period_end=sub.current_period_end,
                cancel_at_period_end=sub.cancel_at_period_end,
                grants_access=sub.tier_id is not None
                and subscription_entitlement(held, now) is not None,
                stripe_subscription_id=sub.stripe_subscription_id,
                note=sub.note,
                created_at=sub.created_at,
            )
        )
    return out


def _covering_organizations(
    session: Session, user: User, now: datetime
) -> list[CoveringOrganization]:
    """The licences the access decision itself would find for this member (by verified
    address, domain or subdomain; the member's own network is not known here)."""
    return [
        CoveringOrganization(
            id=int(held.reference.removeprefix("organization:")),
            name=held.organization or "",
            tier=held.tier.tier_slug,
            expires_at=held.until,
        )
        for held in load_entitlements(session, member_of(user), now)
        if held.source == "organization"
    ]


def _requests(session: Session, user_id: int) -> list[MemberRequestOut]:
    rows = session.execute(
        select(SubscriptionRequest, Tier.slug)
        .outerjoin(Tier, Tier.id == SubscriptionRequest.tier_id)
        .where(SubscriptionRequest.requester_id == user_id)
        .order_by(SubscriptionRequest.id.desc())
    ).all()
    return [
        MemberRequestOut(
            id=r.id,  # type: ignore[arg-type]
            organization=r.organization,
            message=r.message,
            tier=slug,
            status=r.status,
            decided_at=r.decided_at,
            decision_reason=r.decision_reason,
            created_at=r.created_at,
        )
        for r, slug in rows
    ]


def member_detail(session: Session, user_id: int, now: datetime) -> MemberDetail:
    user = _user(session, user_id)
    return MemberDetail(
        **member_out(user, member_status(session, user, now)).model_dump(),
        erased_at=user.erased_at,
        stripe_customer_id=user.stripe_customer_id,
        subscriptions=_subscriptions(session, user_id, now),
        organizations=[] if user.erased_at else _covering_organizations(session, user, now),
        subscription_requests=_requests(session, user_id),
        recent_audit=list_audit(session, target=f"user:{user_id}", limit=RECENT_AUDIT).items,
    )


def _other_active_admins(session: Session, user_id: int) -> list[int]:
    return list(
        session.execute(
            select(User.id)
            .where(
                User.role == "admin",
                User.disabled.is_(False),
                User.erased_at.is_(None),
                User.id != user_id,
            )
            .with_for_update()
        ).scalars()
    )


def _keep_an_admin(session: Session, user: User, what: str) -> None:
    is_active_admin = user.role == "admin" and not user.disabled and user.erased_at is None
    if is_active_admin and not _other_active_admins(session, user.id):  # type: ignore[arg-type]
        raise Conflict(f"Cannot {what} the last admin: make another admin first.")


def _end_sessions(session: Session, user: User, now: datetime) -> None:
    """Access tokens die on their next request; refresh tokens and emailed links now."""
    user.tokens_valid_after = now
    user.feed_token_hash = None
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user.id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    session.execute(delete(OneTimeToken).where(OneTimeToken.user_id == user.id))


def update_member(
    session: Session, user_id: int, data: MemberUpdate, actor: Member, now: datetime | None = None
) -> MemberDetail:
    now = now or utcnow()
    user = _live_user(session, user_id)
    sent = {k: v for k, v in data.model_dump(exclude_unset=True).items() if v is not None}
    before = {k: getattr(user, k) for k in sent}
    changed = {k: v for k, v in sent.items() if before[k] != v}
    if not changed:
        return member_detail(session, user_id, now)
    if changed.get("role", "admin") != "admin":
        _keep_an_admin(session, user, "demote")
    if changed.get("disabled") is True:
        _keep_an_admin(session, user, "disable")
        _end_sessions(session, user, now)
    for field, value in changed.items():
        setattr(user, field, value)
    session.add(user)
    session.flush()
    record_audit(
        session,
        actor=actor_of(actor),
        action="user.update",
        target=f"user:{user.id}",
        before={k: before[k] for k in changed},
        after=changed,
        actor_user_id=actor.id,
    )
    return member_detail(session, user_id, now)


def erase_member(
    session: Session, user_id: int, actor: Member, now: datetime | None = None
) -> None:
    """Personal data goes; billing rows stay, attached to an anonymous account.

    The email and name are replaced, the password and every token die (sessions end on
    their next request), comps end, request messages and queued emails are removed, and
    names in earlier audit entries about the member are blanked.
    """
    now = now or utcnow()
    user = _user(session, user_id)
    if user.erased_at is not None:
        return
    _keep_an_admin(session, user, "erase")
    old_email = user.email
    for comp_id in session.execute(
        select(Subscription.id).where(
            Subscription.user_id == user.id,
            Subscription.source == "comp",
            Subscription.status == "active",
        )
    ).scalars():
        comps.revoke_comp(session, comp_id, actor)
    _end_sessions(session, user, now)
    before: dict[str, Any] = {"role": user.role, "disabled": user.disabled}
    user.email = f"erased-{user.id}@{ERASED_DOMAIN}"
    user.name = ""
    user.password_hash = None
    user.email_verified_at = None
    user.disabled = True
    user.erased_at = now
    session.add(user)
    session.execute(
        update(SubscriptionRequest)
        .where(SubscriptionRequest.requester_id == user.id)
        .values(message="")
    )
    session.execute(delete(OutboxEmail).where(OutboxEmail.recipient == old_email))
    _blank_names_in_audit(session, user.id)  # type: ignore[arg-type]
    session.flush()
    record_audit(
        session,
        actor=actor_of(actor),
        action="user.erase",
        target=f"user:{user.id}",
        before=before,
        after={"erased_at": now},
        actor_user_id=actor.id,
    )


def _blank_names_in_audit(session: Session, user_id: int) -> None:
    entries = session.execute(
        select(AuditEntry).where(
            AuditEntry.target == f"user:{user_id}", AuditEntry.action == "user.update"
        )
    ).scalars()
    for entry in entries:
        for side in ("before", "after"):
            value = getattr(entry, side)
            if value and "name" in value:
                setattr(entry, side, {**value, "name": "(erased)"})
        session.add(entry)
