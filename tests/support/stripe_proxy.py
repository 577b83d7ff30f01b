"""Faults at the Stripe API's edge: a recording proxy, a port that refuses, a socket that
never answers. Point FOLIO_STRIPE_API_BASE at one of them instead of the emulator.
"""

from __future__ import annotations

import http.server
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx

from tests.support.ports import free_port


@dataclass
class Recorded:
    method: str
    path: str
    idempotency_key: str | None
    status: int | None  # None: the proxy dropped the connection instead of answering


@dataclass
class StripeProxy:
    """Forwards every request to `upstream`, recording it; `drop_first` names paths whose
    first POST is forwarded (so Stripe acts on it) but whose answer is lost, as when a
    connection breaks after the request reached Stripe; `delay` holds each request."""

    upstream: str
    base: str = ""
    drop_first: set[str] = field(default_factory=set)
    delay: float = 0.0
    requests: list[Recorded] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def posts(self, path: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.method == "POST" and r.path == path]

    def _record(self, entry: Recorded) -> None:
        with self._lock:
            self.requests.append(entry)

    def _take_drop(self, method: str, path: str) -> bool:
        with self._lock:
            if method == "POST" and path in self.drop_first:
                self.drop_first.discard(path)
                return True
            return False


def _handler(
    proxy: StripeProxy, upstream: httpx.Client
) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _forward(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0") or 0))
            path = self.path.split("?", 1)[0]
            if proxy.delay:
                time.sleep(proxy.delay)
            headers = {
                k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")
            }
            answer = upstream.request(self.command, self.path, content=body, headers=headers)
            key = self.headers.get("Idempotency-Key")
            if proxy._take_drop(self.command, path):
                proxy._record(Recorded(self.command, path, key, None))
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            proxy._record(Recorded(self.command, path, key, answer.status_code))
            self.send_response(answer.status_code)
            for name, value in answer.headers.items():
                if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.content)))
            self.end_headers()
            self.wfile.write(answer.content)

        do_GET = do_POST = do_DELETE = _forward  # noqa: N815

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def stripe_proxy(upstream: str, **options: object) -> Iterator[StripeProxy]:
    proxy = StripeProxy(upstream, **options)  # type: ignore[arg-type]
    with httpx.Client(base_url=upstream, timeout=30) as client:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(proxy, client))
        server.daemon_threads = True
        proxy.base = f"http://127.0.0.1:{server.server_address[1]}"
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield proxy
        finally:
            server.shutdown()
            server.server_close()


def refusing_address() -> str:
    """An address where nothing listens: every connection is refused at once."""
    return f"http://127.0.0.1:{free_port()}"


@contextmanager
def silent_stripe() -> Iterator[str]:
    """An address that accepts connections (the kernel's backlog does) and never answers:
    a Stripe that hangs."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
