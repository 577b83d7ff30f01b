"""Sanitising rendered HTML to Folio's allowlist, and reducing it to plain text."""

import html
import re

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

_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "id", "class"},
    "img": {"src", "alt", "title"},
    # Fenced code carries its language as a class, which highlighters need.
    "code": {"class"},
    "ol": {"start"},
    # Table column alignment comes out of Markdown as an inline style.
    "th": {"style", "colspan", "rowspan"},
    "td": {"style", "colspan", "rowspan"},
}

_CLEANER = nh3.Cleaner(
    tags=_ALLOWED_TAGS,
    clean_content_tags={"script", "style"},
    attributes=_ALLOWED_ATTRIBUTES,
    # Only the citation marker may style a <sup>; anything else an author writes is dropped.
    allowed_classes={"sup": {"footnote-ref"}},
    filter_style_properties={"text-align"},
    url_schemes={"http", "https", "mailto"},
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
