"""Snippets: the text around a match, as safe HTML whose only markup is <mark>."""

from __future__ import annotations

import html

# The databases mark matches with these (never in stored text: document.py removes control
# characters from body text, and titles refuse them).
START, STOP = "\x01", "\x02"
MAX_TEXT = 300  # characters of text in a snippet, ellipses included
_CONTEXT_BEFORE = 80  # characters kept before the first match when the text must be cut
ELLIPSIS = "…"


def has_match(marked: str | None) -> bool:
    """Whether the database marked a match in this text."""
    return bool(marked) and START in str(marked)


def snippet_html(marked: str) -> str:
    """Marked text as HTML: escaped, matches in <mark>, at most MAX_TEXT characters of text
    around the first match, cut at spaces where it can be."""
    chars: list[tuple[str, bool]] = []  # each character of text, and whether it is a match
    inside = False
    for char in marked:
        if char == START:
            inside = True
        elif char == STOP:
            inside = False
        else:
            chars.append((char, inside))
    chars = _window(chars)
    parts: list[str] = []
    open_mark = False
    for char, matched in chars:
        if matched != open_mark:
            parts.append("<mark>" if matched else "</mark>")
            open_mark = matched
        parts.append(html.escape(char, quote=False))
    if open_mark:
        parts.append("</mark>")
    return "".join(parts)


def _window(chars: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    """At most MAX_TEXT characters around the first match, with an ellipsis where cut."""
    joined = "".join(char for char, _ in chars)
    if not joined.strip():
        return []
    if len(chars) <= MAX_TEXT:
        return _strip(chars)
    first = next((index for index, (_, matched) in enumerate(chars) if matched), 0)
    start = max(0, first - _CONTEXT_BEFORE)
    if start:
        space = joined.find(" ", start, first)
        start = space + 1 if space >= 0 else start
    room = MAX_TEXT - (1 if start else 0)
    end = start + room
    if end < len(chars):
        end -= 1  # room for the closing ellipsis
        space = joined.rfind(" ", start, end)
        end = space if space > start + room // 2 else end
    head = [(ELLIPSIS, False)] if start else []
    tail = [(ELLIPSIS, False)] if end < len(chars) else []
    return head + _strip(chars[start:end]) + tail


def _strip(chars: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    """Without white space at either end."""
    start, end = 0, len(chars)
    while start < end and chars[start][0].isspace():
        start += 1
    while end > start and chars[end - 1][0].isspace():
        end -= 1
    return chars[start:end]
