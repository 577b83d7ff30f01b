"""Tiers and their prices: what is sold, which collections each grants."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlmodel import Session

from app.access import Member
from app.audit import actor_of, record_audit
from app.billing.schemas import PriceIn, PriceOut, TierIn, TierOut, TierUpdate
from app.errors import Conflict, NotFound, Unprocessable
from app.models import Collection, Price, Tier, TierCollection
from app.pagination import INT32_MAX


def tier_by_ref(session: Session, ref: str | int) -> Tier:
    """A tier named by slug or by id (admin bodies accept both)."""
    clause = Tier.slug == str(ref)
    # Digits name an id (a slug is never all digits); one past the id column matches none.
    if str(ref).isdigit() and int(ref) <= INT32_MAX:
        clause = or_(clause, Tier.id == int(ref))
    tier = session.execute(select(Tier).where(clause)).scalars().first()
    if tier is None:
        raise NotFound(f"Unknown tier: {ref}")
    return tier


def list_tiers(session: Session) -> list[TierOut]:
    """Every tier, active or not, oldest first: what the admin API and console list."""
    tiers = session.execute(select(Tier).order_by(Tier.id)).scalars().all()
    return [tier_out(session, tier) for tier in tiers]


def collection_ids(session: Session, slugs: list[str]) -> list[int]:
    rows = session.execute(
        select(Collection.slug, Collection.id).where(Collection.slug.in_(slugs))
    ).all()
    found = {slug: collection_id for slug, collection_id in rows}
    missing = [s for s in slugs if s not in found]
    if missing:
        raise Unprocessable(f"Unknown collections: {', '.join(missing)}")
    return [found[s] for s in dict.fromkeys(slugs)]


def collection_slugs_by_tier(session: Session, tier_ids: list[int]) -> dict[int, list[str]]:
    """The slugs of the collections each tier names, sorted, in one query for all tiers."""
    slugs: dict[int, list[str]] = {tier_id: [] for tier_id in tier_ids}
    if tier_ids:
        rows = session.execute(
            select(TierCollection.tier_id, Collection.slug)
            .join(Collection, Collection.id == TierCollection.collection_id)
            .where(TierCollection.tier_id.in_(tier_ids))
            .order_by(Collection.slug)
        ).all()
        for tier_id, slug in rows:
            slugs[tier_id].append(slug)
    return slugs


def tier_out(session: Session, tier: Tier) -> TierOut:
    return TierOut(
        id=tier.id,  # type: ignore[arg-type]
        slug=tier.slug,
        name=tier.name,
        description=tier.description,
        collections=collection_slugs_by_tier(session, [tier.id])[tier.id],  # type: ignore[list-item]
        all_collections=tier.all_collections,
        prices=[
            PriceOut(
                interval=p.interval,
                amount=p.amount,
                currency=p.currency,
                stripe_price_id=p.stripe_price_id,
            )
            for p in tier.prices
        ],
        active=tier.active,
    )


def _check_prices(session: Session, prices: list[PriceIn], tier_id: int | None) -> None:
    intervals = [p.interval for p in prices]
    if len(intervals) != len(set(intervals)):
        raise Unprocessable("At most one price per interval")
    for price in prices:
        if price.stripe_price_id is None:
            continue
        owner = session.execute(
            select(Price.tier_id).where(Price.stripe_price_id == price.stripe_price_id)
        ).scalar_one_or_none()
        if owner is not None and owner != tier_id:
            raise Conflict(f"Stripe price {price.stripe_price_id} belongs to another tier")


def _set_collections(session: Session, tier: Tier, slugs: list[str]) -> None:
    wanted = collection_ids(session, slugs)
    for row in session.execute(
        select(TierCollection).where(TierCollection.tier_id == tier.id)
    ).scalars():
        session.delete(row)
    session.flush()
    for collection_id in wanted:
        session.add(TierCollection(tier_id=tier.id, collection_id=collection_id))  # type: ignore[arg-type]


def _set_prices(session: Session, tier: Tier, prices: list[PriceIn]) -> None:
    tier.prices.clear()
    session.flush()  # a replaced price keeps its stripe_price_id: free the unique key first
    for price in prices:
        tier.prices.append(Price(**price.model_dump()))


def create_tier(session: Session, data: TierIn, actor: Member | None) -> Tier:
    if session.execute(select(Tier.id).where(Tier.slug == data.slug)).first():
        raise Conflict(f"A tier with slug {data.slug!r} exists")
    _check_prices(session, data.prices, None)
    tier = Tier(
        slug=data.slug,
        name=data.name,
        description=data.description,
        all_collections=data.all_collections,
        active=data.active,
    )
    session.add(tier)
    session.flush()
    _set_collections(session, tier, data.collections)
    _set_prices(session, tier, data.prices)
    session.flush()
    record_audit(
        session,
        actor=actor_of(actor),
        action="tier.create",
        target=f"tier:{tier.slug}",
        after=data.model_dump(mode="json"),
    )
    return tier


def update_tier(session: Session, ref: str, data: TierUpdate, actor: Member | None) -> Tier:
    tier = tier_by_ref(session, ref)
    before = tier_out(session, tier).model_dump(mode="json")
    changes = data.model_dump(exclude_unset=True)
    if (
        changes.get("slug")
        and changes["slug"] != tier.slug
        and session.execute(select(Tier.id).where(Tier.slug == changes["slug"])).first()
    ):
        raise Conflict(f"A tier with slug {changes['slug']!r} exists")
    if data.prices is not None:
        _check_prices(session, data.prices, tier.id)
        _set_prices(session, tier, data.prices)
    if data.collections is not None:
        _set_collections(session, tier, data.collections)
    for key in ("slug", "name", "description", "all_collections", "active"):
        if changes.get(key) is not None:
            setattr(tier, key, changes[key])
    session.add(tier)
    session.flush()
    record_audit(
        session,
        actor=actor_of(actor),
        action="tier.update",
        target=f"tier:{tier.slug}",
        before=before,
        after=tier_out(session, tier).model_dump(mode="json"),
    )
    return tier
