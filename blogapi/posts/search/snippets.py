"""Snippets: the text around the first match, as safe HTML whose only markup is <mark>.

The databases highlight every match in the title and in an excerpt of the body (EXCERPT_CHARS
from about the first match): their snippet functions, which choose a best window by comparing
every match with every other over the whole body, cost seconds on a body repeating one word
30,000 times.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from functools import cache
from itertools import groupby

from blogapi.posts.search.query import without_accents

# The databases mark matches with these (never in stored text: document.py removes control
# characters from body text, and titles refuse them).
START, STOP = "\x01", "\x02"
EXCERPT_CHARS = 5000  # of the body, highlighted for a snippet
MAX_TEXT = 300  # characters of text in a snippet, ellipses included
_CONTEXT_BEFORE = 80  # characters kept before the first match when the text must be cut
ELLIPSIS = "…"


def excerpt(text: str, words: Iterable[str]) -> str:
    """EXCERPT_CHARS of `text` from a little before the first place a searched word may
    match: its start (its stem is unknown here) in any case, accents aside. The database
    then marks the real matches in it; from the start when no word shows."""
    if len(text) <= EXCERPT_CHARS:
        return text
    starts = sorted({guess for guess in map(_stem_guess, words) if guess}, key=len)
    if not starts:
        return text[:EXCERPT_CHARS]
    # Removing accents keeps every index: translate() maps one character to one.
    folded = text if text.isascii() else text.translate(_accent_table())
    pattern = r"\b(?:" + "|".join(re.escape(start) for start in starts) + ")"
    found = re.search(pattern, folded, re.IGNORECASE)
    begin = 0 if found is None else max(0, found.start() - 2 * MAX_TEXT)
    return text[begin : begin + EXCERPT_CHARS]


def _stem_guess(word: str) -> str:
    """The part of a word its forms share, about: "publishing" -> "publis"."""
    bare = without_accents(word)
    return bare if len(bare) <= 4 else bare[: max(4, len(bare) - 3)]


@cache
def _accent_table() -> dict[int, str]:
    """Each accented letter -> its letter without the accent, where that is one character."""
    table: dict[int, str] = {}
    for point in range(0xC0, 0x2000):
        bare = without_accents(chr(point))
        if len(bare) == 1 and bare != chr(point):
            table[point] = bare
    return table


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
    for matched, run in groupby(kept, key=lambda kept_char: kept_char[1]):
        text = html.escape("".join(char for char, _ in run), quote=False)
        parts.append(f"<mark>{text}</mark>" if matched else text)
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
