"""URL slugs for report titles: ASCII, lowercase, never empty and never all digits."""

import re
import unicodedata

# Letters that Unicode decomposition does not reduce to ASCII but readers expect spelled out.
_SPELLED_OUT = str.maketrans(
    {
        "ß": "ss",
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "Œ": "OE",
        "ø": "o",
        "Ø": "O",
        "đ": "d",
        "Đ": "D",
        "ł": "l",
        "Ł": "L",
        "þ": "th",
        "Þ": "TH",
    }
)

# An apostrophe joins a word ("Qaeda's" -> "qaedas") instead of splitting it.
_APOSTROPHES = re.compile(r"['\u2019\u02bc]")
_NOT_ALPHANUMERIC = re.compile(r"[^a-z0-9]+")

FALLBACK_SLUG = "report"


def slugify(text: str, max_length: int = 120) -> str:
    """An ASCII, lowercase, hyphen-separated slug of `text`, never empty."""
    if max_length < 1:
        raise ValueError("max_length must be at least 1")
    spelled = _APOSTROPHES.sub("", text.translate(_SPELLED_OUT))
    ascii_text = unicodedata.normalize("NFKD", spelled).encode("ascii", "ignore").decode("ascii")
    slug = _NOT_ALPHANUMERIC.sub("-", ascii_text.lower()).strip("-")
    if slug.isdigit():
        # An all-digit slug would read as an id wherever a slug or an id is accepted.
        slug = f"{FALLBACK_SLUG}-{slug}"
    if len(slug) > max_length:
        slug = _shorten_at_word(slug, max_length)
    return slug or FALLBACK_SLUG[:max_length]


def _shorten_at_word(slug: str, max_length: int) -> str:
    head = slug[:max_length]
    # Cutting inside a word leaves a fragment that reads like a typo; drop it when we can.
    if slug[max_length] != "-" and "-" in head:
        head = head.rsplit("-", 1)[0]
    return head.strip("-")
