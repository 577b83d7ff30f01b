"""The reader's own account: /me with entitlements, subscriptions and requests; its edits,
the private feed token, and subscription requests. Always the caller's own rows (R-S5)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session

from app.access import Member
from app.accounts import feed
from app.accounts.passwords import check_password_rules, hash_password, verify_password
from app.accounts.schemas import (
    EntitlementOut,
    FeedTokenOut,
    Me,
    MeUpdate,
    SubscriptionOut,
    SubscriptionRequestIn,
    SubscriptionRequestOut,
)
from app.accounts.service import set_password
from app.config import Settings
from app.db import reading_apart
from app.errors import BadRequest, Conflict, Forbidden, Unauthorized, Unprocessable
from app.holdings import load_entitlements
from app.models import Collection, Subscription, SubscriptionRequest, Tier, User

MAX_PENDING_REQUESTS = 3


class WrongCurrentPassword(Forbidden):
    def __init__(self) -> None:
        super().__init__("The current password is not correct.")


def _own_user(session: Session, member: Member) -> User:
    user = session.get(User, member.id)
    if user is None or user.erased_at is not None:
        raise Unauthorized("Invalid or expired token")
    return user


def entitlements_of(session: Session, member: Member, now: datetime) -> list[EntitlementOut]:
    """One row per collection each entitlement grants (every collection for all-access)."""
    held = load_entitlements(session, member, now)
    if not held:
        return []
    collections = session.execute(
        select(Collection.id, Collection.slug).order_by(Collection.slug)
    ).all()
    return [
        EntitlementOut(
            collection=slug,
            tier=entitlement.tier.tier_slug,
            source=entitlement.source,
            until=entitlement.until,
            organization=entitlement.organization,
        )
        for entitlement in held
        for collection_id, slug in collections
        if entitlement.tier.covers(collection_id)
    ]


def subscriptions_of(session: Session, user_id: int) -> list[SubscriptionOut]:
    rows = session.execute(
        select(Subscription, Tier.slug)
        .outerjoin(Tier, Tier.id == Subscription.tier_id)
        .where(Subscription.user_id == user_id)
        .order_by(Subscription.created_at.desc(), Subscription.id.desc())
    ).all()
    return [
        SubscriptionOut(
            id=sub.id,
            tier=tier_slug,
            source=sub.source,
            status=sub.status,
            current_period_end=sub.current_period_end,
            cancel_at_period_end=sub.cancel_at_period_end,
        )
        for sub, tier_slug in rows
    ]


def _request_out(request: SubscriptionRequest, tier_slug: str | None) -> SubscriptionRequestOut:
    return SubscriptionRequestOut(
        id=request.id,  # type: ignore[arg-type]
        organization=request.organization,
        message=request.message,
        tier=tier_slug,
        status=request.status,
        created_at=request.created_at,
        decided_at=request.decided_at,
    )


def requests_of(session: Session, user_id: int) -> list[SubscriptionRequestOut]:
    rows = session.execute(
        select(SubscriptionRequest, Tier.slug)
        .outerjoin(Tier, Tier.id == SubscriptionRequest.tier_id)
        .where(SubscriptionRequest.requester_id == user_id)
        .order_by(SubscriptionRequest.created_at.desc(), SubscriptionRequest.id.desc())
    ).all()
    return [_request_out(request, tier_slug) for request, tier_slug in rows]


def me_view(session: Session, member: Member, now: datetime) -> Me:
    user = _own_user(session, member)
    return Me(
        id=user.id,  # type: ignore[arg-type]
        email=user.email,
        name=user.name,
        role=user.role,
        email_verified=user.email_verified_at is not None,
        created_at=user.created_at,
        entitlements=entitlements_of(session, member, now),
        subscriptions=subscriptions_of(session, user.id),  # type: ignore[arg-type]
        subscription_requests=requests_of(session, user.id),  # type: ignore[arg-type]
    )


def update_me(
    session: Session, settings: Settings, member: Member, data: MeUpdate, now: datetime
) -> None:
    """Name and password only. A new password needs the current one, and ends every
    session, this one included: the reader signs in again."""
    new_hash = checked_hash = None
    if data.password is not None:
        if data.current_password is None:
            raise BadRequest("Send `current_password` to change the password.")
        # Both argon2 runs before the write transaction (SQLite's write lock) begins.
        with reading_apart(session) as reader:
            checked_hash = _own_user(reader, member).password_hash
        ok, _ = verify_password(data.current_password, checked_hash)
        if not ok:
            raise WrongCurrentPassword()
        check_password_rules(data.password, member.email)
        new_hash = hash_password(data.password)
    user = _own_user(session, member)
    if data.password is not None:
        if user.password_hash != checked_hash:
            raise WrongCurrentPassword()  # changed a moment ago by another request
        set_password(session, settings, user, data.password, now, new_hash)
    if data.name is not None:
        user.name = data.name
    session.add(user)
    session.flush()


def create_subscription_request(
    session: Session, member: Member, data: SubscriptionRequestIn, now: datetime
) -> SubscriptionRequestOut:
    tier = None
    if data.tier is not None:
        tier = session.execute(
            select(Tier).where(Tier.slug == data.tier, Tier.active.is_(True))
        ).scalar_one_or_none()
        if tier is None:
            raise Unprocessable(f"Unknown tier: {data.tier}")
    pending = session.execute(
        select(func.count())
        .select_from(SubscriptionRequest)
        .where(
            SubscriptionRequest.requester_id == member.id,
            SubscriptionRequest.status == "pending",
        )
    ).scalar_one()
    if pending >= MAX_PENDING_REQUESTS:
        raise Conflict(f"You already have {pending} pending requests; staff will answer them.")
    request = SubscriptionRequest(
        requester_id=member.id,
        organization=data.organization,
        message=data.message,
        tier_id=tier.id if tier else None,
        status="pending",
        created_at=now,
    )
    session.add(request)
    session.flush()
    return _request_out(request, tier.slug if tier else None)


def rotate_feed_token(session: Session, settings: Settings, member: Member) -> FeedTokenOut:
    token = feed.rotate_feed_token(session, _own_user(session, member))
    return FeedTokenOut(token=token, url=f"{settings.base_url}/feeds/private/{token}.xml")


def has_feed_token(session: Session, member: Member) -> bool:
    """Whether a private feed URL is live (only its hash is kept: the URL is shown once)."""
    return _own_user(session, member).feed_token_hash is not None


def revoke_feed_token(session: Session, member: Member) -> None:
    feed.revoke_feed_token(session, _own_user(session, member))
