"""Keep a Markdown body's rendered HTML proportional to the body, before it is rendered.

Two constructs make HTML far larger or deeper than the Markdown that asks for them:
a line of container markers (`> > > …`, `- - - … a`) opens one element per character,
and a table pads every short row with empty cells up to its header's width (a 100-column
header over 1,500 one-letter rows: 150,000 cells from 3 KB). Both are rare at any size a
person writes; beyond that they are rendered as text.
"""

from __future__ import annotations

import re

MAX_MARKERS = 100  # containers one line may open or continue
# Empty cells a table may add, beyond one per character of the table itself.
PADDING_ALLOWANCE = 256

_MARKER = r"(?:>|[-+*](?=[ \t])|\d{1,9}[.)](?=[ \t]))"
_MARKER_RUN = re.compile(
    rf"^((?:[ \t]*+{_MARKER}){{{MAX_MARKERS}}}[ \t]*+)(?={_MARKER})", re.MULTILINE
)
# A line that may be a table's delimiter row (|---|:--:|), container markers before it.
_DELIMITER_ROW = re.compile(r"^(?=[^\n|]*+\|)(?=[^\n-]*+-)[ \t|:>*+.)0-9-]++$", re.MULTILINE)
_BLANK_LINE = re.compile(r"\n[ \t]*(?:\n|\Z)")


def limit_source(source: str) -> str:
    """The body, with container markers past MAX_MARKERS and over-padded tables escaped."""
    source = _MARKER_RUN.sub(r"\1\\", source)
    return _unpad_tables(source)


def _unpad_tables(source: str) -> str:
    """Escape the delimiter rows of each paragraph whose tables' padding would outgrow it."""
    # A table ends at a blank line at the latest: judge each run of lines up to one together,
    # as wide as its widest delimiter row, so that every character is looked at once.
    escapes: list[int] = []
    group: list[re.Match[str]] = []
    group_end = -1
    for row in _DELIMITER_ROW.finditer(source):
        if row.start() > group_end:
            escapes += _overpadded(source, group, group_end)
            blank = _BLANK_LINE.search(source, row.end())
            group, group_end = [], blank.start() if blank else len(source)
        group.append(row)
    escapes += _overpadded(source, group, group_end)
    # A backslash before the row makes it text, and the table a paragraph.
    pieces = [
        source[start:end] for start, end in zip([0, *escapes], [*escapes, len(source)], strict=True)
    ]
    return "\\".join(pieces)


def _overpadded(source: str, rows: list[re.Match[str]], end: int) -> list[int]:
    """Where to escape `rows` (delimiter rows up to `end`) if their tables pad too much."""
    if not rows:
        return []
    body = source[rows[0].end() : end]
    columns = max(row[0].count("|") + 1 for row in rows)
    if _padding_bound(columns, body) <= len(body) + PADDING_ALLOWANCE:
        return []
    return [row.start() + len(row[0]) - len(row[0].lstrip(" \t>")) for row in rows]


def _padding_bound(columns: int, body: str) -> int:
    """At most how many empty cells the renderer adds to rows `body` of a table this wide."""
    rows = body.count("\n")
    if rows * (columns - 1) <= len(body):
        return rows * (columns - 1)  # cheap, and enough for any table a person writes
    padding = 0
    for line in body.split("\n")[1:]:
        pipes = line.count("|") - line.count("\\|")
        padding += max(0, columns - max(1, pipes - 1))
    return padding
