"""A Stripe API emulator for tests: localstripe, extended with what Folio needs.

Run it (cwd = repository root)::

    .venv/bin/python -m tests.support.stripe_emulator --port 8421 [--webhook-delay 1.0] [-v]

It listens on 127.0.0.1 only, keeps its state in memory (never /tmp/localstripe.pickle,
so parallel runs cannot clobber each other) and prints
``stripe-emulator listening on http://127.0.0.1:PORT`` once it is ready (``--port 0``
picks a free port). `tests.support.stripe_fixtures.start_stripe_emulator()` does all that
for you.

Point the official SDK (stripe-python 16) at it, over plain http::

    client = stripe.StripeClient("sk_test_anything", base_addresses={"api": base_url})
    # or, module-level (global!):  stripe.api_key = "sk_test_anything"; stripe.api_base = base_url

Any key starting with ``sk_`` is accepted.

What it adds to localstripe 1.15.10 (which it imports and patches in place: its aiohttp
app, resources, store and webhook signing are reused):

* Prices: ``POST/GET /v1/prices``, ``GET/POST /v1/prices/{id}`` (``product`` or
  ``product_data[name]``, ``unit_amount``, ``currency``, ``recurring[interval]``,
  ``lookup_key``, ``transfer_lookup_key``, ``nickname``, ``metadata``; list filters
  ``active``, ``product``, ``currency``, ``type``, ``lookup_keys[]``). A recurring price is
  backed by a localstripe Plan with the same id, so subscriptions accept
  ``items[0][price]`` (or ``plan``) and every subscription item carries ``price`` (the full
  price object) next to the legacy ``plan``.
* Checkout Sessions: ``POST/GET /v1/checkout/sessions``, ``GET /v1/checkout/sessions/{id}``
  (``expand[]=line_items`` works), ``GET .../{id}/line_items``, ``POST .../{id}/expire``.
  ``url`` is ``{base}/checkout/{id}`` (a small HTML page; POSTing its form completes the
  session and redirects to ``success_url``).
  ``POST /_test/checkout/sessions/{id}/complete`` completes it (see `complete_session`).
* Billing portal: ``POST /v1/billing_portal/sessions`` -> ``{base}/billing_portal/{id}``.
* ``customer.subscription.updated`` (with ``data.previous_attributes``) on every
  ``POST /v1/subscriptions/{id}`` that changes something and on status changes caused by
  payments; metadata updates are stored (Stripe semantics: ``""`` deletes a key);
  ``cancel_at_period_end=true`` also sets ``cancel_at``/``canceled_at`` like Stripe.
* ``invoice.finalized`` and ``invoice.paid`` besides localstripe's invoice events.
* ``POST /_test/subscriptions/{id}/status`` ``{status[, current_period_end]}``.
* ``POST /_test/subscriptions/{id}/status_after_next_listing`` ``{status}``: once the next
  ``GET /v1/subscriptions`` has computed its answer, the status is set and its webhook
  delivered before that (now stale) answer is sent.
* ``POST /_test/webhooks/pause`` (``{count: N}`` drops the next N events, no count drops
  everything until resumed), ``POST /_test/webhooks/resume``, ``GET /_test/webhooks``
  (``{paused, drop_next, pending, log}``), ``DELETE /_config/webhooks/{name}``.
* ``Idempotency-Key``: a repeated POST with the same key (and the same API key) replays the
  first status and body (header ``Idempotent-Replayed: true``); different parameters with
  the same key -> 400 ``idempotency_error``.
* Stripe-style JSON errors for unknown ids (``resource_missing``) and unknown URLs.
* Lists of subscriptions, prices, checkout sessions and events are newest first; paging with
  ``limit``/``starting_after`` (the SDK's ``auto_paging_iter``) works.

Webhooks are delivered in order by one worker, ``--webhook-delay`` seconds after the event
(default 1.0), signed like Stripe (``Stripe-Signature: t=<event.created>,v1=<hex>``, HMAC-SHA256
of ``"{t}.{body}"`` with the secret given to ``POST /_config/webhooks/{name}``), so
``stripe.Webhook.construct_event`` verifies them. Events keep localstripe's
``api_version: 2017-08-15`` stamp; a subscription carries ``current_period_start/end`` both
top-level (old shape) and on each item (new shape).

Known limits (localstripe's or this extension's):

* No clock: periods never renew, ``cancel_at_period_end`` never ends a subscription by
  itself, trials never end; use ``/_test/subscriptions/{id}/status`` (optionally with
  ``current_period_end``) or ``DELETE /v1/subscriptions/{id}`` to move one on.
* One item per subscription; changing its price or quantity replaces the item (new
  ``si_`` id) and creates an invoice only when the billing interval changes.
* Prices are per_unit only (no tiers, ``price_data``, ``currency_options``, search); a plan
  made through ``/v1/plans`` shows up as ``items[].price`` but is not retrievable at
  ``/v1/prices/{id}``.
* Checkout: modes ``subscription`` (exactly one recurring line item) and ``payment`` only;
  completion always pays with ``pm_card_visa``; no discounts, taxes or async payments. For a
  completed subscription checkout the ``customer.subscription.created`` event already says
  ``active`` (Stripe sends ``incomplete`` then an update).
* The billing portal is a stub page: nothing can be changed through it.
* No webhook retries: a failed delivery is only logged (``GET /_test/webhooks``). Events have
  no ``request``/``pending_webhooks`` fields. ``GET /v1/events`` filters on ``type`` and
  ``created`` only.
* List endpoints support ``limit``/``starting_after`` but not ``ending_before``/``created``.
* Idempotency keys never expire; a request rejected with 400/401/409/429 is not saved.
* Many localstripe validation errors are a bare ``400 Bad request`` without ``param``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import html
import json
import logging
import socket
import sys
import time
import traceback
from collections import deque
from typing import Any

import aiohttp
from aiohttp import web
from localstripe import resources as ls
from localstripe import server as ls_server
from localstripe import webhooks as ls_webhooks
from localstripe.errors import UserError

logger = logging.getLogger("stripe_emulator")

TEST_PREFIXES = ("/_test/", "/checkout/", "/billing_portal/")
SUBSCRIPTION_STATUSES = (
    "incomplete",
    "incomplete_expired",
    "trialing",
    "active",
    "past_due",
    "unpaid",
    "canceled",
    "paused",
)

# The public base URL (http://127.0.0.1:PORT), set once the socket is bound.
PUBLIC_BASE = "http://127.0.0.1"


def _bad(message: str, param: str | None = None, code: int = 400) -> UserError:
    contents: dict[str, Any] = {}
    if param:
        contents["param"] = param
    return UserError(code, message, contents)


def _missing(object_name: str, id: str, param: str | None = None) -> UserError:
    contents: dict[str, Any] = {"code": "resource_missing"}
    if param:
        contents["param"] = param
    return UserError(404, f"No such {object_name}: '{id}'", contents)


def _reject_unknown(kwargs: dict[str, Any]) -> None:
    if kwargs:
        raise _bad(f"Received unknown parameter: {sorted(kwargs)[0]}", sorted(kwargs)[0])


def _int(value: Any, param: str, minimum: int | None = 0) -> int:
    converted = ls.try_convert_to_int(value)
    if type(converted) is not int or (minimum is not None and converted < minimum):
        raise _bad(f"Invalid integer: {value}", param)
    return converted


def _merge_metadata(current: dict[str, str] | None, update: Any) -> dict[str, str]:
    """Stripe semantics: keys are merged, an empty value deletes a key, "" clears all."""
    current = dict(current or {})
    if update is None:
        return current
    if update == "":
        return {}
    if not isinstance(update, dict):
        raise _bad("Invalid metadata: must be an object", "metadata")
    for key, value in update.items():
        if value in ("", None):
            current.pop(key, None)
        else:
            current[str(key)] = str(value)
    return current


# --------------------------------------------------------------------------- webhooks


class WebhookDispatcher:
    """Replaces localstripe's fire-and-forget delivery: one ordered queue, pausable."""

    def __init__(self, delay: float = 1.0) -> None:
        self.delay = delay
        self.paused = False
        self.drop_next = 0
        self.log: list[dict[str, Any]] = []
        self._queue: deque[tuple[float, Any, bytes]] = deque()
        self._wakeup: asyncio.Event | None = None
        self._held: list[Any] | None = None
        self._in_flight = 0
        self._task: asyncio.Task[None] | None = None

    @property
    def pending(self) -> int:
        return len(self._queue) + self._in_flight

    def schedule(self, event: Any) -> None:
        if self._held is not None:
            self._held.append(event)
            return
        if self.paused or self.drop_next > 0:
            if self.drop_next > 0:
                self.drop_next -= 1
            self.log.append({"id": event.id, "type": event.type, "result": "dropped"})
            logger.info("webhook %s %s dropped (paused)", event.id, event.type)
            return
        payload = json.dumps(event._export(), indent=2, sort_keys=True).encode("utf-8")
        self._queue.append((time.monotonic() + self.delay, event, payload))
        if self._wakeup is not None:
            self._wakeup.set()

    @contextlib.contextmanager
    def hold(self):
        """Collects the events scheduled inside the block; they are scheduled at its end, in
        the (possibly reordered) order of the yielded list."""
        outer, self._held = self._held, []
        held = self._held
        try:
            yield held
        finally:
            self._held = outer
            for event in held:
                self.schedule(event)

    def reset(self) -> None:
        self.paused = False
        self.drop_next = 0
        self.log.clear()
        self._queue.clear()

    async def start(self, app: web.Application) -> None:
        self._wakeup = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self, app: web.Application) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        assert self._wakeup is not None
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while True:
                if not self._queue:
                    self._wakeup.clear()
                    await self._wakeup.wait()
                    continue
                due, event, payload = self._queue.popleft()
                self._in_flight += 1
                try:
                    await asyncio.sleep(max(0.0, due - time.monotonic()))
                    await self._deliver(session, event, payload)
                finally:
                    self._in_flight -= 1

    async def _deliver(self, session: aiohttp.ClientSession, event: Any, payload: bytes) -> None:
        signed_payload = b"%d.%s" % (event.created, payload)
        for name, hook in list(ls_webhooks._webhooks.items()):
            if hook.events is not None and event.type not in hook.events:
                continue
            signature = hmac.new(
                hook.secret.encode("utf-8"), signed_payload, hashlib.sha256
            ).hexdigest()
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                "Stripe-Signature": f"t={event.created},v1={signature}",
            }
            entry: dict[str, Any] = {"id": event.id, "type": event.type, "webhook": name}
            try:
                async with session.post(hook.url, data=payload, headers=headers) as response:
                    await response.read()
                    entry["result"] = "delivered" if 200 <= response.status < 300 else "failed"
                    entry["status"] = response.status
            except (TimeoutError, aiohttp.ClientError) as exc:
                entry["result"] = "failed"
                entry["error"] = repr(exc)
            self.log.append(entry)
            logger.info("webhook %s %s -> %s: %s", event.id, event.type, hook.url, entry)


