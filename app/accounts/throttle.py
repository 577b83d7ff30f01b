"""Throttling (R-S3) on `limits` moving windows: in process, or in Redis shared by workers.

Every attempt is counted before it is checked, and given back if it did not fail (R-S8).
Keys: login failures per account (the normalised email, hashed, whether or not an account
exists, so a lockout says nothing about existence) and per client IP; requests that send
email (register, password reset, magic link) per client IP. A locked account refuses even
the right password until its oldest counted failure leaves the window.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.errors import StorageError
from limits.storage import MemoryStorage, RedisStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from app.accounts.tokens import hash_secret
from app.config import Settings
from app.errors import ServiceUnavailable, TooManyRequests, Unauthorized

log = logging.getLogger(__name__)

UNKNOWN_IP = "unknown"
TOO_MANY_FAILURES = "Too many failed sign-in attempts. Try again later."
TOO_MANY_REQUESTS = "Too many requests. Try again later."
TOO_MANY_SEARCHES = "Too many searches. Try again in a moment."
# The counter store (Redis) is unreachable: refusing is the safe side, and it passes.
UNAVAILABLE = "This is unavailable for a moment; try again."


class Throttle:
    def __init__(self, storage: Storage, settings: Settings) -> None:
        self.storage = storage
        self.limiter = MovingWindowRateLimiter(storage)
        window = settings.throttle_window_seconds
        self.account_failures = RateLimitItemPerSecond(
            settings.login_failures_per_account, window, namespace="login-account"
        )
        self.ip_failures = RateLimitItemPerSecond(
            settings.login_failures_per_ip, window, namespace="login-ip"
        )
        self.ip_requests = RateLimitItemPerSecond(
            settings.account_requests_per_ip, window, namespace="account-requests-ip"
        )
        self.searches = RateLimitItemPerSecond(
            settings.search_requests_per_minute, 60, namespace="search"
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> Throttle:
        """Redis when FOLIO_REDIS_URL is set (shared across workers), else this process."""
        if settings.redis_url:
            storage = storage_from_string(
                settings.redis_url, key_prefix=settings.throttle_key_prefix, wrap_exceptions=True
            )
        else:
            storage = MemoryStorage()
        return cls(storage, settings)  # type: ignore[arg-type]

    @staticmethod
    def _account_key(email: str) -> str:
        # Hashed: the counter store (Redis) need not hold anyone's address.
        return hash_secret(email.strip().lower())

    def _refuse(self, item: RateLimitItem, key: str, message: str) -> NoReturn:
        try:
            reset_at = self.limiter.get_window_stats(item, key).reset_time
        except StorageError as exc:
            raise ServiceUnavailable(UNAVAILABLE) from exc
        raise TooManyRequests(message, retry_after=max(1, math.ceil(reset_at - time.time())))

    def _hit(self, item: RateLimitItem, key: str) -> bool:
        """Counts one entry, or False when the window is full: one atomic step (a lock in
        process, a Lua script in Redis), so concurrent attempts cannot all pass."""
        try:
            return self.limiter.hit(item, key)
        except StorageError as exc:
            raise ServiceUnavailable(UNAVAILABLE) from exc

    def _refund(self, item: RateLimitItem, key: str) -> None:
        """Gives back the newest entry of the window (an attempt that did not fail).
        `limits` has no such call: its moving windows are lists, newest first."""
        storage, full_key = self.storage, item.key_for(key)
        try:
            if isinstance(storage, RedisStorage):
                storage.get_connection().lpop(storage.prefixed_key(full_key))
            elif isinstance(storage, MemoryStorage):
                with storage.locks[full_key]:
                    if entries := storage.events.get(full_key):
                        entries.pop(0)
        except Exception:  # noqa: BLE001  (the entry stays counted: the safe side)
            log.warning("could not give back a throttle entry", exc_info=True)

    def _counters(self, email: str | None, ip: str | None) -> list[tuple[RateLimitItem, str]]:
        counters = [(self.ip_failures, ip or UNKNOWN_IP)]
        if email is not None:
            counters.insert(0, (self.account_failures, self._account_key(email)))
        return counters

    @contextmanager
    def login_attempt(
        self,
        email: str | None,
        ip: str | None,
        failure: type[Exception] = Unauthorized,
    ) -> Iterator[None]:
        """Counts the attempt against the account and the IP before it is checked, or
        refuses it (429); gives the count back unless the attempt fails with `failure`.
        Counting first is what keeps 35 concurrent guesses from all being checked.

        `email` is None for attempts that name no account (a magic link's token): those
        count against the IP only, so nobody can lock another reader out with them.
        """
        counted: list[tuple[RateLimitItem, str]] = []
        for item, key in self._counters(email, ip):
            if not self._hit(item, key):
                for spent in counted:
                    self._refund(*spent)
                self._refuse(item, key, TOO_MANY_FAILURES)
            counted.append((item, key))
        failed = False
        try:
            yield
        except failure:
            failed = True
            raise
        finally:
            if not failed:
                for spent in counted:
                    self._refund(*spent)

    def count_request(self, ip: str | None) -> None:
        """One email-sending request (register, reset, magic link) from this IP, or 429."""
        key = ip or UNKNOWN_IP
        if not self._hit(self.ip_requests, key):
            self._refuse(self.ip_requests, key, TOO_MANY_REQUESTS)

    def count_search(self, client_key: str) -> None:
        """One search by this client (`member:<id>` or `ip:<address>`), or 429."""
        if not self._hit(self.searches, client_key):
            self._refuse(self.searches, client_key, TOO_MANY_SEARCHES)

    def clear(self) -> None:
        """Forgets every counter (tests, or an operator lifting a lockout by restarting)."""
        self.storage.reset()
