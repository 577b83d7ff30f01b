"""Access tokens (JWT via python-jose) and opaque secrets stored only as their hash."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any

from jose import JWTError, jwt

from app.config import Settings
from app.errors import Unauthorized
from app.models.base import utcnow

ACCESS_TYPE = "access"


def _signing_key(settings: Settings) -> str:
    return settings.jwt_private_key if settings.jwt_algorithm == "RS256" else settings.secret_key  # type: ignore[return-value]


def _verifying_key(settings: Settings) -> str:
    return settings.jwt_public_key if settings.jwt_algorithm == "RS256" else settings.secret_key  # type: ignore[return-value]


def issue_access_token(user_id: int, settings: Settings, now: datetime | None = None) -> str:
    now = now or utcnow()
    claims = {
        "sub": str(user_id),
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=settings.access_token_minutes)).timestamp()),
        "type": ACCESS_TYPE,
        "jti": secrets.token_urlsafe(8),
    }
    return jwt.encode(claims, _signing_key(settings), algorithm=settings.jwt_algorithm)


def read_access_token(token: str, settings: Settings) -> tuple[int, datetime]:
    """(user id, issued at) of a valid access token, or Unauthorized."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            _verifying_key(settings),
            algorithms=[settings.jwt_algorithm],
            options={"require_exp": True, "require_iat": True, "require_sub": True,
                     "verify_aud": False},
        )
    except JWTError as exc:
        raise Unauthorized("Invalid or expired token") from exc
    if claims.get("type") != ACCESS_TYPE:
        raise Unauthorized("Invalid or expired token")
    try:
        user_id = int(claims["sub"])
        issued_at = datetime.fromtimestamp(int(claims["iat"]), tz=utcnow().tzinfo)
    except (TypeError, ValueError, OverflowError) as exc:
        raise Unauthorized("Invalid or expired token") from exc
    return user_id, issued_at


def new_secret(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def hash_secret(secret: str) -> str:
    """SHA-256 is right for long random secrets (no dictionary to guess from)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def secrets_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
