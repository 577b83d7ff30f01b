"""Opaque keyset cursors over an id (newest first): a tampered cursor is a 400, never a 500."""

from __future__ import annotations

import base64
import binascii
import json

from app.errors import BadRequest

MAX_ID = 2**31 - 1


def encode_id_cursor(last_id: int) -> str:
    raw = json.dumps({"before": last_id}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_id_cursor(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))["before"]
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeError) as exc:
        raise BadRequest("Invalid cursor") from exc
    # bool is an int to Python; an id out of range would be a database error.
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
        raise BadRequest("Invalid cursor")
    return value
