"""Building blocks every domain's request bodies share: strict bodies and slugs."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]*$"


def _not_all_digits(slug: str) -> str:
    # Tiers (and any reference that accepts both) read an all-digit reference as an id.
    if slug.isdigit():
        raise ValueError("a slug cannot be all digits: it would read as an id")
    return slug


Slug = Annotated[
    str,
    Field(min_length=1, max_length=120, pattern=SLUG_PATTERN),
    AfterValidator(_not_all_digits),
]


class StrictBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
