"""The one datetime type of every API body (SPEC §5): UTC in, UTC out, always with its offset.

A request may send an offset (converted to UTC) or none (meaning UTC); an instant that falls
outside years 1-9999 once in UTC is a validation error, so a 422, never an OverflowError.
Every response serialises its datetimes in UTC with the offset written (`Z`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, SerializerFunctionWrapHandler, WrapSerializer


def to_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is outside the years 1 to 9999 once converted to UTC") from None


def _utc_json(value: datetime, handler: SerializerFunctionWrapHandler) -> Any:
    # Values built without validation (model_construct) are made UTC here too.
    return handler(to_utc(value))


Instant = Annotated[datetime, AfterValidator(to_utc), WrapSerializer(_utc_json, when_used="json")]
