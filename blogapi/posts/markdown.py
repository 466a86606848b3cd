"""Render post bodies from Markdown to sanitized HTML."""

from __future__ import annotations

import re

import cmarkgfm
import nh3
from cmarkgfm.cmark import Options

from blogapi.posts.nesting import limit_nesting
from blogapi.posts.source_limits import limit_source

_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_ALLOWED_TAGS = _HEADINGS | {
    "p",
    "br",
    "hr",
    "blockquote",
    "pre",
    "code",
    "em",
    "strong",
    "del",
    "s",
    "ul",
    "ol",
    "li",
    "a",
    "img",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "sup",
    "sub",
}
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    # Markdown emits start="N" for lists that do not begin at 1.
    "ol": {"start"},
}
_CELL_ALIGN = {"align": {"left", "center", "right"}}
_ALLOWED_ATTRIBUTE_VALUES = {"th": _CELL_ALIGN, "td": _CELL_ALIGN}
_ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}
# Unlisted tags are unwrapped, keeping their text; for these the text itself is
# code or markup that would only show up as junk, so drop it entirely.
_DROP_WITH_CONTENT = {
    "script",
    "style",
    "iframe",
    "noscript",
    "template",
    "object",
    "svg",
    "math",
}
_LINK_REL = "nofollow noopener noreferrer"


# CommonMark with GitHub's tables and ~~strikethrough~~ (double tildes only, as before), in C
# and linear in the source. Raw HTML passes through ("unsafe") to the sanitizer, which
# decides what stays. Table cells get align="..." attributes, which the sanitizer allows.
_OPTIONS = Options.CMARK_OPT_UNSAFE | Options.CMARK_OPT_STRIKETHROUGH_DOUBLE_TILDE
_EXTENSIONS = ["table", "strikethrough"]
# Raw HTML in the output starts with one of these in the source (tags, comments, <!X, <?).
_MAY_HOLD_HTML = re.compile(r"<[A-Za-z/!?]")

_CLEANER = nh3.Cleaner(
    tags=_ALLOWED_TAGS,
    clean_content_tags=_DROP_WITH_CONTENT,
    attributes=_ALLOWED_ATTRIBUTES,
    tag_attribute_values=_ALLOWED_ATTRIBUTE_VALUES,
    url_schemes=_ALLOWED_URL_SCHEMES,
    link_rel=_LINK_REL,
    strip_comments=True,
)


def render_markdown(source: str) -> str:
    """Render Markdown to HTML that is safe to embed in a page."""
    return _CLEANER.clean(bounded_html(source))


def sanitize_html(html: str) -> str:
    """HTML cleaned by the same rules as a rendered body (for HTML that clients send)."""
    return _CLEANER.clean(limit_nesting(html))


def bounded_html(source: str) -> str:
    """Markdown to HTML, not yet sanitized, no larger or deeper than the source allows."""
    html: str = cmarkgfm.markdown_to_html_with_extensions(
        limit_source(source), _OPTIONS, _EXTENSIONS
    )
    # The sanitizer's parser is quadratic in nesting depth. Markdown alone nests no deeper
    # than limit_source lets it (inline emphasis aside, which costs that parser nothing);
    # raw HTML can, so then the whole passes through limit_nesting.
    return limit_nesting(html) if _MAY_HOLD_HTML.search(source) else html
