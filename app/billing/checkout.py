"""Checkout Sessions and customer portal sessions for a reader."""

from __future__ import annotations

import time
import uuid

from sqlalchemy import select
from sqlmodel import Session

from app.access import Member
from app.billing.catalog import tier_by_ref
from app.billing.stripe_api import stripe_call, stripe_client
from app.config import Settings
from app.errors import Conflict, NotFound, Unprocessable
from app.models import Price, User

# A double click within this window returns the same session (the idempotency key).
CHECKOUT_KEY_WINDOW_SECONDS = 600


def ensure_customer(session: Session, user: User, settings: Settings) -> str:
    """The user's Stripe customer, created once and stored on the user."""
    if user.stripe_customer_id:
        return user.stripe_customer_id
    client = stripe_client(settings)
    customer = stripe_call(
        client.v1.customers.create,
        params={
            "email": user.email,
            "name": user.name or None,
            "metadata": {"folio_user_id": str(user.id)},
        },
        options={"idempotency_key": f"customer:{user.id}"},
    )
    user.stripe_customer_id = customer.id
    session.add(user)
    session.flush()
    return customer.id


def price_for(session: Session, tier_ref: str, interval: str) -> Price:
    tier = tier_by_ref(session, tier_ref)
    if not tier.active:
        raise NotFound(f"Tier {tier.slug} is not on sale")
    price = session.execute(
        select(Price).where(Price.tier_id == tier.id, Price.interval == interval)
    ).scalar_one_or_none()
    if price is None:
        raise Unprocessable(f"Tier {tier.slug} has no {interval}ly price")
    if not price.stripe_price_id:
        raise Unprocessable(f"Tier {tier.slug}'s {interval}ly price is not linked to Stripe")
    return price


def create_checkout(
    session: Session, member: Member, tier_ref: str, interval: str, settings: Settings
) -> str:
    user = session.get(User, member.id)
    assert user is not None
    price = price_for(session, tier_ref, interval)
    customer_id = ensure_customer(session, user, settings)
    window = int(time.time()) // CHECKOUT_KEY_WINDOW_SECONDS
    checkout = stripe_call(
        stripe_client(settings).v1.checkout.sessions.create,
        params={
            "mode": "subscription",
            "customer": customer_id,
            "client_reference_id": str(user.id),
            "line_items": [{"price": price.stripe_price_id, "quantity": 1}],
            "subscription_data": {
                "metadata": {"folio_user_id": str(user.id), "folio_tier_id": str(price.tier_id)}
            },
            "metadata": {"folio_user_id": str(user.id), "folio_tier_id": str(price.tier_id)},
            "success_url": f"{settings.base_url}/account?checkout=success",
            "cancel_url": f"{settings.base_url}/account?checkout=canceled",
        },
        options={"idempotency_key": f"checkout:{user.id}:{price.stripe_price_id}:{window}"},
    )
    return checkout.url


def create_portal(session: Session, member: Member, settings: Settings) -> str:
    user = session.get(User, member.id)
    assert user is not None
    client = stripe_client(settings)
    if not user.stripe_customer_id:
        raise Conflict("No billing account yet: subscribe first")
    portal = stripe_call(
        client.v1.billing_portal.sessions.create,
        params={"customer": user.stripe_customer_id, "return_url": f"{settings.base_url}/account"},
        # Portal URLs are short-lived: the key covers retries of this request, not replays.
        options={"idempotency_key": f"portal:{user.id}:{uuid.uuid4()}"},
    )
    return portal.url
