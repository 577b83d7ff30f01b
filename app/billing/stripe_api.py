"""The Stripe SDK client, configured from settings (FOLIO_STRIPE_API_BASE for an emulator).

A call to Stripe is bounded: FOLIO_STRIPE_TIMEOUT_SECONDS covers every attempt the SDK
makes (FOLIO_STRIPE_MAX_NETWORK_RETRIES) and its pauses between them, so a Stripe that
is down or hangs is a 503 within that time, never a worker thread stuck for minutes (the
SDK's own default is 80 s an attempt). Never call Stripe inside a database transaction.
"""

from __future__ import annotations

import stripe

from app.config import Settings
from app.errors import ServiceUnavailable

MIN_ATTEMPT_SECONDS = 0.5


def _backoff_budget(retries: int) -> float:
    """The longest the SDK sleeps between `retries` attempts (its exponential backoff)."""
    delay = stripe.HTTPClient.INITIAL_DELAY
    return sum(
        min(delay * 2 ** (attempt - 1), stripe.HTTPClient.MAX_DELAY)
        for attempt in range(1, retries + 1)
    )


def attempt_timeout(settings: Settings) -> float:
    """Each attempt's share of the whole budget once the pauses between them are taken out."""
    retries = settings.stripe_max_network_retries
    spare = settings.stripe_timeout_seconds - _backoff_budget(retries)
    return max(MIN_ATTEMPT_SECONDS, spare / (retries + 1))


def stripe_client(settings: Settings) -> stripe.StripeClient:
    if not settings.stripe_secret_key:
        raise ServiceUnavailable(
            "Billing is not configured on this server (FOLIO_STRIPE_SECRET_KEY is unset)"
        )
    base_addresses = {}
    if settings.stripe_api_base:
        base_addresses = {"api": settings.stripe_api_base.rstrip("/")}
    return stripe.StripeClient(
        settings.stripe_secret_key,
        base_addresses=base_addresses,
        max_network_retries=settings.stripe_max_network_retries,
        http_client=stripe.new_default_http_client(timeout=attempt_timeout(settings)),
    )


def stripe_call(call, *args, **kwargs):  # type: ignore[no-untyped-def]
    """A Stripe API call whose failure is a 503 with a message, never a 500."""
    try:
        return call(*args, **kwargs)
    except stripe.APIConnectionError as exc:  # refused, reset or timed out, after the retries
        raise ServiceUnavailable(
            "Stripe cannot be reached right now; try again in a minute.", retry_after=30
        ) from exc
    except stripe.StripeError as exc:
        raise ServiceUnavailable(f"Stripe: {exc.user_message or exc}") from exc
