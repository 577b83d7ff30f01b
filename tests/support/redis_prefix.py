"""A real Redis for the tests that share state through it, under a key prefix of the test's
own (so parallel tests never meet), its keys removed afterwards; skipped without Redis."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from redis import Redis
from redis.exceptions import RedisError

REDIS_URL = os.environ.get("FOLIO_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@contextmanager
def redis_prefix() -> Iterator[str]:
    """A fresh prefix (`folio-test-…`) for throttle keys and pub/sub channels."""
    redis = Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        redis.ping()
    except RedisError as exc:
        pytest.skip(f"no Redis at {REDIS_URL} (set FOLIO_TEST_REDIS_URL): {exc}")
    prefix = f"folio-test-{uuid.uuid4().hex[:12]}"
    try:
        yield prefix
    finally:
        keys = list(redis.scan_iter(f"{prefix}*"))
        if keys:
            redis.delete(*keys)
        redis.close()
