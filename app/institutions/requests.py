"""The subscription-requests queue: staff approve (a comp or a licence) or decline, once.

A decision is claimed with a conditional UPDATE (`… WHERE status = 'pending'`), so two
admins deciding the same request at once cannot both win: the loser gets a 409. The grant,
the audit entries and the email to the requester are written in the same transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from app.access import Member
from app.audit import actor_of, record_audit
from app.billing import comps
from app.billing.schemas import CompIn
from app.config import Settings
from app.errors import Conflict, NotFound, Unprocessable
from app.institutions.organizations import create_organization, licensed_tier
from app.institutions.schemas import (
    ApproveIn,
    DeclineIn,
    OrganizationIn,
    RequesterOut,
    SubscriptionRequestAdminOut,
    SubscriptionRequestPage,
)
from app.mail.outbox import enqueue_email
from app.models import SubscriptionRequest, Tier, User, utcnow
from app.pagination import decode_id_cursor, encode_id_cursor


def _out(
    request: SubscriptionRequest, requester: User | None, tier_slug: str | None
) -> SubscriptionRequestAdminOut:
    return SubscriptionRequestAdminOut(
        id=request.id,  # type: ignore[arg-type]
        requester=RequesterOut(id=requester.id, email=requester.email, name=requester.name)  # type: ignore[arg-type]
        if requester is not None
        else None,
        organization=request.organization,
        message=request.message,
        tier=tier_slug,
        status=request.status,
        decided_by=request.decided_by_id,
        decided_at=request.decided_at,
        decision_reason=request.decision_reason,
        organization_id=request.organization_id,
        created_at=request.created_at,
    )


def _query():  # type: ignore[no-untyped-def]
    requester = aliased(User)
    return (
        select(SubscriptionRequest, requester, Tier.slug)
        .outerjoin(requester, requester.id == SubscriptionRequest.requester_id)
        .outerjoin(Tier, Tier.id == SubscriptionRequest.tier_id)
    )


def list_requests(
    session: Session, status: str | None, limit: int, cursor: str | None
) -> SubscriptionRequestPage:
    """Newest first, keyset on id."""
    query = _query()
    if status is not None:
        query = query.where(SubscriptionRequest.status == status)
    if cursor:
        query = query.where(SubscriptionRequest.id < decode_id_cursor(cursor))
    rows = session.execute(query.order_by(SubscriptionRequest.id.desc()).limit(limit + 1)).all()
    page = rows[:limit]
    next_cursor = encode_id_cursor(page[-1][0].id) if len(rows) > limit else None
    return SubscriptionRequestPage(items=[_out(*row) for row in page], next_cursor=next_cursor)


def read_request(session: Session, request_id: int) -> SubscriptionRequestAdminOut:
    row = session.execute(_query().where(SubscriptionRequest.id == request_id)).first()
    if row is None:
        raise NotFound("Subscription request not found")
    return _out(*row)


def _pending(session: Session, request_id: int) -> SubscriptionRequest:
    request = session.get(SubscriptionRequest, request_id)
    if request is None:
        raise NotFound("Subscription request not found")
    if request.status != "pending":
        raise Conflict(f"This request was already {request.status}.")
    return request


def _claim(
    session: Session, request: SubscriptionRequest, status: str, actor: Member, reason: str
) -> None:
    """Marks the request decided, or 409 if another decision got there first."""
    now = utcnow()
    claimed = session.execute(
        update(SubscriptionRequest)
        .where(SubscriptionRequest.id == request.id, SubscriptionRequest.status == "pending")
        .values(status=status, decided_by_id=actor.id, decided_at=now, decision_reason=reason)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("This request was decided by someone else just now.")
    session.refresh(request)


def _live_requester(session: Session, request: SubscriptionRequest) -> User | None:
    user = session.get(User, request.requester_id) if request.requester_id else None
    return user if user is not None and user.erased_at is None else None


def _audit_decision(
    session: Session, request: SubscriptionRequest, actor: Member, after: dict[str, Any]
) -> None:
    record_audit(
        session,
        actor=actor_of(actor),
        action=f"subscription_request.{request.status}",
        target=f"subscription_request:{request.id}",
        before={"status": "pending"},
        after={"status": request.status, **after},
        actor_user_id=actor.id,
    )


def approve_request(
    session: Session,
    settings: Settings,
    request_id: int,
    data: ApproveIn,
    actor: Member,
    now: datetime | None = None,
) -> SubscriptionRequestAdminOut:
    now = now or utcnow()
    request = _pending(session, request_id)
    tier_ref = data.tier if data.tier is not None else request.tier_id
    if tier_ref is None:
        raise Unprocessable("Name a `tier`: the request did not ask for one.")
    tier = licensed_tier(session, tier_ref)
    if data.expires_at is not None and data.expires_at <= now:
        raise Unprocessable("expires_at must be in the future")
    requester = _live_requester(session, request)
    if data.grant_as == "comp" and requester is None:
        raise Conflict("The requester's account no longer exists; approve `as: organization`.")
    if data.grant_as == "organization" and not (data.email_domains or data.ip_ranges):
        raise Unprocessable("A licence needs `email_domains` or `ip_ranges` (or both).")

    _claim(session, request, "approved", actor, data.note)
    granted: dict[str, Any] = {
        "as": data.grant_as,
        "tier": tier.slug,
        "expires_at": data.expires_at,
    }
    if data.grant_as == "comp":
        note = data.note or f"Subscription request {request.id} ({request.organization})"
        comp = comps.grant_comp(
            session,
            requester.id,  # type: ignore[union-attr,arg-type]
            CompIn(tier=tier.slug, expires_at=data.expires_at, note=note[:2000]),
            actor,
            now,
        )
        granted["comp"] = comp.id
    else:
        licence = create_organization(
            session,
            OrganizationIn(
                name=data.organization_name or request.organization or f"Request {request.id}",
                tier=tier.slug,
                email_domains=data.email_domains,
                ip_ranges=data.ip_ranges,
                expires_at=data.expires_at,
                notes=f"From subscription request {request.id}. {data.note}".strip(),
            ),
            actor,
            now,
        )
        request.organization_id = licence.id
        session.add(request)
        session.flush()
        granted["organization"] = licence.id
    _audit_decision(session, request, actor, granted)
    if requester is not None:
        enqueue_email(
            session,
            settings,
            recipient=requester.email,
            template="request_approved",
            kind="request_decision",
            subject="Your subscription request was approved",
            context={
                "name": requester.name,
                "organization": request.organization,
                "tier_name": tier.name,
                "expires_at": data.expires_at,
                "as_organization": data.grant_as == "organization",
                "email_domains": data.email_domains,
            },
            now=now,
        )
    return read_request(session, request_id)


def decline_request(
    session: Session,
    settings: Settings,
    request_id: int,
    data: DeclineIn,
    actor: Member,
    now: datetime | None = None,
) -> SubscriptionRequestAdminOut:
    request = _pending(session, request_id)
    _claim(session, request, "declined", actor, data.reason)
    _audit_decision(session, request, actor, {"reason": data.reason})
    requester = _live_requester(session, request)
    if requester is not None:
        enqueue_email(
            session,
            settings,
            recipient=requester.email,
            template="request_declined",
            kind="request_decision",
            subject="Your subscription request",
            context={
                "name": requester.name,
                "organization": request.organization,
                "reason": data.reason,
            },
            now=now,
        )
    return read_request(session, request_id)
