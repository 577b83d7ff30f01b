"""Sanitising rendered HTML to Folio's allowlist, and reducing it to plain text."""

import html
import re
import secrets

import nh3

_ALLOWED_TAGS = {
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "a",
    "sup",
    "sub",
    "em",
    "strong",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "hr",
    "br",
    "img",
    "figure",
    "figcaption",
    "span",
    "del",
    "s",
}

# `id` and `class` are listed only where our own renderer writes them (see _RENDERER_MARK).
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "id"},
    "img": {"src", "alt", "title"},
    # The citation marker's class, which html_to_text and stylesheets look for.
    "sup": {"class"},
    # Fenced code carries its language as a class, which highlighters need.
    "code": {"class"},
    "ol": {"start"},
    # Table column alignment comes out of Markdown as an inline style.
    "th": {"style", "colspan", "rowspan"},
    "td": {"style", "colspan", "rowspan"},
}

# An id or class set by author HTML could clobber the page's DOM (window.config, a
# form named by id) or dress text as the site's own UI. Our renderer prefixes the ids and
# classes it writes with this per-process secret; the sanitiser keeps only prefixed values
# and removes the prefix, so no author-written id or class survives, however it is spelled.
_RENDERER_MARK = f"folio-{secrets.token_hex(16)}-"

# Browsers drop tabs and newlines inside URLs and read a backslash as "/" in web URLs.
_URL_IGNORED = re.compile(r"[\t\n\r]")
_URL_EDGES = "".join(chr(c) for c in range(0x21))


def renderer_attribute(value: str) -> str:
    """`value` for an id or class our renderer writes: the only kind the sanitiser keeps."""
    return _RENDERER_MARK + value


def _only_renderer_ids_and_classes(tag: str, attribute: str, value: str) -> str | None:
    if attribute not in ("id", "class"):
        return value
    if value.startswith(_RENDERER_MARK):
        return value.removeprefix(_RENDERER_MARK)
    return None


def _no_protocol_relative_url(url: str) -> str | None:
    """A relative URL unless it names another host ("//evil.example/x" and its spellings)."""
    normalised = _URL_IGNORED.sub("", url).strip(_URL_EDGES)
    if normalised[:2].replace("\\", "/") == "//":
        return None
    return url


_CLEANER = nh3.Cleaner(
    tags=_ALLOWED_TAGS,
    clean_content_tags={"script", "style"},
    attributes=_ALLOWED_ATTRIBUTES,
    attribute_filter=_only_renderer_ids_and_classes,
    filter_style_properties={"text-align"},
    url_schemes={"http", "https", "mailto"},
    url_relative=_no_protocol_relative_url,
    link_rel="noopener noreferrer",
    strip_comments=True,
)

_TEXT_ONLY = nh3.Cleaner(tags=set(), clean_content_tags={"script", "style"})

# Citation markers like "[2]" are noise in a search index or a snippet.
_CITATION_MARK = re.compile(r'<sup class="footnote-ref">.*?</sup>', re.DOTALL)

# Block boundaries must separate words once the tags are gone: "<td>a</td><td>b</td>" is "a b".
_BLOCK_TAG = re.compile(
    r"</?(?:p|h[1-6]|blockquote|pre|ul|ol|li|table|thead|tbody|tr|th|td|hr|br|figure|figcaption)"
    r"\b[^>]*>",
    re.IGNORECASE,
)


def sanitize_html(rendered: str) -> str:
    """Keep only the allowlisted tags, attributes and URL schemes of `rendered`."""
    return _CLEANER.clean(rendered).strip()


def html_to_text(sanitized: str) -> str:
    """Plain text of already sanitised HTML, whitespace collapsed, citation markers dropped.

    The result is unescaped text, not HTML: escape it again wherever it is displayed.
    """
    without_marks = _CITATION_MARK.sub("", sanitized)
    spaced = _BLOCK_TAG.sub(" ", without_marks)
    text = html.unescape(_TEXT_ONLY.clean(spaced))
    return " ".join(text.split())