DISPATCHER = WebhookDispatcher()


def emit(type_: str, obj: Any, previous_attributes: dict[str, Any] | None = None) -> Any:
    event = ls.Event(type_, obj)
    if previous_attributes is not None:
        event.data["previous_attributes"] = previous_attributes
    DISPATCHER.schedule(event)
    return event


def _previous_attributes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {
        key: before.get(key)
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


# --------------------------------------------------------------------------- prices


def _price_from_plan(plan: Any) -> dict[str, Any]:
    """The price view of a plan: the stored Price if there is one, else one built from it."""
    price = ls.store.get("price:" + plan.id)
    if price is not None:
        return price._export()
    return {
        "id": plan.id,
        "object": "price",
        "active": plan.active,
        "billing_scheme": plan.billing_scheme,
        "created": plan.created,
        "currency": plan.currency,
        "custom_unit_amount": None,
        "livemode": False,
        "lookup_key": None,
        "metadata": dict(plan.metadata or {}),
        "nickname": plan.nickname,
        "product": plan.product,
        "recurring": {
            "interval": plan.interval,
            "interval_count": plan.interval_count,
            "trial_period_days": plan.trial_period_days,
            "usage_type": plan.usage_type,
        },
        "tax_behavior": "unspecified",
        "tiers_mode": plan.tiers_mode,
        "transform_quantity": None,
        "type": "recurring",
        "unit_amount": plan.amount,
        "unit_amount_decimal": str(plan.amount),
    }


class Price(ls.StripeObject):
    object = "price"
    _id_prefix = "price_"

    def __init__(
        self,
        currency=None,
        unit_amount=None,
        unit_amount_decimal=None,
        product=None,
        product_data=None,
        recurring=None,
        lookup_key=None,
        transfer_lookup_key=None,
        nickname=None,
        metadata=None,
        active=True,
        tax_behavior=None,
        billing_scheme=None,
        **kwargs,
    ):
        _reject_unknown(kwargs)
        if not isinstance(currency, str) or not currency:
            raise _bad("Missing required param: currency.", "currency")
        if unit_amount is None and unit_amount_decimal is not None:
            unit_amount = ls.try_convert_to_float(unit_amount_decimal)
            if isinstance(unit_amount, float) and unit_amount.is_integer():
                unit_amount = int(unit_amount)
        if unit_amount is None:
            raise _bad("Missing required param: unit_amount.", "unit_amount")
        unit_amount = _int(unit_amount, "unit_amount")
        if billing_scheme not in (None, "per_unit"):
            raise _bad("Only billing_scheme=per_unit is emulated", "billing_scheme")
        if (product is None) == (product_data is None):
            raise _bad("Exactly one of product or product_data is required.", "product")
        if product is not None:
            if not isinstance(product, str):
                raise _bad("Invalid product", "product")
            if ls.store.get("product:" + product) is None:
                raise _missing("product", product, "product")
        elif not isinstance(product_data, dict) or not product_data.get("name"):
            raise _bad("Missing required param: product_data[name].", "product_data[name]")
        active = ls.try_convert_to_bool(active)
        if type(active) is not bool:
            raise _bad("Invalid boolean", "active")
        if recurring is not None:
            if not isinstance(recurring, dict):
                raise _bad("Invalid recurring", "recurring")
            extra = set(recurring) - {"interval", "interval_count", "usage_type"}
            if extra:
                raise _bad(f"Received unknown parameter: recurring[{sorted(extra)[0]}]")
            if recurring.get("interval") not in ("day", "week", "month", "year"):
                raise _bad("Invalid recurring[interval]", "recurring[interval]")
            recurring = {
                "interval": recurring["interval"],
                "interval_count": _int(
                    recurring.get("interval_count", 1), "recurring[interval_count]", 1
                ),
                "trial_period_days": None,
                "usage_type": recurring.get("usage_type", "licensed"),
            }
            if recurring["usage_type"] != "licensed":
                raise _bad("Only usage_type=licensed is emulated", "recurring[usage_type]")
        transfer = ls.try_convert_to_bool(transfer_lookup_key) is True
        if lookup_key is not None:
            if not isinstance(lookup_key, str) or not lookup_key:
                raise _bad("Invalid lookup_key", "lookup_key")
            _claim_lookup_key(lookup_key, transfer, None)
        metadata = _merge_metadata({}, metadata)

        # All checks done: create the product, the backing plan, then the price.
        if product is None:
            product = ls.Product(
                name=product_data["name"],
                metadata=_merge_metadata({}, product_data.get("metadata")),
            ).id
        id = "price_" + ls.random_id(24)
        if recurring is not None:
            ls.Plan(
                id=id,
                amount=unit_amount,
                currency=currency,
                interval=recurring["interval"],
                interval_count=recurring["interval_count"],
                product=product,
                nickname=nickname,
                metadata=dict(metadata),
                active=active,
            )
        super().__init__(id)
        self.active = active
        self.billing_scheme = "per_unit"
        self.currency = currency.lower()
        self.custom_unit_amount = None
        self.lookup_key = lookup_key
        self.metadata = metadata
        self.nickname = nickname
        self.product = product
        self.recurring = recurring
        self.tax_behavior = tax_behavior or "unspecified"
        self.tiers_mode = None
        self.transform_quantity = None
        self.type = "recurring" if recurring is not None else "one_time"
        self.unit_amount = unit_amount
        self.unit_amount_decimal = str(unit_amount)
        emit("price.created", self)

    @property
    def _plan(self) -> Any:
        return ls.store.get("plan:" + self.id)

    @classmethod
    def _api_update(cls, id, **data):
        obj = cls._api_retrieve(id)
        allowed = {"active", "metadata", "nickname", "lookup_key", "transfer_lookup_key"}
        allowed |= {"tax_behavior"}
        _reject_unknown({k: v for k, v in data.items() if k not in allowed})
        before = obj._export()
        if "active" in data:
            active = ls.try_convert_to_bool(data["active"])
            if type(active) is not bool:
                raise _bad("Invalid boolean", "active")
            obj.active = active
            if obj._plan is not None:
                obj._plan.active = active
        if "lookup_key" in data:
            key = data["lookup_key"] or None
            if key is not None:
                _claim_lookup_key(
                    key, ls.try_convert_to_bool(data.get("transfer_lookup_key")) is True, obj.id
                )
            obj.lookup_key = key
        if "nickname" in data:
            obj.nickname = data["nickname"] or None
        if "tax_behavior" in data:
            obj.tax_behavior = data["tax_behavior"]
        if "metadata" in data:
            obj.metadata = _merge_metadata(obj.metadata, data["metadata"])
        changes = _previous_attributes(before, obj._export())
        if changes:
            emit("price.updated", obj, changes)
        return obj

    @classmethod
    def _api_delete(cls, id):
        raise UserError(405, "Prices cannot be deleted; set active=false instead")

    @classmethod
    def _api_list_all(
        cls,
        url,
        active=None,
        product=None,
        currency=None,
        type=None,
        lookup_keys=None,
        limit=None,
        starting_after=None,
        **kwargs,
    ):
        _reject_unknown(kwargs)
        li = super()._api_list_all(url, limit=limit, starting_after=starting_after)
        active = ls.try_convert_to_bool(active)
        if isinstance(lookup_keys, str):
            lookup_keys = [lookup_keys]
        items = li._list
        if active is not None:
            items = [p for p in items if p.active == active]
        if product is not None:
            items = [p for p in items if p.product == product]
        if currency is not None:
            items = [p for p in items if p.currency == currency.lower()]
        if type is not None:
            items = [p for p in items if p.type == type]
        if lookup_keys is not None:
            items = [p for p in items if p.lookup_key in lookup_keys]
        li._list = list(reversed(items))
        return li


def _claim_lookup_key(key: str, transfer: bool, owner: str | None) -> None:
    for other in [v for k, v in ls.store.items() if k.startswith("price:")]:
        if other.lookup_key == key and other.id != owner:
            if not transfer:
                raise _bad(f"A price (`{other.id}`) already uses that lookup key.", "lookup_key")
            other.lookup_key = None


# --------------------------------------------------------------------------- subscriptions


def _normalize_items(items: Any) -> Any:
    """Accepts `price` (a Price id, backed by a Plan of the same id) wherever `plan` is."""
    if items is None:
        return None
    if not isinstance(items, list):
        raise _bad("Invalid array", "items")
    normalized = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise _bad("Invalid object", f"items[{index}]")
        item = dict(item)
        if "price_data" in item:
            raise _bad("items[][price_data] is not emulated", f"items[{index}][price_data]")
        item.pop("deleted", None)
        price = item.pop("price", None)
        if price is not None:
            if not isinstance(price, str):
                raise _bad("Invalid price", f"items[{index}][price]")
            if ls.store.get("plan:" + price) is None:
                if ls.store.get("price:" + price) is not None:
                    raise _bad(
                        f"The price specified ({price}) is not a recurring price.",
                        f"items[{index}][price]",
                    )
                raise _missing("price", price, f"items[{index}][price]")
            item["plan"] = price
        normalized.append(item)
    return normalized


_orig_sub_init = ls.Subscription.__init__
_orig_sub_update = ls.Subscription._update
_orig_sub_delete = ls.Subscription._api_delete.__func__
_orig_sub_list = ls.Subscription._api_list_all.__func__


def _sub_init(
    self,
    customer=None,
    items=None,
    metadata=None,
    default_payment_method=None,
    cancel_at_period_end=None,
    description=None,
    collection_method=None,
    payment_behavior=None,
    off_session=None,
    automatic_tax=None,
    payment_settings=None,
    currency=None,
    **kwargs,
):
    items = _normalize_items(items)
    if payment_behavior in ("default_incomplete", "pending_if_incomplete"):
        payment_behavior = "allow_incomplete"
    if payment_behavior is not None:
        kwargs["payment_behavior"] = payment_behavior
    if collection_method not in (None, "charge_automatically"):
        raise _bad("Only collection_method=charge_automatically is emulated", "collection_method")
    metadata = _merge_metadata({}, metadata)
    cancel_at_period_end = ls.try_convert_to_bool(cancel_at_period_end)

    customer_obj = None
    saved_default = None
    if default_payment_method is not None:
        # localstripe pays with the customer's default payment method: lend it this one.
        if not isinstance(customer, str):
            raise _bad("Missing required param: customer.", "customer")
        customer_obj = ls.Customer._api_retrieve(customer)
        pm = ls.PaymentMethod._api_retrieve(default_payment_method)
        default_payment_method = pm.id
        saved_default = customer_obj.invoice_settings.get("default_payment_method")
        customer_obj.invoice_settings["default_payment_method"] = pm.id

    try:
        with DISPATCHER.hold() as held:
            _orig_sub_init(self, customer=customer, items=items, metadata=metadata, **kwargs)
            self.default_payment_method = default_payment_method
            self.description = description
            self.collection_method = "charge_automatically"
            self.pause_collection = None
            if self.status == "incomplete" and (
                self.trial_end is not None or self.trial_period_days is not None
            ):
                # localstripe leaves trials "incomplete"; Stripe says "trialing".
                now = int(time.time())
                self.trial_start = now
                if self.trial_end is None:
                    self.trial_end = now + self.trial_period_days * 86400
                self._period_end_override = self.trial_end
                self.status = "trialing"
            if cancel_at_period_end is True:
                self.cancel_at_period_end = True
                self.cancel_at = self.current_period_end
                self.canceled_at = int(time.time())
            created = [e for e in held if e.type == "customer.subscription.created"]
            for event in created:
                event.data["object"] = self._export()
            # Stripe announces the subscription before its first invoice.
            held[:] = created + [e for e in held if e not in created]
    finally:
        if customer_obj is not None:
            customer_obj.invoice_settings["default_payment_method"] = saved_default
    self._announced = True


def _sub_update(
    self,
    metadata=None,
    items=None,
    cancel_at_period_end=None,
    proration_behavior=None,
    payment_behavior=None,
    default_payment_method=None,
    description=None,
    pause_collection=None,
    off_session=None,
    **data,
):
    allowed = {
        "trial_end",
        "default_tax_rates",
        "tax_percent",
        "plan",
        "quantity",
        "prorate",
        "proration_date",
        "cancel_at",
    }
    _reject_unknown({k: v for k, v in data.items() if k not in allowed})
    if self.status in ("canceled", "incomplete_expired") and (
        items is not None or cancel_at_period_end is not None
    ):
        raise _bad("A canceled subscription can only update its metadata.")
    if proration_behavior not in (None, "create_prorations", "none", "always_invoice"):
        raise _bad("Invalid proration_behavior", "proration_behavior")
    if proration_behavior == "none":
        data["prorate"] = False
    cancel_at_period_end = ls.try_convert_to_bool(cancel_at_period_end)
    if cancel_at_period_end is not None and type(cancel_at_period_end) is not bool:
        raise _bad("Invalid boolean", "cancel_at_period_end")
    new_metadata = _merge_metadata(self.metadata, metadata)
    if default_payment_method is not None:
        default_payment_method = ls.PaymentMethod._api_retrieve(default_payment_method).id
    if "cancel_at" in data and data["cancel_at"] == "":
        data.pop("cancel_at")
        self.cancel_at = None

    _orig_sub_update(
        self, items=_normalize_items(items), cancel_at_period_end=cancel_at_period_end, **data
    )

    self.metadata = new_metadata
    if cancel_at_period_end is True:
        self.cancel_at = self.current_period_end
        self.canceled_at = int(time.time())
    elif cancel_at_period_end is False:
        self.cancel_at = None
        self.canceled_at = None
    if default_payment_method is not None:
        self.default_payment_method = default_payment_method or None
    if description is not None:
        self.description = description or None
    if pause_collection is not None:
        self.pause_collection = pause_collection or None


@classmethod
def _sub_api_update(cls, id, **data):
    obj = cls._api_retrieve(id)
    before = obj._export()
    obj._updating = True
    try:
        obj._update(**data)
    finally:
        obj._updating = False
    changes = _previous_attributes(before, obj._export())
    if changes:
        emit("customer.subscription.updated", obj, changes)
    return obj


@classmethod
def _sub_api_delete(cls, id):
    obj = cls._api_retrieve(id)
    if obj.status == "canceled":
        return obj
    obj.canceled_at = int(time.time())
    obj.cancel_at_period_end = False
    obj.cancel_at = None
    return _orig_sub_delete(cls, id)


@classmethod
def _sub_api_list(
    cls,
    url,
    customer=None,
    status=None,
    price=None,
    plan=None,
    limit=None,
    starting_after=None,
    **kwargs,
):
    _reject_unknown(kwargs)
    if status is not None and status not in ("all", "ended", *SUBSCRIPTION_STATUSES):
        raise _bad(f"Invalid status: {status}", "status")
    li = _orig_sub_list(
        cls, url, customer=customer, status="all", limit=limit, starting_after=starting_after
    )
    subs = li._list
    if status is None:
        subs = [s for s in subs if s.status not in ("canceled", "incomplete_expired")]
    elif status == "ended":
        subs = [s for s in subs if s.status in ("canceled", "incomplete_expired")]
    elif status != "all":
        subs = [s for s in subs if s.status == status]
    if price or plan:
        subs = [s for s in subs if s.plan.id in (price, plan)]
    li._list = list(reversed(subs))
    return li


def _status_watcher(name: str):
    """Wraps a localstripe payment callback: a status it changes is announced."""
    original = getattr(ls.Subscription, name)

    def wrapper(self, *args, **kwargs):
        if not getattr(self, "_announced", False) or getattr(self, "_updating", False):
            return original(self, *args, **kwargs)
        before = self._export()
        result = original(self, *args, **kwargs)
        if self.status != "canceled":
            changes = _previous_attributes(before, self._export())
            if changes:
                emit("customer.subscription.updated", self, changes)
        return result

    return wrapper


def _current_period_end(self):
    override = getattr(self, "_period_end_override", None)
    return override if override is not None else self.items._list[0]._current_period()["end"]


def set_subscription_status(sub_id: str, status: str, current_period_end: Any = None) -> Any:
    """Test control: sets the status and announces it (`customer.subscription.updated`, or
    `customer.subscription.deleted` for `canceled`, as Stripe does when one ends)."""
    if status not in SUBSCRIPTION_STATUSES:
        raise _bad(f"Invalid status: {status!r}; one of {', '.join(SUBSCRIPTION_STATUSES)}")
    sub = ls.Subscription._api_retrieve(sub_id)
    before = sub._export()
    if current_period_end not in (None, ""):
        sub._period_end_override = _int(current_period_end, "current_period_end")
    now = int(time.time())
    sub.status = status
    if status == "canceled":
        sub.ended_at = now
        sub.canceled_at = sub.canceled_at or now
        emit("customer.subscription.deleted", sub)
    else:
        emit("customer.subscription.updated", sub, _previous_attributes(before, sub._export()))
    return sub


# --------------------------------------------------------------------------- invoices


_orig_invoice_finalize = ls.Invoice._finalize
_orig_invoice_paid = ls.Invoice._on_payment_success


def _invoice_finalize(self):
    _orig_invoice_finalize(self)
    emit("invoice.finalized", self)


def _invoice_paid(self):
    emit("invoice.paid", self)
    return _orig_invoice_paid(self)


def _line_price(self):
    plan = getattr(self, "plan", None)
    return _price_from_plan(plan) if plan is not None else None


# --------------------------------------------------------------------------- checkout


class CheckoutSession(ls.StripeObject):
    object = "checkout.session"
    _id_prefix = "cs_test_"

    def __init__(
        self,
        mode=None,
        customer=None,
        customer_email=None,
        line_items=None,
        client_reference_id=None,
        metadata=None,
        subscription_data=None,
        success_url=None,
        cancel_url=None,
        payment_method_types=None,
        allow_promotion_codes=None,
        billing_address_collection=None,
        locale=None,
        customer_update=None,
        customer_creation=None,
        automatic_tax=None,
        tax_id_collection=None,
        payment_method_collection=None,
        consent_collection=None,
        phone_number_collection=None,
        ui_mode=None,
        expires_at=None,
        currency=None,
        payment_intent_data=None,
        **kwargs,
    ):
        _reject_unknown(kwargs)
        if mode not in ("subscription", "payment"):
            raise _bad("mode must be one of subscription, payment (setup is not emulated)", "mode")
        if customer is not None and customer_email is not None:
            raise _bad("You may only specify one of these parameters: customer, customer_email.")
        if customer is not None and (
            not isinstance(customer, str) or ls.store.get("customer:" + customer) is None
        ):
            raise _missing("customer", str(customer), "customer")
        if not isinstance(line_items, list) or not line_items:
            raise _bad("Missing required param: line_items.", "line_items")
        items = []
        for index, item in enumerate(line_items):
            if not isinstance(item, dict) or not isinstance(item.get("price"), str):
                raise _bad(
                    "Missing required param: line_items[][price].", f"line_items[{index}][price]"
                )
            price = ls.store.get("price:" + item["price"])
            if price is None:
                raise _missing("price", item["price"], f"line_items[{index}][price]")
            quantity = _int(item.get("quantity", 1), f"line_items[{index}][quantity]", 1)
            items.append((price, quantity))
        recurring = [p for p, _ in items if p.type == "recurring"]
        if mode == "subscription":
            if len(items) != 1 or not recurring:
                raise _bad(
                    "The emulator supports exactly one recurring line item in subscription mode.",
                    "line_items",
                )
        elif recurring:
            raise _bad("You specified `payment` mode but passed a recurring price.", "line_items")
        if subscription_data is not None:
            if not isinstance(subscription_data, dict):
                raise _bad("Invalid subscription_data", "subscription_data")
            extra = set(subscription_data) - {"metadata", "trial_period_days", "description"}
            if extra:
                raise _bad(f"Received unknown parameter: subscription_data[{sorted(extra)[0]}]")
            if mode != "subscription":
                raise _bad("subscription_data is only for subscription mode", "subscription_data")
        subscription_data = dict(subscription_data or {})
        subscription_data["metadata"] = _merge_metadata({}, subscription_data.get("metadata"))
        if subscription_data.get("trial_period_days") is not None:
            subscription_data["trial_period_days"] = _int(
                subscription_data["trial_period_days"], "subscription_data[trial_period_days]", 1
            )

        super().__init__("cs_test_" + ls.random_id(40))
        amount = sum(p.unit_amount * q for p, q in items)
        self.allow_promotion_codes = ls.try_convert_to_bool(allow_promotion_codes)
        self.amount_subtotal = amount
        self.amount_total = amount
        self.cancel_url = cancel_url
        self.client_reference_id = client_reference_id
        self.currency = items[0][0].currency
        self.customer = customer
        self.customer_details = None
        self.customer_email = customer_email
        self.expires_at = _int(expires_at, "expires_at") if expires_at else self.created + 86400
        self.invoice = None
        self.locale = locale
        self.metadata = _merge_metadata({}, metadata)
        self.mode = mode
        self.payment_intent = None
        self.payment_method_types = payment_method_types or ["card"]
        self.payment_status = "unpaid"
        self.status = "open"
        self.subscription = None
        self.success_url = success_url
        self.ui_mode = ui_mode or "hosted"
        self.url = f"{PUBLIC_BASE}/checkout/{self.id}"
        self._items = [(p.id, q) for p, q in items]
        self._subscription_data = subscription_data

    def _line_items(self) -> dict[str, Any]:
        data = []
        for index, (price_id, quantity) in enumerate(self._items):
            price = Price._api_retrieve(price_id)
            product = ls.store.get("product:" + price.product)
            data.append(
                {
                    "id": f"li_{self.id[8:30]}{index}",
                    "object": "item",
                    "amount_discount": 0,
                    "amount_subtotal": price.unit_amount * quantity,
                    "amount_tax": 0,
                    "amount_total": price.unit_amount * quantity,
                    "currency": price.currency,
                    "description": product.name if product else None,
                    "price": price._export(),
                    "quantity": quantity,
                }
            )
        return {
            "object": "list",
            "data": data,
            "has_more": False,
            "url": f"/v1/checkout/sessions/{self.id}/line_items",
        }

    def _export(self, expand=None):
        expand = list(expand or [])
        with_lines = "line_items" in expand
        obj = super()._export(expand=[e for e in expand if e != "line_items"])
        if with_lines:
            obj["line_items"] = self._line_items()
        return obj

    @classmethod
    def _api_update(cls, id, **data):
        obj = cls._api_retrieve(id)
        _reject_unknown({k: v for k, v in data.items() if k != "metadata"})
        obj.metadata = _merge_metadata(obj.metadata, data.get("metadata"))
        return obj

    @classmethod
    def _api_delete(cls, id):
        raise UserError(405, "Method Not Allowed")

    @classmethod
    def _api_list_all(
        cls,
        url,
        customer=None,
        subscription=None,
        payment_intent=None,
        status=None,
        limit=None,
        starting_after=None,
        **kwargs,
    ):
        _reject_unknown(kwargs)
        li = super()._api_list_all(url, limit=limit, starting_after=starting_after)
        items = li._list
        for field, value in (
            ("customer", customer),
            ("subscription", subscription),
            ("payment_intent", payment_intent),
            ("status", status),
        ):
            if value is not None:
                items = [s for s in items if getattr(s, field) == value]
        li._list = list(reversed(items))
        return li

    @classmethod
    def _api_expire(cls, id, **kwargs):
        _reject_unknown(kwargs)
        obj = cls._api_retrieve(id)
        if obj.status != "open":
            raise _bad(f"Only open sessions can be expired; this one is {obj.status}.")
        obj.status = "expired"
        emit("checkout.session.expired", obj)
        return obj


def complete_session(session_id: str) -> CheckoutSession:
    """What paying on the hosted page does: a `pm_card_visa` payment method is attached to
    the customer (created from `customer_email` if the session had none) and made its default;
    in subscription mode the subscription is created for the price with
    `metadata = subscription_data.metadata` (events customer.subscription.created, invoice.*,
    payment_intent.succeeded); in payment mode a PaymentIntent is confirmed. Then the session
    is `complete`/`paid` and `checkout.session.completed` is sent."""
    session = CheckoutSession._api_retrieve(session_id)
    if session.status != "open":
        raise _bad(f"This Checkout Session is {session.status}, not open.")
    if session.customer is None:
        session.customer = ls.Customer(email=session.customer_email).id
    customer = ls.Customer._api_retrieve(session.customer)
    pm = ls.PaymentMethod._api_retrieve("pm_card_visa")
    ls.PaymentMethod._api_attach(pm.id, customer=customer.id)
    emit("payment_method.attached", pm)
    ls.Customer._api_update(
        customer.id,
        invoice_settings={**customer.invoice_settings, "default_payment_method": pm.id},
    )
    price_id, quantity = session._items[0]
    if session.mode == "subscription":
        data = session._subscription_data
        sub = ls.Subscription(
            customer=customer.id,
            items=[{"plan": price_id, "quantity": quantity}],
            metadata=dict(data.get("metadata") or {}),
            trial_period_days=data.get("trial_period_days"),
            description=data.get("description"),
        )
        session.subscription = sub.id
        session.invoice = sub.latest_invoice
        session.payment_status = "no_payment_required" if sub.status == "trialing" else "paid"
    else:
        pi = ls.PaymentIntent._api_create(
            amount=session.amount_total,
            currency=session.currency,
            customer=customer.id,
            payment_method=pm.id,
            metadata=dict(session.metadata),
            confirm=True,
        )
        session.payment_intent = pi.id
        session.payment_status = "paid"
    session.status = "complete"
    session.customer_details = {"email": customer.email, "name": customer.name}
    emit("checkout.session.completed", session)
    return session


# --------------------------------------------------------------------------- billing portal


class PortalSession(ls.StripeObject):
    object = "billing_portal.session"
    _id_prefix = "bps_"

    def __init__(
        self,
        customer=None,
        return_url=None,
        configuration=None,
        locale=None,
        flow_data=None,
        on_behalf_of=None,
        **kwargs,
    ):
        _reject_unknown(kwargs)
        if not isinstance(customer, str) or not customer:
            raise _bad("Missing required param: customer.", "customer")
        if ls.store.get("customer:" + customer) is None:
            raise _missing("customer", customer, "customer")
        super().__init__("bps_" + ls.random_id(24))
        self.configuration = configuration or "bpc_emulator"
        self.customer = customer
        self.flow = flow_data
        self.locale = locale
        self.on_behalf_of = on_behalf_of
        self.return_url = return_url
        self.url = f"{PUBLIC_BASE}/billing_portal/{self.id}"

    @classmethod
    def _api_retrieve(cls, id):
        raise UserError(404, "Unrecognized request URL")

    @classmethod
    def _api_list_all(cls, url, **kwargs):
        raise UserError(404, "Unrecognized request URL")


# --------------------------------------------------------------------------- HTTP layer

IDEMPOTENCY: dict[tuple[str, str], dict[str, Any]] = {}
_IN_FLIGHT: set[tuple[str, str]] = set()


def _idempotency_error(message: str, status: int) -> web.Response:
    body = {"error": {"type": "idempotency_error", "message": message}}
    return ls_server.json_response(body, status=status)


@web.middleware
async def idempotency_middleware(request: web.Request, handler):
    key = request.headers.get("Idempotency-Key")
    if request.method != "POST" or not key or not request.path.startswith("/v1/"):
        return await handler(request)
    scope = (request.headers.get("Authorization", ""), key)
    body = await request.read()
    fingerprint = hashlib.sha256(request.path.encode() + b"\0" + body).hexdigest()
    saved = IDEMPOTENCY.get(scope)
    if saved is not None:
        if saved["fingerprint"] != fingerprint:
            return _idempotency_error(
                "Keys for idempotent requests can only be used with the same parameters they "
                f"were first used with. Try using a key other than '{key}' if you meant to "
                "execute a different request.",
                400,
            )
        return web.Response(
            body=saved["body"],
            status=saved["status"],
            content_type="application/json",
            headers={"Idempotency-Key": key, "Idempotent-Replayed": "true"},
        )
    if scope in _IN_FLIGHT:
        return _idempotency_error(
            "There is currently another in-progress request using this Idempotency-Key.", 409
        )
    _IN_FLIGHT.add(scope)
    try:
        response = await handler(request)
    finally:
        _IN_FLIGHT.discard(scope)
    # Like Stripe: a request rejected before it ran (validation, auth) is not saved.
    if isinstance(response, web.Response) and response.status not in (400, 401, 409, 429):
        IDEMPOTENCY[scope] = {
            "fingerprint": fingerprint,
            "status": response.status,
            "body": response.body,
        }
        response.headers["Idempotency-Key"] = key
    return response


@web.middleware
async def stripe_errors_middleware(request: web.Request, handler):
    """Unknown URLs and crashes answer in Stripe's JSON error shape (the SDK expects it)."""
    try:
        return await handler(request)
    except (web.HTTPNotFound, web.HTTPMethodNotAllowed):
        body = {
            "error": {
                "type": "invalid_request_error",
                "message": f"Unrecognized request URL ({request.method}: {request.path}).",
            }
        }
        return ls_server.json_response(body, status=404)
    except web.HTTPException:
        raise
    except Exception as exc:
        logger.error(
            "emulator error on %s %s\n%s", request.method, request.path, traceback.format_exc()
        )
        body = {"error": {"type": "api_error", "message": f"Emulator error: {exc!r}"}}
        return ls_server.json_response(body, status=500)


# (subscription id, status) to set once the next subscription listing has been computed.
AFTER_NEXT_LISTING: deque[tuple[str, str]] = deque()


@web.middleware
async def after_listing_middleware(request: web.Request, handler):
    """A change that happens while a listing is on its way: the listing is computed first,
    then the status is set and its webhook delivered, and only then is the listing sent."""
    response = await handler(request)
    if request.method == "GET" and request.path == "/v1/subscriptions" and AFTER_NEXT_LISTING:
        sub_id, status = AFTER_NEXT_LISTING.popleft()
        set_subscription_status(sub_id, status)
        while DISPATCHER.pending:
            await asyncio.sleep(0.01)
    return response


async def test_status_after_next_listing(request: web.Request) -> web.Response:
    data = await _post_data(request)
    sub = ls.Subscription._api_retrieve(request.match_info["id"])
    if data.get("status") not in SUBSCRIPTION_STATUSES:
        raise _bad(f"Invalid status: {data.get('status')!r}")
    AFTER_NEXT_LISTING.append((sub.id, data["status"]))
    return ls_server.json_response({"queued": len(AFTER_NEXT_LISTING)})


@web.middleware
async def auth_unless_test_middleware(request: web.Request, handler):
    if request.path.startswith(TEST_PREFIXES):
        return await handler(request)
    return await ls_server.auth_middleware(request, handler)


async def _post_data(request: web.Request) -> dict[str, Any]:
    data = await ls_server.get_post_data(request) or {}
    return dict(data)


async def create_checkout_session(request: web.Request) -> web.Response:
    data = await _post_data(request)
    expand = data.pop("expand", None)
    return ls_server.json_response(CheckoutSession._api_create(**data)._export(expand=expand))


async def list_checkout_line_items(request: web.Request) -> web.Response:
    session = CheckoutSession._api_retrieve(request.match_info["id"])
    return ls_server.json_response(session._line_items())


async def test_complete_checkout(request: web.Request) -> web.Response:
    await _post_data(request)
    return ls_server.json_response(complete_session(request.match_info["id"])._export())


async def test_subscription_status(request: web.Request) -> web.Response:
    data = await _post_data(request)
    sub = set_subscription_status(
        request.match_info["id"], data.get("status"), data.get("current_period_end")
    )
    return ls_server.json_response(sub._export())


def _webhook_state() -> dict[str, Any]:
    return {
        "paused": DISPATCHER.paused,
        "drop_next": DISPATCHER.drop_next,
        "pending": DISPATCHER.pending,
        "webhooks": sorted(ls_webhooks._webhooks),
        "log": DISPATCHER.log,
    }


async def test_webhooks_pause(request: web.Request) -> web.Response:
    data = await _post_data(request)
    count = data.get("count")
    if count in (None, ""):
        DISPATCHER.paused = True
    else:
        DISPATCHER.drop_next = _int(count, "count", 1)
    return ls_server.json_response(_webhook_state())


async def test_webhooks_resume(request: web.Request) -> web.Response:
    DISPATCHER.paused = False
    DISPATCHER.drop_next = 0
    return ls_server.json_response(_webhook_state())


async def test_webhooks_state(request: web.Request) -> web.Response:
    return ls_server.json_response(_webhook_state())


async def test_health(request: web.Request) -> web.Response:
    return ls_server.json_response({"ok": True, "base_url": PUBLIC_BASE})


async def test_reset(request: web.Request) -> web.Response:
    ls.store.clear()
    IDEMPOTENCY.clear()
    AFTER_NEXT_LISTING.clear()
    DISPATCHER.reset()
    return ls_server.json_response({"ok": True})


async def config_webhook_delete(request: web.Request) -> web.Response:
    ls_webhooks._webhooks.pop(request.match_info["id"], None)
    return web.Response()


def _page(title: str, body: str) -> web.Response:
    return web.Response(
        text=f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
        f"</title></head><body><h1>{html.escape(title)}</h1>{body}</body></html>",
        content_type="text/html",
    )


async def checkout_page(request: web.Request) -> web.Response:
    session = CheckoutSession._api_retrieve(request.match_info["id"])
    lines = "".join(
        f"<li>{html.escape(item['description'] or '')} x {item['quantity']}: "
        f"{item['amount_total']} {html.escape(item['currency'])}</li>"
        for item in session._line_items()["data"]
    )
    form = (
        "<form method='post'><button type='submit'>Pay (pm_card_visa)</button></form>"
        if session.status == "open"
        else f"<p>Status: {html.escape(session.status)}</p>"
    )
    return _page(f"Emulated Stripe Checkout {session.id}", f"<ul>{lines}</ul>{form}")


async def checkout_page_pay(request: web.Request) -> web.Response:
    session = complete_session(request.match_info["id"])
    target = (session.success_url or "/").replace("{CHECKOUT_SESSION_ID}", session.id)
    raise web.HTTPSeeOther(target)


async def portal_page(request: web.Request) -> web.Response:
    key = "billing_portal.session:" + request.match_info["id"]
    portal = ls.store.get(key)
    if portal is None:
        raise web.HTTPNotFound()
    back = html.escape(portal.return_url or "")
    return _page(
        f"Emulated billing portal for {portal.customer}",
        f"<p><a href='{back}'>Return</a></p>",
    )


_INSTALLED = False


def install(webhook_delay: float = 1.0) -> web.Application:
    """Patches localstripe in this process and returns its (extended) aiohttp app."""
    global _INSTALLED
    DISPATCHER.delay = webhook_delay
    if _INSTALLED:
        return ls_server.app
    _INSTALLED = True

    # State in memory only: never read or write /tmp/localstripe.pickle.
    ls.Store.dump_to_disk = lambda self: None
    ls.Store.try_load_from_disk = lambda self: None

    # Stripe-style "No such customer: 'cus_x'" (code resource_missing) instead of "Not Found".
    def _retrieve(cls, id):
        obj = ls.store.get(cls.object + ":" + str(id))
        if obj is None:
            raise _missing(cls.object, str(id), "id")
        return obj

    ls.StripeObject._api_retrieve = classmethod(_retrieve)

    # Ordered, pausable webhook delivery (localstripe imported the function by name).
    ls.schedule_webhook = DISPATCHER.schedule
    ls_webhooks.schedule_webhook = DISPATCHER.schedule

    ls.Subscription.__init__ = _sub_init
    ls.Subscription._update = _sub_update
    ls.Subscription._api_update = _sub_api_update
    ls.Subscription._api_delete = _sub_api_delete
    ls.Subscription._api_list_all = _sub_api_list
    ls.Subscription.current_period_end = property(_current_period_end)
    ls.Subscription.currency = property(lambda self: self.plan.currency)
    for name in (
        "_on_initial_payment_success",
        "_on_recurring_payment_failure",
        "_on_initial_payment_voided",
    ):
        setattr(ls.Subscription, name, _status_watcher(name))
    ls.SubscriptionItem.price = property(lambda self: _price_from_plan(self.plan))
    ls.SubscriptionItem.subscription = property(lambda self: self._subscription)
    ls.SubscriptionItem.current_period_start = property(
        lambda self: (
            ls.Subscription._api_retrieve(self._subscription).current_period_start
            if self._subscription
            else self._current_period()["start"]
        )
    )
    ls.SubscriptionItem.current_period_end = property(
        lambda self: (
            ls.Subscription._api_retrieve(self._subscription).current_period_end
            if self._subscription
            else self._current_period()["end"]
        )
    )
    ls.InvoiceLineItem.price = property(_line_price)
    ls.Invoice._finalize = _invoice_finalize
    ls.Invoice._on_payment_success = _invoice_paid

    _orig_event_list = ls.Event._api_list_all.__func__

    def _event_list(cls, url, **kwargs):
        li = _orig_event_list(cls, url, **kwargs)
        li._list = list(reversed(li._list))
        return li

    ls.Event._api_list_all = classmethod(_event_list)

    app = ls_server.app
    middlewares = app.middlewares
    middlewares[middlewares.index(ls_server.auth_middleware)] = auth_unless_test_middleware
    middlewares.insert(0, idempotency_middleware)
    middlewares.insert(0, after_listing_middleware)
    middlewares.insert(0, stripe_errors_middleware)

    add = app.router.add_route
    for method, url, factory in (
        ("POST", "/v1/prices", ls_server.api_create),
        ("GET", "/v1/prices/{id}", ls_server.api_retrieve),
        ("POST", "/v1/prices/{id}", ls_server.api_update),
        ("GET", "/v1/prices", ls_server.api_list_all),
    ):
        add(method, url, factory(Price, url))
    add("POST", "/v1/checkout/sessions", create_checkout_session)
    add(
        "GET",
        "/v1/checkout/sessions",
        ls_server.api_list_all(CheckoutSession, "/v1/checkout/sessions"),
    )
    add("GET", "/v1/checkout/sessions/{id}/line_items", list_checkout_line_items)
    add(
        "POST",
        "/v1/checkout/sessions/{id}/expire",
        ls_server.api_extra(CheckoutSession._api_expire, None),
    )
    add("GET", "/v1/checkout/sessions/{id}", ls_server.api_retrieve(CheckoutSession, None))
    add("POST", "/v1/checkout/sessions/{id}", ls_server.api_update(CheckoutSession, None))
    add("POST", "/v1/billing_portal/sessions", ls_server.api_create(PortalSession, None))

    add("GET", "/_test/health", test_health)
    add("POST", "/_test/reset", test_reset)
    add("POST", "/_test/checkout/sessions/{id}/complete", test_complete_checkout)
    add("POST", "/_test/subscriptions/{id}/status", test_subscription_status)
    add(
        "POST",
        "/_test/subscriptions/{id}/status_after_next_listing",
        test_status_after_next_listing,
    )
    add("POST", "/_test/webhooks/pause", test_webhooks_pause)
    add("POST", "/_test/webhooks/resume", test_webhooks_resume)
    add("GET", "/_test/webhooks", test_webhooks_state)
    add("DELETE", "/_config/webhooks/{id}", config_webhook_delete)
    add("GET", "/checkout/{id}", checkout_page)
    add("POST", "/checkout/{id}", checkout_page_pay)
    add("GET", "/billing_portal/{id}", portal_page)

    app.on_startup.append(DISPATCHER.start)
    app.on_cleanup.append(DISPATCHER.stop)
    return app


def main(argv: list[str] | None = None) -> None:
    global PUBLIC_BASE
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8420, help="0 picks a free port")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--webhook-delay",
        type=float,
        default=1.0,
        help="seconds between an event and its delivery (default 1.0)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request")
    # Accepted for compatibility with localstripe's command line; state is always fresh.
    parser.add_argument("--from-scratch", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        stream=sys.stderr,
        format="%(asctime)s %(name)s %(message)s",
    )
    app = install(webhook_delay=args.webhook_delay)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    PUBLIC_BASE = f"http://{args.host}:{sock.getsockname()[1]}"

    async def announce(app: web.Application) -> None:
        print(f"stripe-emulator listening on {PUBLIC_BASE}", flush=True)

    app.on_startup.append(announce)
    access_log = logging.getLogger("aiohttp.access") if args.verbose else None
    web.run_app(app, sock=sock, print=None, access_log=access_log)


if __name__ == "__main__":
    main()
