"""Checkout Sessions and customer portal sessions for a reader.

No Stripe call runs inside a database transaction: on SQLite a write transaction holds
the one writer lock, so a Stripe call that takes seconds (or hangs until its timeout)
would stall every webhook, login and registration behind it. Each request reads what it
needs in a short read transaction, talks to Stripe, and stores the customer it got in a
short write transaction of its own.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from contextlib import AbstractContextManager
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session

from app.access import Member
from app.billing.catalog import tier_by_ref
from app.billing.stripe_api import stripe_call, stripe_client
from app.billing.subscriptions import locked_user
from app.config import Settings
from app.db import session_scope
from app.errors import Conflict, NotFound, Unauthorized, Unprocessable
from app.models import Price, User

# A double click within this window returns the same session (the idempotency key).
CHECKOUT_KEY_WINDOW_SECONDS = 600


def _transaction(*, write: bool) -> AbstractContextManager[Session]:
    """A short transaction with a request's limits (a busy database is a 503, not a wait)."""
    return session_scope(write=write, background=False)


@dataclass(frozen=True, slots=True)
class Buyer:
    id: int
    email: str
    name: str
    created_at: str
    stripe_customer_id: str | None


def _buyer(session: Session, member: Member) -> Buyer:
    user = session.get(User, member.id)
    if user is None:
        raise Unauthorized("Invalid or expired token")
    return Buyer(
        user.id,  # type: ignore[arg-type]
        user.email,
        user.name,
        user.created_at.isoformat(),
        user.stripe_customer_id,
    )


def customer_idempotency_key(buyer: Buyer) -> str:
    """The same for every attempt to make this user's customer with these details, so
    concurrent or retried requests get one customer back from Stripe. The user's creation
    instant keeps it apart from a same-numbered user of another database (a restore, a
    staging copy) on the same Stripe account; the digest lets a changed email start anew
    instead of being refused for reusing a key with other parameters."""
    details = hashlib.sha256(f"{buyer.email}\0{buyer.name}".encode()).hexdigest()[:16]
    return f"folio-customer:{buyer.id}:{buyer.created_at}:{details}"


def ensure_customer(buyer: Buyer, settings: Settings) -> str:
    """The user's Stripe customer, created once and stored on the user."""
    if buyer.stripe_customer_id:
        return buyer.stripe_customer_id
    customer = stripe_call(
        stripe_client(settings).v1.customers.create,
        params={
            "email": buyer.email,
            "name": buyer.name or None,
            "metadata": {"folio_user_id": str(buyer.id)},
        },
        options={"idempotency_key": customer_idempotency_key(buyer)},
    )
    with _transaction(write=True) as session:
        # Under the user's lock: the first customer stored stays; a concurrent request
        # got the same one from Stripe (same idempotency key), so nothing is lost.
        user = locked_user(session, User.id == buyer.id)
        if user is None:
            raise Unauthorized("Invalid or expired token")
        if user.stripe_customer_id is None:
            user.stripe_customer_id = customer.id
            session.add(user)
        return user.stripe_customer_id


@dataclass(frozen=True, slots=True)
class SaleablePrice:
    tier_id: int
    stripe_price_id: str


def price_for(session: Session, tier_ref: str, interval: str) -> SaleablePrice:
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
    return SaleablePrice(price.tier_id, price.stripe_price_id)


def create_checkout(member: Member, tier_ref: str, interval: str, settings: Settings) -> str:
    with _transaction(write=False) as session:
        buyer = _buyer(session, member)
        price = price_for(session, tier_ref, interval)
    customer_id = ensure_customer(buyer, settings)
    window = int(time.time()) // CHECKOUT_KEY_WINDOW_SECONDS
    metadata = {"folio_user_id": str(buyer.id), "folio_tier_id": str(price.tier_id)}
    checkout = stripe_call(
        stripe_client(settings).v1.checkout.sessions.create,
        params={
            "mode": "subscription",
            "customer": customer_id,
            "client_reference_id": str(buyer.id),
            "line_items": [{"price": price.stripe_price_id, "quantity": 1}],
            "subscription_data": {"metadata": metadata},
            "metadata": metadata,
            "success_url": f"{settings.base_url}/account?checkout=success",
            "cancel_url": f"{settings.base_url}/account?checkout=canceled",
        },
        # A double click within the window gets the same session back.
        options={
            "idempotency_key": f"folio-checkout:{customer_id}:{price.stripe_price_id}:{window}"
        },
    )
    return checkout.url


def create_portal(member: Member, settings: Settings) -> str:
    client = stripe_client(settings)  # an unconfigured server says so first
    with _transaction(write=False) as session:
        buyer = _buyer(session, member)
    if not buyer.stripe_customer_id:
        raise Conflict("No billing account yet: subscribe first")
    portal = stripe_call(
        client.v1.billing_portal.sessions.create,
        params={"customer": buyer.stripe_customer_id, "return_url": f"{settings.base_url}/account"},
        # Portal URLs are short-lived: the key covers the SDK's retries of this request
        # (it reuses the key on each attempt), not replays of an old one.
        options={"idempotency_key": f"folio-portal:{buyer.id}:{uuid.uuid4()}"},
    )
    return portal.url
