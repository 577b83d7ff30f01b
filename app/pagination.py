"""Opaque keyset cursors: base64url JSON of where the last page ended. A tampered cursor is a
400, never a 500: nothing from it reaches SQL unchecked."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from app.errors import BadRequest

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1


def encode_cursor(position: Any) -> str:
    raw = json.dumps(position, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> Any:
    """The JSON value inside the cursor; its shape is the caller's to check."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeError, RecursionError) as exc:
        raise BadRequest("Invalid cursor") from exc


def checked_id(value: Any, maximum: int = INT32_MAX) -> int:
    # bool is an int to Python; an id out of range would be a database error.
    if type(value) is not int or not 1 <= value <= maximum:
        raise BadRequest("Invalid cursor")
    return value


def encode_id_cursor(last_id: int) -> str:
    return encode_cursor({"before": last_id})


def decode_id_cursor(cursor: str) -> int:
    position = decode_cursor(cursor)
    if not isinstance(position, dict):
        raise BadRequest("Invalid cursor")
    return checked_id(position.get("before"))
