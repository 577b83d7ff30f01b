"""The app served over real HTTP by uvicorn in a thread, for peers that call us back."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn
from fastapi import FastAPI

from app.main import create_app
from tests.support.ports import free_port


@contextmanager
def live_server(app: FastAPI | None = None) -> Iterator[str]:
    """Serves `app` (a new one by default) until the block ends; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app or create_app(), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.05)
    else:
        raise RuntimeError("live server did not start")
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)
