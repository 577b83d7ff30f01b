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

from app.billing.fault_points import pause_point
from app.billing.stripe_objects import (
    MalformedEvent,
    checkout_facts,
    event_created,
    invoice_facts,
    subscription_state,
)
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
    created: Any  # as sent; `prepare` checks it
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
            event["id"], event["type"], event.get("created"), data_object, event
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BadRequest("Malformed Stripe event") from exc
    # Without a usable id and type an event cannot even be recorded.
    if (
        not isinstance(data_object, dict)
        or not isinstance(verified.id, str)
        or not isinstance(verified.type, str)
        or not verified.id.startswith("evt")
        or not _printable(verified.id, 255)
        or not _printable(verified.type, 100)
    ):
        raise BadRequest("Malformed Stripe event")
    return verified


def _printable(text: str, limit: int) -> bool:
    return 0 < len(text) <= limit and text.isprintable()


Apply = Callable[[Session, str], str]  # (session, cause) -> outcome


def _subscription_event(obj: dict[str, Any], created: int) -> Apply:
    state = subscription_state(obj)
    return lambda session, cause: apply_subscription_state(session, state, created, cause)


def _paid_invoice(obj: dict[str, Any], created: int) -> Apply:
    facts = invoice_facts(obj)
    return lambda session, cause: apply_paid_invoice(session, facts, created, cause)


def _failed_invoice(obj: dict[str, Any], _created: int) -> Apply:
    outcome = (
        f"recorded: payment failed for {invoice_facts(obj).subscription_id}; "
        "status follows the subscription"
    )
    return lambda _session, _cause: outcome


def _checkout_completed(obj: dict[str, Any], _created: int) -> Apply:
    facts = checkout_facts(obj)
    return lambda session, cause: link_checkout(session, facts, cause)


# Each reads and validates the event's facts, before any transaction opens.
READERS: dict[str, Callable[[dict[str, Any], int], Apply]] = {
    "checkout.session.completed": _checkout_completed,
    "customer.subscription.created": _subscription_event,
    "customer.subscription.updated": _subscription_event,
    "customer.subscription.deleted": _subscription_event,
    "customer.subscription.paused": _subscription_event,
    "customer.subscription.resumed": _subscription_event,
    "customer.subscription.pending_update_applied": _subscription_event,
    "customer.subscription.pending_update_expired": _subscription_event,
    "invoice.paid": _paid_invoice,
    "invoice.payment_failed": _failed_invoice,
}


@dataclass(frozen=True, slots=True)
class PreparedEvent:
    created: int  # 0 when the event's own `created` is unusable
    apply: Apply


def prepare(event: VerifiedEvent) -> PreparedEvent:
    """The event's facts, validated; a signed event that cannot apply becomes `malformed`."""
    try:
        created = event_created(event.created)
    except MalformedEvent as exc:
        return PreparedEvent(0, _constant(f"malformed: {exc}"))
    read = READERS.get(event.type)
    if read is None:
        return PreparedEvent(created, _constant("ignored: type"))
    try:
        return PreparedEvent(created, read(event.object, created))
    except MalformedEvent as exc:
        return PreparedEvent(created, _constant(f"malformed: {exc}"))


def _constant(outcome: str) -> Apply:
    return lambda _session, _cause: outcome


def locked_ledger_row(session: Session, event: VerifiedEvent, created: int) -> StripeEvent:
    """The event's ledger row, inserted if new, locked until the transaction ends."""
    insert_ignoring_conflict(
        session,
        StripeEvent,
        {
            "stripe_event_id": event.id,
            "type": event.type,
            "created": created,
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


def ingest_event(event: VerifiedEvent, prepared: PreparedEvent) -> tuple[bool, str]:
    """(applied now, outcome). One transaction: a failure leaves nothing and is retried."""
    with session_scope(write=True) as session:
        # Concurrent deliveries of one event queue here; the first applies it, the rest see it done.
        ledger = locked_ledger_row(session, event, prepared.created)
        if ledger.processed_at is not None:
            return False, ledger.outcome
        outcome = prepared.apply(session, f"stripe:{event.id}")
        ledger.outcome = outcome
        ledger.attempts += 1
        ledger.processed_at = utcnow()
        session.add(ledger)
        session.flush()
        pause_point("webhook.before_commit")  # tests only: a crash after every write
        return True, outcome


def record_failure(event: VerifiedEvent, created: int, error: Exception) -> None:
    """After a rollback: the ledger says the event came and failed; processed_at stays empty."""
    try:
        with session_scope(write=True) as session:
            ledger = locked_ledger_row(session, event, created)
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
    prepared = prepare(event)
    try:
        applied, outcome = await run_in_threadpool(ingest_event, event, prepared)
    except Exception as exc:  # noqa: BLE001  (rolled back wholly; Stripe will deliver again)
        log.exception("stripe event %s failed", event.id)
        await run_in_threadpool(record_failure, event, prepared.created, exc)
        return JSONResponse({"detail": "Event processing failed; it will be retried"}, 500)
    return JSONResponse({"received": True, "duplicate": not applied, "outcome": outcome})
