"""Start the Stripe emulator (`tests.support.stripe_emulator`) for a test, and catch its webhooks.

    handle = start_stripe_emulator()          # or: with start_stripe_emulator() as handle:
    handle.base_url                           # "http://127.0.0.1:<free port>"
    client = handle.client()                  # stripe.StripeClient pointed at it
    ...
    handle.stop()

Pointing the official SDK (stripe-python 16.1) at it; plain http on loopback works, any key
that starts with ``sk_`` is accepted:

    client = stripe.StripeClient("sk_test_folio", base_addresses={"api": handle.base_url})
    client.v1.customers.create(params={"email": "reader@example.org"})

or module-level (process-wide, so restore it after the test, e.g. with ``monkeypatch``):

    stripe.api_key = "sk_test_folio"
    stripe.api_base = handle.base_url
    stripe.Customer.create(email="reader@example.org")

Test controls on the handle (plain httpx calls to the emulator's ``/_test`` and ``/_config``
endpoints): ``register_webhook(url, secret, name="folio", events=None)``,
``unregister_webhook(name)``, ``complete_checkout(session_id)``,
``set_subscription_status(sub_id, status, current_period_end=None)``,
``set_status_after_next_listing(sub_id, status)``,
``pause_webhooks(count=None)`` (no count: every event is dropped until resumed; a count: only
the next N), ``resume_webhooks()``, ``webhook_state()``, ``wait_for_webhooks(timeout)``
(until nothing is queued or being sent), ``reset()`` (forget all objects).

`WebhookInbox(secret)` is a tiny webhook receiver on a free loopback port (a thread) that
verifies each delivery with ``stripe.Webhook.construct_event``; ``inbox.wait_for(type, ...)``.
The `stripe_emulator` fixture (module scope) is a ready-made handle; to use it, re-export it
from a conftest (``from tests.support.stripe_fixtures import stripe_emulator  # noqa: F401``)
or write a fixture of your own around `start_stripe_emulator()`.
"""

from __future__ import annotations

import atexit
import contextlib
import http.server
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe

from tests.support.ports import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
API_KEY = "sk_test_folio_emulator"


class EmulatorError(RuntimeError):
    pass


class EmulatorHandle:
    api_key = API_KEY

    def __init__(self, process: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
        self.process = process
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self._http = httpx.Client(base_url=self.base_url, timeout=10)

    # -- SDK -------------------------------------------------------------------------------

    def client(self, api_key: str | None = None, **kwargs: Any) -> stripe.StripeClient:
        """A `stripe.StripeClient` that talks to the emulator."""
        return stripe.StripeClient(
            api_key or self.api_key, base_addresses={"api": self.base_url}, **kwargs
        )

    # -- controls --------------------------------------------------------------------------

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self._http.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise EmulatorError(f"{method} {path}: {response.status_code} {response.text}")
        return response

    def register_webhook(
        self, url: str, secret: str, name: str = "folio", events: list[str] | None = None
    ) -> None:
        """Every event (or only `events`) is POSTed to `url`, signed with `secret`."""
        body: dict[str, Any] = {"url": url, "secret": secret}
        if events is not None:
            body["events"] = events
        self._call("POST", f"/_config/webhooks/{name}", json=body)

    def unregister_webhook(self, name: str = "folio") -> None:
        self._call("DELETE", f"/_config/webhooks/{name}")

    def complete_checkout(self, session_id: str) -> dict[str, Any]:
        """Pays a Checkout Session as the hosted page would; returns the completed session."""
        return self._call("POST", f"/_test/checkout/sessions/{session_id}/complete").json()

    def set_subscription_status(
        self, sub_id: str, status: str, current_period_end: int | None = None
    ) -> dict[str, Any]:
        """Sets the status; sends customer.subscription.updated (.deleted for "canceled")."""
        body: dict[str, Any] = {"status": status}
        if current_period_end is not None:
            body["current_period_end"] = current_period_end
        return self._call("POST", f"/_test/subscriptions/{sub_id}/status", json=body).json()

    def set_status_after_next_listing(self, sub_id: str, status: str) -> None:
        """Once the next subscription listing is computed, sets the status and delivers its
        webhook, then sends the listing: a listing that is stale when it arrives."""
        path = f"/_test/subscriptions/{sub_id}/status_after_next_listing"
        self._call("POST", path, json={"status": status})

    def pause_webhooks(self, count: int | None = None) -> dict[str, Any]:
        """Drops the next `count` events, or (no count) every event until `resume_webhooks`.
        Dropped events are still listed by GET /v1/events, as in Stripe."""
        body = {} if count is None else {"count": count}
        return self._call("POST", "/_test/webhooks/pause", json=body).json()

    def resume_webhooks(self) -> dict[str, Any]:
        return self._call("POST", "/_test/webhooks/resume").json()

    def webhook_state(self) -> dict[str, Any]:
        """{paused, drop_next, pending, webhooks, log: [{id, type, result, ...}]}"""
        return self._call("GET", "/_test/webhooks").json()

    def wait_for_webhooks(self, timeout: float = 10.0) -> None:
        """Waits until every event sent so far has been delivered (or dropped)."""
        deadline = time.monotonic() + timeout
        while self.webhook_state()["pending"]:
            if time.monotonic() > deadline:
                raise TimeoutError(f"webhooks still pending after {timeout:.1f}s")
            time.sleep(0.02)

    def reset(self) -> None:
        self._call("POST", "/_test/reset")

    # -- lifecycle -------------------------------------------------------------------------

    def log(self) -> str:
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace")
        return ""

    def stop(self) -> None:
        self._http.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        with contextlib.suppress(OSError):
            self.log_path.unlink()
        atexit.unregister(self.stop)

    def __enter__(self) -> EmulatorHandle:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _launch(port: int, webhook_delay: float, timeout: float) -> EmulatorHandle:
    fd, log_name = tempfile.mkstemp(prefix="stripe-emulator-", suffix=".log")
    log_path = Path(log_name)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "tests.support.stripe_emulator", "--port", str(port)]
    command += ["--webhook-delay", str(webhook_delay)]
    with os.fdopen(fd, "wb") as log_file:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
    handle = EmulatorHandle(process, port, log_path)
    atexit.register(handle.stop)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = handle.log()
            handle.stop()
            raise EmulatorError(f"stripe emulator exited ({process.returncode}):\n{log}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{handle.base_url}/_test/health", timeout=0.5).status_code == 200:
                return handle
        time.sleep(0.05)
    log = handle.log()
    handle.stop()
    raise EmulatorError(f"stripe emulator did not answer within {timeout:.0f}s:\n{log}")


