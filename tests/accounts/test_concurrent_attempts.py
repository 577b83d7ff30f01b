"""R-S8: concurrent wrong passwords and codes are each counted; none slips past the cap.

A real uvicorn server, so the requests truly overlap (each on its own worker thread).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest
from sqlalchemy import select

from app.config import get_settings
from app.db import session_scope
from app.models import OneTimeToken
from tests.accounts.test_login import REDIS_URL, WRONG, _require_redis
from tests.support.app import create_user
from tests.support.live_server import live_server

VICTIM = "victim@example.org"


def _fire(base: str, count: int, send: Callable[[httpx.Client, int], httpx.Response]) -> list[int]:
    """`count` requests released together; their status codes."""
    barrier = threading.Barrier(count)
    statuses: list[int] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        with httpx.Client(base_url=base, timeout=60) as http:
            barrier.wait()
            status = send(http, i).status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(statuses) == count
    return statuses


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., str]]:
    """Starts the app under uvicorn with extra FOLIO_ settings; yields its base URL."""
    stack: list = []

    def start(**settings: object) -> str:
        for name, value in settings.items():
            monkeypatch.setenv(f"FOLIO_{name.upper()}", str(value))
        get_settings.cache_clear()
        context = live_server()
        stack.append(context)
        return context.__enter__()

    yield start
    for context in stack:
        context.__exit__(None, None, None)
    get_settings.cache_clear()


def _wrong_login(http: httpx.Client, _: int) -> httpx.Response:
    return http.post("/api/v1/auth/login", data={"username": VICTIM, "password": WRONG})


def test_35_concurrent_wrong_passwords_are_checked_at_most_5_times(server):
    create_user(VICTIM)
    statuses = _fire(server(), 35, _wrong_login)
    assert set(statuses) <= {401, 429}, statuses
    assert statuses.count(401) <= 5, statuses


def test_the_same_holds_with_the_redis_throttle(server):
    _require_redis()
    import redis

    create_user(VICTIM)
    prefix = f"folio-test-{uuid.uuid4().hex}"
    try:
        statuses = _fire(server(redis_url=REDIS_URL, throttle_key_prefix=prefix), 35, _wrong_login)
    finally:
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)
    assert set(statuses) <= {401, 429}, statuses
    assert statuses.count(401) <= 5, statuses


def test_30_concurrent_code_guesses_are_evaluated_at_most_5_times(server, mailbox):
    create_user(VICTIM)
    # The sign-in throttle would stop most guesses first: lift it to test the code's own cap.
    base = server(login_failures_per_account=1000, login_failures_per_ip=1000)
    assert httpx.post(f"{base}/api/v1/auth/magic-link", json={"email": VICTIM}).status_code == 202
    code = mailbox.code(to=VICTIM)
    wrong = [f"{(int(code) + 1 + i) % 1_000_000:06d}" for i in range(30)]

    def guess(http: httpx.Client, i: int) -> httpx.Response:
        return http.post(
            "/api/v1/auth/magic-link/confirm", json={"email": VICTIM, "code": wrong[i]}
        )

    assert _fire(base, 30, guess) == [401] * 30
    with session_scope(write=False) as session:
        attempts = session.execute(select(OneTimeToken.code_attempts)).scalar_one()
    assert attempts == 5  # each evaluated guess is counted, and only five were evaluated
    right = httpx.post(
        f"{base}/api/v1/auth/magic-link/confirm", json={"email": VICTIM, "code": code}
    )
    assert right.status_code == 401
