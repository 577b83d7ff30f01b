"""Faults at the Stripe API's edge: a proxy in front of the emulator that records what
Folio sends (the Idempotency-Key of each call) and can be switched, while Folio runs, to
a Stripe that is down (its port refuses connections), one that hangs (accepts and never
answers), one that is slow, or one whose answer is lost after the call reached it.

Point FOLIO_STRIPE_API_BASE at `edge.base`; the address stays the same in every mode.
"""

from __future__ import annotations

import http.server
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

import httpx

from tests.support.ports import free_port

HANG_SECONDS = 60  # longer than any timeout under test; released when the mode changes


@dataclass
class Recorded:
    method: str
    path: str
    idempotency_key: str | None
    status: int | None  # None: no answer reached Folio (dropped or hung)


@dataclass
class StripeEdge:
    upstream: str
    port: int = field(default_factory=free_port)
    delay: float = 0.0
    drop_first: set[str] = field(default_factory=set)
    requests: list[Recorded] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _released: threading.Event = field(default_factory=threading.Event)
    _hanging: bool = False
    _server: http.server.ThreadingHTTPServer | None = None
    _client: httpx.Client | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- modes --------------------------------------------------------------------------

    def forward(self, *, delay: float = 0.0, drop_first: set[str] | None = None) -> None:
        """Every call reaches the emulator (after `delay`); the first POST to each path in
        `drop_first` reaches it too, but its answer is lost (the connection is cut)."""
        self._released.set()
        self._hanging = False
        self.delay = delay
        self.drop_first = set(drop_first or ())
        self._listen()

    def hang(self) -> None:
        """Connections are accepted, requests read, and nothing ever answered."""
        self._released.clear()
        self._hanging = True
        self._listen()

    def down(self) -> None:
        """Nothing listens on the port: every connection is refused."""
        self._released.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def posts(self, path: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.method == "POST" and r.path == path]

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()

    # -- plumbing -----------------------------------------------------------------------

    def _listen(self) -> None:
        if self._server is not None:
            return
        http.server.ThreadingHTTPServer.allow_reuse_address = True
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), _Handler)
        self._server.daemon_threads = True
        self._server.edge = self  # type: ignore[attr-defined]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def _record(self, entry: Recorded) -> None:
        with self._lock:
            self.requests.append(entry)

    def _take_drop(self, method: str, path: str) -> bool:
        with self._lock:
            if method == "POST" and path in self.drop_first:
                self.drop_first.discard(path)
                return True
            return False

    def close(self) -> None:
        self.down()
        if self._client is not None:
            self._client.close()


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _forward(self) -> None:
        edge: StripeEdge = self.server.edge  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length", "0") or 0))
        path = self.path.split("?", 1)[0]
        key = self.headers.get("Idempotency-Key")
        if edge._hanging:
            edge._record(Recorded(self.command, path, key, None))
            edge._released.wait(HANG_SECONDS)
            self._cut()
            return
        if edge.delay:
            time.sleep(edge.delay)
        headers = {
            k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")
        }
        assert edge._client is not None
        answer = edge._client.request(self.command, self.path, content=body, headers=headers)
        if edge._take_drop(self.command, path):
            edge._record(Recorded(self.command, path, key, None))
            self._cut()
            return
        edge._record(Recorded(self.command, path, key, answer.status_code))
        self.send_response(answer.status_code)
        for name, value in answer.headers.items():
            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)

    do_GET = do_POST = do_DELETE = _forward  # noqa: N815

    def _cut(self) -> None:
        self.close_connection = True
        with suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def stripe_edge(upstream: str) -> Iterator[StripeEdge]:
    """A forwarding edge in front of `upstream` (the emulator's address)."""
    edge = StripeEdge(upstream)
    edge._client = httpx.Client(base_url=upstream, timeout=30)
    edge.forward()
    try:
        yield edge
    finally:
        edge.close()
