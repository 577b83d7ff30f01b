"""Argon2id password hashing (OWASP parameters), always run off the event loop by callers."""

from __future__ import annotations

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

# OWASP Password Storage Cheat Sheet minimum: m=19 MiB, t=2, p=1.
_hasher = PasswordHash((Argon2Hasher(memory_cost=19456, time_cost=2, parallelism=1),))
# Verified against for unknown emails so both paths cost the same (no account discovery).
_DUMMY_HASH = _hasher.hash("folio-dummy-password-never-matches")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> tuple[bool, str | None]:
    """(matches, new hash when the parameters changed and it should be stored)."""
    if password_hash is None:
        _hasher.verify(password, _DUMMY_HASH)
        return False, None
    try:
        return _hasher.verify_and_update(password, password_hash)
    except Exception:  # noqa: BLE001  (a malformed stored hash is a mismatch, not a crash)
        return False, None


def burn_dummy_verification(password: str) -> None:
    _hasher.verify(password, _DUMMY_HASH)