def start_stripe_emulator(webhook_delay: float = 0.1, timeout: float = 15.0) -> EmulatorHandle:
    """Starts `python -m tests.support.stripe_emulator` on a free loopback port (cwd = repo
    root) and waits until it answers. Webhooks go out `webhook_delay` s after their event."""
    for attempt in range(3):
        try:
            return _launch(free_port(), webhook_delay, timeout)
        except EmulatorError as exc:  # another process took the port in between: retry
            if attempt == 2 or "Address already in use" not in str(exc):
                raise
    raise AssertionError("unreachable")


@pytest.fixture(scope="module")
def stripe_emulator() -> Iterator[EmulatorHandle]:
    with start_stripe_emulator() as handle:
        yield handle


class WebhookInbox:
    """Receives webhooks on http://127.0.0.1:<free port>/ and keeps the verified events."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.events: list[stripe.Event] = []
        self.raw: list[tuple[bytes, str]] = []  # (payload, Stripe-Signature) as received
        self.rejected: list[str] = []  # deliveries whose signature did not verify
        self._condition = threading.Condition()
        inbox = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                payload = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                signature = self.headers.get("Stripe-Signature", "")
                try:
                    event = stripe.Webhook.construct_event(payload, signature, inbox.secret)
                except (ValueError, stripe.SignatureVerificationError) as exc:
                    with inbox._condition:
                        inbox.rejected.append(repr(exc))
                        inbox._condition.notify_all()
                    self.send_response(400)
                    self.end_headers()
                    return
                with inbox._condition:
                    inbox.raw.append((payload, signature))
                    inbox.events.append(event)
                    inbox._condition.notify_all()
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/webhooks/stripe"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def wait_for(
        self,
        type: str,
        predicate: Callable[[stripe.Event], bool] | None = None,
        timeout: float = 10.0,
    ) -> stripe.Event:
        """The first received event of this type (matching `predicate`), waiting if needed."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while True:
                for event in self.events:
                    if event.type == type and (predicate is None or predicate(event)):
                        return event
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [e.type for e in self.events]
                    raise TimeoutError(f"no {type} webhook within {timeout}s; got {seen}")
                self._condition.wait(remaining)

    def of_type(self, type: str) -> list[stripe.Event]:
        with self._condition:
            return [e for e in self.events if e.type == type]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def sell_monthly_at_emulator(
    client: Any, admin_headers: dict[str, str], tier: str, emulator: EmulatorHandle, api_key: str
) -> None:
    """Gives `tier` a 19 USD monthly price that exists at the emulator (through the admin API)."""
    price = emulator.client(api_key).v1.prices.create(
        params={
            "unit_amount": 1900,
            "currency": "usd",
            "recurring": {"interval": "month"},
            "product_data": {"name": "Threat Pro"},
        }
    )
    monthly = {"interval": "month", "amount": 1900, "currency": "usd", "stripe_price_id": price.id}
    response = client.patch(
        f"/api/v1/admin/tiers/{tier}", headers=admin_headers, json={"prices": [monthly]}
    )
    assert response.status_code == 200, response.text
