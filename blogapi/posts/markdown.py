"""Render post bodies from Markdown to sanitized HTML."""

from __future__ import annotations

from typing import TYPE_CHECKING

import nh3
from markdown_it import MarkdownIt

if TYPE_CHECKING:
    from markdown_it.rules_core import StateCore

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


def _cell_style_to_align(state: StateCore) -> None:
    """Replace table cells' inline text-align style with the align attribute."""
    # The sanitizer allows no style attributes, so alignment would otherwise be lost.
    for token in state.tokens:
        if token.type in ("th_open", "td_open"):
            style = str(token.attrs.pop("style", ""))
            if style.startswith("text-align:"):
                token.attrs["align"] = style.removeprefix("text-align:")


_MARKDOWN = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
_MARKDOWN.core.ruler.push("cell_style_to_align", _cell_style_to_align)

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
    return _CLEANER.clean(_MARKDOWN.render(source))
