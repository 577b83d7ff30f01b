"""Access tokens (JWT via python-jose) and opaque secrets stored only as their hash."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from datetime import UTC, datetime, timedelta
from typing import Any

from jose import JWTError, jwt

from app.config import Settings
from app.errors import Unauthorized
from app.models.base import utcnow

ACCESS_TYPE = "access"
INVALID_TOKEN = "Invalid or expired token"  # noqa: S105  (a message)


class RecordedRefusal(Unauthorized):
    """A 401 whose writes must stand: a revoked token family, a spent code attempt.

    The request's session (app.deps.get_session) commits instead of rolling back when it
    sees `keep_writes`, so the refusal cannot be retried as if it had never happened.
    """

    keep_writes = True


def _signing_key(settings: Settings) -> str:
    if settings.jwt_algorithm == "RS256":
        return settings.jwt_private_key  # type: ignore[return-value]
    return settings.secret_key


def _verifying_key(settings: Settings) -> str:
    if settings.jwt_algorithm == "RS256":
        return settings.jwt_public_key  # type: ignore[return-value]
    return settings.secret_key


def issue_access_token(
    user_id: int, family: str, settings: Settings, now: datetime | None = None
) -> str:
    """`sid` names the refresh family (the session): logging it out ends this token too."""
    now = now or utcnow()
    claims = {
        "sub": str(user_id),
        "sid": family,
        # NumericDate with microseconds (RFC 7519 allows non-integers): a token issued in
        # the same second as a password change must still compare as older or newer.
        "iat": round(now.timestamp(), 6),
        "exp": int((now + timedelta(minutes=settings.access_token_minutes)).timestamp()),
        "type": ACCESS_TYPE,
        "jti": secrets.token_urlsafe(8),
    }
    return jwt.encode(claims, _signing_key(settings), algorithm=settings.jwt_algorithm)


def read_access_token(token: str, settings: Settings) -> tuple[int, datetime, str]:
    """(user id, issued at, session family) of a valid access token, or Unauthorized.

    A token's signature and claims are checked once per worker and kept until its `exp`
    (verified_tokens): they cannot change. Whether its session still stands (logged out,
    user disabled, password changed) is NOT kept: app.deps reads that on every request.
    """
    key = (token, settings.jwt_algorithm, _verifying_key(settings))
    now = time.time()
    kept = verified_tokens.get(key, now)
    if kept is not None:
        return kept
    claims, expires = _verify_access_token(token, settings)
    verified_tokens.put(key, claims, expires)
    return claims


class VerifiedTokens:
    """A small LRU of verified access tokens' claims, each until its expiry (thread-safe)."""

    def __init__(self, max_entries: int = 4096) -> None:
        self._entries: OrderedDict[Hashable, tuple[Any, float]] = OrderedDict()
        self._max = max_entries
        self._lock = threading.Lock()

    def get(self, key: Hashable, now: float) -> Any:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            if now >= found[1]:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return found[0]

    def put(self, key: Hashable, value: Any, expires: float) -> None:
        with self._lock:
            self._entries[key] = (value, expires)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


verified_tokens = VerifiedTokens()


def _verify_access_token(token: str, settings: Settings) -> tuple[tuple[int, datetime, str], float]:
    """The claims read_access_token returns, and the token's `exp` (a POSIX time).

    Only the configured algorithm is accepted (no `none`, no HS/RS confusion), and `exp`,
    `iat` and `sub` must be present (python-jose requires none of them by default).
    """
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            _verifying_key(settings),
            algorithms=[settings.jwt_algorithm],
            options={
                "require_exp": True,
                "require_iat": True,
                "require_sub": True,
                "verify_aud": False,
            },
        )
    except (JWTError, TypeError, ValueError) as exc:
        raise Unauthorized(INVALID_TOKEN) from exc
    family = claims.get("sid")
    if claims.get("type") != ACCESS_TYPE or not isinstance(family, str):
        raise Unauthorized(INVALID_TOKEN)
    try:
        user_id = int(claims["sub"])
        issued_at = datetime.fromtimestamp(float(claims["iat"]), tz=UTC)
        expires = float(claims["exp"])
    except (TypeError, ValueError, OverflowError, OSError) as exc:
        raise Unauthorized(INVALID_TOKEN) from exc
    return (user_id, issued_at, family), expires


def new_secret(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def new_code(digits: int = 6) -> str:
    return f"{secrets.randbelow(10**digits):0{digits}d}"


def hash_secret(secret: str) -> str:
    """SHA-256 is right for long random secrets (no dictionary to guess from)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def hash_code(code: str, salt: str, settings: Settings) -> str:
    """A short code has a dictionary (10^6 values): keyed, so a leaked table cannot be
    reversed without the server's secret, and salted per token."""
    message = f"{salt}:{code}".encode()
    return hmac.new(settings.secret_key.encode(), message, hashlib.sha256).hexdigest()


def secrets_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
