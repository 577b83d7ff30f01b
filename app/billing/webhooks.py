"""POST /webhooks/stripe: verify the raw body -> record the event once -> apply -> stamp."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import stripe
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlmodel import Session

from app.billing.stripe_objects import checkout_facts, invoice_facts, subscription_state
from app.billing.subscriptions import (
    apply_paid_invoice,
    apply_subscription_state,
    link_checkout,
)
from app.db import insert_ignoring_conflict, session_scope
from app.deps import SettingsDep, TransactionRoute
from app.errors import BadRequest, ServiceUnavailable, error_responses
from app.models import StripeEvent, utcnow

log = logging.getLogger("folio.billing")
router = APIRouter(tags=["billing"], route_class=TransactionRoute)
TOLERANCE_SECONDS = 300


@dataclass(frozen=True, slots=True)
class VerifiedEvent:
    id: str
    type: str
    created: int
    object: dict[str, Any]
    payload: dict[str, Any]


def verify_event(
    payload: bytes, header: str | None, secrets: list[str], now: float | None = None
) -> VerifiedEvent:
    """Stripe's signature on the exact bytes received, then the JSON; BadRequest otherwise."""
    if not header:
        raise BadRequest("Missing Stripe-Signature header")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest("Payload is not UTF-8") from exc
    now = time.time() if now is None else now
    for secret in secrets:  # during a secret roll, both secrets are valid
        try:
            stripe.WebhookSignature.verify_header(text, header, secret, TOLERANCE_SECONDS)
            break
        except stripe.SignatureVerificationError:
            continue
    else:
        raise BadRequest("Invalid Stripe signature")
    # Stripe's check bounds only the old side; a timestamp from the future is as suspect.
    timestamps = [part[2:] for part in header.split(",") if part.startswith("t=")]
    if (
        not timestamps
        or not timestamps[0].isdigit()
        or int(timestamps[0]) > now + TOLERANCE_SECONDS
    ):
        raise BadRequest("Stripe signature timestamp out of tolerance")
    try:
        event = json.loads(text)
        data_object = event["data"]["object"]
        verified = VerifiedEvent(
            str(event["id"]), str(event["type"]), int(event["created"]), data_object, event
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise BadRequest("Malformed Stripe event") from exc
    if not isinstance(data_object, dict) or not verified.id.startswith("evt"):
        raise BadRequest("Malformed Stripe event")
    return verified


def _subscription_event(session: Session, event: VerifiedEvent, cause: str) -> str:
    return apply_subscription_state(session, subscription_state(event.object), event.created, cause)


def _paid_invoice(session: Session, event: VerifiedEvent, cause: str) -> str:
    return apply_paid_invoice(session, invoice_facts(event.object), event.created, cause)


def _failed_invoice(_session: Session, event: VerifiedEvent, _cause: str) -> str:
    facts = invoice_facts(event.object)
    return f"recorded: payment failed for {facts.subscription_id}; status follows the subscription"


def _checkout_completed(session: Session, event: VerifiedEvent, cause: str) -> str:
    return link_checkout(session, checkout_facts(event.object), cause)


HANDLERS: dict[str, Callable[[Session, VerifiedEvent, str], str]] = {
    "checkout.session.completed": _checkout_completed,
    "customer.subscription.created": _subscription_event,
    "customer.subscription.updated": _subscription_event,
    "customer.subscription.deleted": _subscription_event,
    "invoice.paid": _paid_invoice,
    "invoice.payment_failed": _failed_invoice,
}


def locked_ledger_row(session: Session, event: VerifiedEvent) -> StripeEvent:
    """The event's ledger row, inserted if new, locked until the transaction ends."""
    insert_ignoring_conflict(
        session,
        StripeEvent,
        {
            "stripe_event_id": event.id,
            "type": event.type,
            "created": event.created,
            "payload": event.payload,
            "received_at": utcnow(),
            "outcome": "",
            "attempts": 0,
        },
        ["stripe_event_id"],
    )
    return session.execute(
        select(StripeEvent)
        .where(StripeEvent.stripe_event_id == event.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def ingest_event(event: VerifiedEvent) -> tuple[bool, str]:
    """(applied now, outcome). One transaction: a failure leaves nothing and is retried."""
    with session_scope(write=True) as session:
        # Concurrent deliveries of one event queue here; the first applies it, the rest see it done.
        ledger = locked_ledger_row(session, event)
        if ledger.processed_at is not None:
            return False, ledger.outcome
        handler = HANDLERS.get(event.type)
        try:
            outcome = handler(session, event, f"stripe:{event.id}") if handler else "ignored: type"
        except ValueError as exc:  # a signed but unusable object: retrying will not mend it
            outcome = f"ignored: malformed {event.type}: {exc}"
        ledger.outcome = outcome
        ledger.attempts += 1
        ledger.processed_at = utcnow()
        session.add(ledger)
        return True, outcome


def record_failure(event: VerifiedEvent, error: Exception) -> None:
    """After a rollback: the ledger says the event came and failed; processed_at stays empty."""
    try:
        with session_scope(write=True) as session:
            ledger = locked_ledger_row(session, event)
            if ledger.processed_at is None:
                ledger.attempts += 1
                ledger.outcome = f"failed: {type(error).__name__}: {error}"[:2000]
                session.add(ledger)
    except Exception:  # noqa: BLE001  (the 500 to Stripe is what matters; it will retry)
        log.exception("could not record the failure of %s", event.id)


@router.post(
    "/webhooks/stripe",
    responses={
        **error_responses(BadRequest, ServiceUnavailable),
        500: {"description": "Processing failed; Stripe retries"},
    },
)
async def stripe_webhook(request: Request, settings: SettingsDep) -> JSONResponse:
    """Stripe's signed events. Never calls the Stripe API, so it answers fast."""
    secrets = settings.stripe_webhook_secrets
    if not secrets:
        raise ServiceUnavailable("Stripe webhooks are not configured (FOLIO_STRIPE_WEBHOOK_SECRET)")
    payload = await request.body()
    event = verify_event(payload, request.headers.get("stripe-signature"), secrets)
    try:
        applied, outcome = await run_in_threadpool(ingest_event, event)
    except Exception as exc:  # noqa: BLE001  (rolled back wholly; Stripe will deliver again)
        log.exception("stripe event %s failed", event.id)
        await run_in_threadpool(record_failure, event, exc)
        return JSONResponse({"detail": "Event processing failed; it will be retried"}, 500)
    return JSONResponse({"received": True, "duplicate": not applied, "outcome": outcome})
