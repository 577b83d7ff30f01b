"""Generations through Redis (app.generation_relay), in one process: what a worker keeps
stands only while its subscription is live and has heard no bump.

A Redis of the test's own (`redis-server` on a free port, stopped by its PID) plays the
outage; the shared Redis at 127.0.0.1:6379 the rest, on a channel unique to the test.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from redis import Redis
from redis.exceptions import RedisError

from app import generation_relay
from app.config import get_settings
from app.generation import (
    GenerationCache,
    Kept,
    bump_generation_of,
    current_generation_of,
    generation_feed,
)
from app.generation_relay import Feed, start_listening, stop_listening
from tests.support.ports import free_port
from tests.support.statements import statements

REDIS_URL = "redis://127.0.0.1:6379/0"
NAME = ".folio-test-generation"
WAIT_SECONDS = 10
REDIS_SERVER = shutil.which("redis-server")


def wait_until(condition: Callable[[], bool], seconds: float = WAIT_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.01)


def listening(feed: Feed) -> bool:
    listener = generation_relay._listeners.get(feed)
    return listener is not None and listener.live


def kept_reads(kept_under: Callable[[], Kept], times: int = 3) -> int:
    """How many of `times` requests, each with its own generation, went to the source."""
    reads = 0

    def read() -> str:
        nonlocal reads
        reads += 1
        return "an answer"

    for _ in range(times):
        kept_under().get("key", read)
    return reads


def use_redis(monkeypatch: pytest.MonkeyPatch, url: str) -> Feed:
    monkeypatch.setenv("FOLIO_REDIS_URL", url)
    monkeypatch.setenv("FOLIO_GENERATION_CHANNEL", f"folio-test-{uuid.uuid4().hex[:12]}")
    get_settings.cache_clear()
    feed = generation_feed(get_settings())
    assert feed is not None
    return feed


@pytest.fixture
def shared_redis(monkeypatch: pytest.MonkeyPatch) -> Iterator[Feed]:
    try:
        Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except RedisError as exc:
        pytest.skip(f"no Redis at {REDIS_URL}: {exc}")
    feed = use_redis(monkeypatch, REDIS_URL)
    start_listening(feed)
    try:
        wait_until(lambda: listening(feed))
        yield feed
    finally:
        stop_listening(feed)
        get_settings.cache_clear()
    assert not [t for t in threading.enumerate() if t.name == "folio-generation-listener"]


def test_without_redis_a_generation_is_the_file_alone():
    before = current_generation_of(NAME)
    assert len(before) == 3 and current_generation_of(NAME) == before
    bump_generation_of(NAME)
    assert current_generation_of(NAME) != before


def test_a_live_subscription_keeps_answers_until_a_bump_is_heard(shared_redis: Feed):
    cache = GenerationCache()

    def kept() -> Kept:
        return Kept(cache, current_generation_of(NAME))

    assert kept_reads(kept) == 1
    # Another host's write: its file is not ours, only the message reaches this process.
    before = current_generation_of(NAME)
    Redis.from_url(REDIS_URL).publish(shared_redis[1], NAME)
    wait_until(lambda: current_generation_of(NAME) != before)
    assert kept_reads(kept) == 1
    # A message about another generation leaves this one standing.
    Redis.from_url(REDIS_URL).publish(shared_redis[1], ".folio-another-generation")
    time.sleep(0.2)
    assert kept_reads(kept) == 0


def test_a_bump_in_one_process_is_published_for_the_others(shared_redis: Feed):
    other_host = Redis.from_url(REDIS_URL).pubsub(ignore_subscribe_messages=True)
    other_host.subscribe(shared_redis[1])
    try:
        bump_generation_of(NAME)
        heard = [other_host.get_message(timeout=1) for _ in range(3)]
    finally:
        other_host.close()
    assert [m["data"] for m in heard if m is not None] == [NAME.encode()]


def test_a_process_whose_subscription_is_down_serves_nothing_it_kept(
    monkeypatch: pytest.MonkeyPatch,
):
    feed = use_redis(monkeypatch, f"redis://127.0.0.1:{free_port()}/0")  # nothing listens
    cache = GenerationCache()
    start_listening(feed)
    try:
        time.sleep(0.3)  # a connection refused at once, and retried
        assert not listening(feed)
        assert kept_reads(lambda: Kept(cache, current_generation_of(NAME))) == 3
    finally:
        stop_listening(feed)


def test_an_app_whose_subscription_is_down_reads_the_database_every_time(
    client_with, publish, monkeypatch: pytest.MonkeyPatch
):
    slug = publish(slug="unheard", body="The lead.\n\n<!-- paywall -->\n\nThe rest.")["slug"]
    nowhere = f"redis://127.0.0.1:{free_port()}/0"
    worker = client_with(redis_url=nowhere, generation_channel=f"folio-test-{uuid.uuid4().hex}")
    for _ in range(3):
        with statements() as sent:
            assert worker.get(f"/api/v1/reports/{slug}").json()["access"] == "preview"
        assert sent, "an anonymous preview read from the database"


def test_a_lost_subscription_serves_nothing_kept_and_stales_everything_once_heard_again(
    shared_redis: Feed,
):
    cache = GenerationCache()

    def kept() -> Kept:
        return Kept(cache, current_generation_of(NAME))

    assert kept_reads(kept) == 1
    redis = Redis.from_url(REDIS_URL)
    ours = [c for c in redis.client_list() if c["name"] == generation_relay.client_name()]
    assert len(ours) == 1
    redis.client_kill_filter(_id=ours[0]["id"])
    wait_until(lambda: not listening(shared_redis), seconds=2)
    assert kept_reads(kept) == 3
    wait_until(lambda: listening(shared_redis))
    # What was published while it was not subscribed is unknown: nothing kept before stands.
    assert kept_reads(kept) == 1


class OwnRedis:
    """A `redis-server` of this test's own on a free port, started and stopped by its PID."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(
            [str(REDIS_SERVER), "--port", str(self.port), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        redis = Redis(port=self.port)
        wait_until(lambda: _answers(redis))
        redis.close()

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None


def _answers(redis: Redis) -> bool:
    try:
        return bool(redis.ping())
    except RedisError:
        return False


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed")
    server = OwnRedis()
    try:
        yield server
    finally:
        server.stop()


def test_a_write_while_redis_is_away_stands_and_is_published_once_it_is_back(
    own_redis: OwnRedis, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    feed = use_redis(monkeypatch, own_redis.url)  # not started yet: Redis is away
    before = current_generation_of(NAME)
    with caplog.at_level(logging.ERROR, logger="folio"):
        bump_generation_of(NAME)  # must not fail: the write it follows is committed
    assert current_generation_of(NAME)[:3] != before[:3]  # this host's file moved
    assert any("not published" in r.getMessage() for r in caplog.records)

    own_redis.start()
    other_host = Redis.from_url(own_redis.url).pubsub(ignore_subscribe_messages=True)
    other_host.subscribe(feed[1])
    start_listening(feed)  # this process's listener publishes what it could not
    try:
        heard = None
        deadline = time.monotonic() + WAIT_SECONDS
        while heard is None and time.monotonic() < deadline:
            heard = other_host.get_message(timeout=0.1)
        assert heard is not None and heard["data"] == NAME.encode()
    finally:
        stop_listening(feed)
        other_host.close()
