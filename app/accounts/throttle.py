"""Throttling (R-S3) on `limits` moving windows: in process, or in Redis shared by workers.

Keys: login failures per account (the normalised email, hashed, whether or not an account
exists, so a lockout says nothing about existence) and per client IP; requests that send
email (register, password reset, magic link) per client IP. A locked account refuses even
the right password until its oldest counted failure leaves the window.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.errors import StorageError
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from app.accounts.tokens import hash_secret
from app.config import Settings
from app.errors import ServiceUnavailable, TooManyRequests, Unauthorized

UNKNOWN_IP = "unknown"
TOO_MANY_FAILURES = "Too many failed sign-in attempts. Try again later."
TOO_MANY_REQUESTS = "Too many requests. Try again later."


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

    def _refuse_if_spent(self, item: RateLimitItem, key: str, message: str) -> None:
        try:
            if self.limiter.test(item, key):
                return
            reset_at = self.limiter.get_window_stats(item, key).reset_time
        except StorageError as exc:
            raise ServiceUnavailable("Sign-in is unavailable for a moment; try again.") from exc
        raise TooManyRequests(message, retry_after=math.ceil(reset_at - time.time()))

    def _hit(self, item: RateLimitItem, key: str) -> bool:
        try:
            return self.limiter.hit(item, key)
        except StorageError as exc:
            raise ServiceUnavailable("Sign-in is unavailable for a moment; try again.") from exc

    def check_login(self, email: str | None, ip: str | None) -> None:
        if email is not None:
            self._refuse_if_spent(
                self.account_failures, self._account_key(email), TOO_MANY_FAILURES
            )
        self._refuse_if_spent(self.ip_failures, ip or UNKNOWN_IP, TOO_MANY_FAILURES)

    def record_login_failure(self, email: str | None, ip: str | None) -> None:
        if email is not None:
            self._hit(self.account_failures, self._account_key(email))
        self._hit(self.ip_failures, ip or UNKNOWN_IP)

    @contextmanager
    def login_attempt(self, email: str | None, ip: str | None) -> Iterator[None]:
        """Refuses a locked account or IP up front; counts the attempt if it fails (401).

        `email` is None for attempts that name no account (a magic link's token): those
        count against the IP only, so nobody can lock another reader out with them.
        """
        self.check_login(email, ip)
        try:
            yield
        except Unauthorized:
            self.record_login_failure(email, ip)
            raise

    def count_request(self, ip: str | None) -> None:
        """One email-sending request (register, reset, magic link) from this IP, or 429."""
        key = ip or UNKNOWN_IP
        if not self._hit(self.ip_requests, key):
            self._refuse_if_spent(self.ip_requests, key, TOO_MANY_REQUESTS)
            raise TooManyRequests(TOO_MANY_REQUESTS, retry_after=1)

    def clear(self) -> None:
        """Forgets every counter (tests, or an operator lifting a lockout by restarting)."""
        self.storage.reset()
