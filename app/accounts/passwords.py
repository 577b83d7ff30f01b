"""Argon2id password hashing (OWASP parameters) and the password rules.

Hashing costs ~50 ms of CPU. Every route that hashes or verifies is a sync `def`, which
FastAPI runs in its threadpool, so argon2 never blocks the event loop (R-S1); keep them so.
"""

from __future__ import annotations

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from app.errors import Unprocessable

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256

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


def check_password_rules(password: str, email: str) -> None:
    """ASVS V6.2: length only (no composition rules), checked exactly as received: no
    stripping, no truncation, no case folding of what is stored."""
    check_password_length(password)
    if password.strip().casefold() == email.strip().casefold():
        raise Unprocessable("The password must not be your email address.")


def check_password_length(password: str) -> None:
    """The rules that need no account: checked before a password is hashed."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Unprocessable(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise Unprocessable(f"The password must have at most {MAX_PASSWORD_LENGTH} characters.")
