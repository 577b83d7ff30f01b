"""Complimentary subscriptions granted and revoked by staff."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from app.access import Member
from app.audit import actor_of, record_audit
from app.billing.catalog import tier_by_ref
from app.billing.schemas import CompIn, CompOut
from app.errors import NotFound, Unprocessable
from app.models import Subscription, Tier, User, utcnow


def comp_out(comp: Subscription, tier: Tier) -> CompOut:
    return CompOut(
        id=comp.id,  # type: ignore[arg-type]
        user_id=comp.user_id,  # type: ignore[arg-type]
        tier=tier.slug,
        source=comp.source,
        status=comp.status,
        expires_at=comp.current_period_end,
        note=comp.note,
        created_at=comp.created_at,
    )


def grant_comp(
    session: Session, user_id: int, data: CompIn, actor: Member | None, now: datetime | None = None
) -> Subscription:
    now = now or utcnow()
    user = session.get(User, user_id)
    if user is None or user.erased_at is not None:
        raise NotFound("User not found")
    if data.expires_at is not None and data.expires_at <= now:
        raise Unprocessable("expires_at must be in the future")
    tier = tier_by_ref(session, data.tier)
    comp = Subscription(
        user_id=user.id,
        tier_id=tier.id,
        source="comp",
        status="active",
        current_period_end=data.expires_at,
        note=data.note,
        granted_by_id=actor.id if actor else None,
        created_at=now,
        updated_at=now,
    )
    session.add(comp)
    session.flush()
    record_audit(
        session,
        actor=actor_of(actor),
        action="access.grant",
        target=f"user:{user.id}",
        after={
            "source": "comp",
            "subscription": comp.id,
            "tier": tier.slug,
            "expires_at": data.expires_at,
            "note": data.note,
        },
        actor_user_id=actor.id if actor else None,
    )
    return comp


def revoke_comp(session: Session, comp_id: int, actor: Member | None) -> None:
    comp = session.get(Subscription, comp_id)
    if comp is None or comp.source != "comp":
        raise NotFound("Comp not found")
    if comp.status == "canceled":
        return
    comp.status = "canceled"
    comp.updated_at = utcnow()
    session.add(comp)
    session.flush()
    record_audit(
        session,
        actor=actor_of(actor),
        action="access.revoke",
        target=f"user:{comp.user_id}",
        before={"source": "comp", "subscription": comp.id, "status": "active"},
        after={"status": "canceled"},
        actor_user_id=actor.id if actor else None,
    )
