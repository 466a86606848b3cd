"""Snippets: the text around the first match, as safe HTML whose only markup is <mark>.

The databases highlight every match in an excerpt of the post (the first EXCERPT_CHARS of its
body, and its title): their snippet functions choose a best window by comparing every match
with every other, which a body repeating one word 30,000 times made cost seconds.
"""

from __future__ import annotations

import html

# The databases mark matches with these (never in stored text: document.py removes control
# characters from body text, and titles refuse them).
START, STOP = "\x01", "\x02"
EXCERPT_CHARS = 5000  # of the body, highlighted for a snippet
MAX_TEXT = 300  # characters of text in a snippet, ellipses included
_CONTEXT_BEFORE = 80  # characters kept before the first match when the text must be cut
ELLIPSIS = "…"


def has_match(marked: str | None) -> bool:
    """Whether the database marked a match in this text."""
    return bool(marked) and START in str(marked)


def snippet_html(marked: str) -> str:
    """Marked text as HTML: escaped, matches in <mark>, at most MAX_TEXT characters of text
    around the first match, cut at spaces where it can be."""
    first = marked.find(START)
    first = 0 if first < 0 else first
    # Marks take no room, so this slice holds every character the window can keep.
    start = max(0, first - 2 * MAX_TEXT)
    inside = marked.rfind(START, 0, start) > marked.rfind(STOP, 0, start)
    chars: list[tuple[str, bool]] = []  # each character of text, and whether it is a match
    for char in marked[start : first + 4 * MAX_TEXT]:
        if char == START:
            inside = True
        elif char == STOP:
            inside = False
        else:
            chars.append((char, inside))
    cut_before = start > 0 and bool(marked[:start].replace(START, "").replace(STOP, "").strip())
    kept = _window(chars, cut_before, first + 4 * MAX_TEXT < len(marked))
    parts: list[str] = []
    open_mark = False
    for char, matched in kept:
        if matched != open_mark:
            parts.append("<mark>" if matched else "</mark>")
            open_mark = matched
        parts.append(html.escape(char, quote=False))
    if open_mark:
        parts.append("</mark>")
    return "".join(parts)


def _window(
    chars: list[tuple[str, bool]], cut_before: bool, cut_after: bool
) -> list[tuple[str, bool]]:
    """At most MAX_TEXT characters around the first match, with an ellipsis where cut."""
    joined = "".join(char for char, _ in chars)
    if not joined.strip():
        return []
    if len(chars) <= MAX_TEXT and not cut_before and not cut_after:
        return _strip(chars)
    first = next((index for index, (_, matched) in enumerate(chars) if matched), 0)
    start = max(0, first - _CONTEXT_BEFORE)
    if start:
        space = joined.find(" ", start, first)
        start = space + 1 if space >= 0 else start
    head = start > 0 or cut_before
    room = MAX_TEXT - head
    end = start + room
    if end < len(chars) or cut_after:
        end = min(end - 1, len(chars))  # room for the closing ellipsis
        space = joined.rfind(" ", start, end)
        end = space if space > start + room // 2 else end
    tail = end < len(chars) or cut_after
    body = _strip(chars[start:end])
    return [(ELLIPSIS, False)] * head + body + [(ELLIPSIS, False)] * tail


def _strip(chars: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    """Without white space at either end."""
    start, end = 0, len(chars)
    while start < end and chars[start][0].isspace():
        start += 1
    while end > start and chars[end - 1][0].isspace():
        end -= 1
    return chars[start:end]
