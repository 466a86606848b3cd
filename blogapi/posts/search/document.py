"""What search reads of a post: the body's text without markup, and its tags' names."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

# A tag of our sanitized HTML (nh3 writes every attribute value in double quotes; a `>` may sit
# inside one), its name captured.
_TAG = re.compile(r'<(/?)([a-zA-Z][a-zA-Z0-9]*)(?:[^>"]|"[^"]*")*>')
# Tags that start or end a block: the words on either side are separate words.
_BLOCKS = frozenset(
    {
        *("p", "br", "hr", "blockquote", "pre", "ul", "ol", "li", "img"),
        *("table", "thead", "tbody", "tr", "th", "td", "h1", "h2", "h3", "h4", "h5", "h6"),
    }
)
# Control characters mark matches in snippets (search/snippets.py), so the text has none.
_CONTROLS_AND_SPACE = re.compile(r"[\x00-\x20\x7f]+")


def _separator(tag: re.Match[str]) -> str:
    return " " if tag.group(2).lower() in _BLOCKS else ""


def plain_text(body_html: str) -> str:
    """The words of a rendered body, markup gone, each run of white space one space."""
    text = html.unescape(_TAG.sub(_separator, body_html))
    return _CONTROLS_AND_SPACE.sub(" ", text).strip()


def tag_text(names: Iterable[str]) -> str:
    """A post's tag names, as search reads them: in one order however they were given (the
    API, an import and the migration all write the same text)."""
    return " ".join(sorted(names, key=lambda name: (name.casefold(), name)))
