"""The Stripe SDK client, configured from settings (FOLIO_STRIPE_API_BASE for an emulator)."""

from __future__ import annotations

import stripe

from app.config import Settings
from app.errors import ServiceUnavailable


def stripe_client(settings: Settings) -> stripe.StripeClient:
    if not settings.stripe_secret_key:
        raise ServiceUnavailable(
            "Billing is not configured on this server (FOLIO_STRIPE_SECRET_KEY is unset)"
        )
    base_addresses = {}
    if settings.stripe_api_base:
        base_addresses = {"api": settings.stripe_api_base.rstrip("/")}
    return stripe.StripeClient(
        settings.stripe_secret_key, base_addresses=base_addresses, max_network_retries=2
    )


def stripe_call(call, *args, **kwargs):  # type: ignore[no-untyped-def]
    """A Stripe API call whose failure is a 503 with Stripe's message, never a 500."""
    try:
        return call(*args, **kwargs)
    except stripe.StripeError as exc:
        raise ServiceUnavailable(f"Stripe: {exc.user_message or exc}") from exc
