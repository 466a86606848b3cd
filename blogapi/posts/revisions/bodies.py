"""How revision bodies are stored: each one either whole (a keyframe) or as a delta against
its keyframe, always zlib-compressed.

A delta lists which runs of the keyframe's lines to copy and which new text to insert between
them. Small edits to a long body then cost a few hundred bytes, and reading any revision needs
at most two rows (itself and its keyframe), never a chain. The delta is found greedily in one
pass over each body (a line's first place in the keyframe, or the line after the last copied
run), so its cost is linear in the bodies' length whatever they hold: difflib's matcher can
take quadratic time on many repeated lines, and every save pays for this.
"""

from __future__ import annotations

import zlib
from typing import Any

import orjson

FULL = b"F"
DELTA = b"D"
LEVEL = 6
# A delta is kept only while it is smaller than this share of the whole body compressed; past
# it (a rewrite, or many edits since the keyframe) the revision becomes a keyframe itself.
DELTA_SHARE = 0.5


class CorruptBody(ValueError):
    """A stored body that cannot be read back (damaged data, or the wrong keyframe)."""


def encode_full(body: str) -> bytes:
    """The body stored whole."""
    return FULL + zlib.compress(body.encode(), LEVEL)


def encode_delta(keyframe: str, body: str) -> bytes:
    """The body stored as the keyframe's lines to copy and the text to insert between them."""
    old, new = keyframe.splitlines(keepends=True), body.splitlines(keepends=True)
    first: dict[str, int] = {}
    for i, line in enumerate(old):
        first.setdefault(line, i)
    ops: list[Any] = []
    inserted: list[str] = []
    follows = -1  # the keyframe line after the last copied run
    j = 0
    while j < len(new):
        line = new[j]
        start = follows if 0 <= follows < len(old) and old[follows] == line else first.get(line)
        if start is None:
            inserted.append(line)
            j += 1
            continue
        end = start + 1
        while end < len(old) and j + end - start < len(new) and old[end] == new[j + end - start]:
            end += 1
        if inserted:
            ops.append("".join(inserted))
            inserted = []
        ops.append([start, end])
        j += end - start
        follows = end
    if inserted:
        ops.append("".join(inserted))
    return DELTA + zlib.compress(orjson.dumps(ops), LEVEL)


def encode(body: str, keyframe: str | None, keyframe_size: int | None = None) -> tuple[bytes, bool]:
    """The body's stored form, and whether it is a delta against `keyframe` (when one is
    given and the delta is small enough to pay) rather than a keyframe of its own.

    A delta pays below a share of the body compressed whole; given the keyframe's stored size,
    that stands in for it, which spares compressing a long body on every small save.
    """
    if keyframe is None:
        return encode_full(body), False
    delta = encode_delta(keyframe, body)
    whole = encode_full(body) if keyframe_size is None else None
    pays_below = len(whole) if whole is not None else keyframe_size or 0
    if len(delta) < pays_below * DELTA_SHARE:
        return delta, True
    return whole if whole is not None else encode_full(body), False


def decode(data: bytes, keyframe: str | None = None) -> str:
    """The body back from its stored form (a delta needs its keyframe's body)."""
    kind, packed = data[:1], data[1:]
    try:
        raw = zlib.decompress(packed)
        if kind == FULL:
            return raw.decode()
        if kind != DELTA or keyframe is None:
            raise CorruptBody("A delta needs its keyframe; this body has none or no kind.")
        old = keyframe.splitlines(keepends=True)
        parts = []
        for op in orjson.loads(raw):
            parts.append("".join(old[op[0] : op[1]]) if isinstance(op, list) else op)
        return "".join(parts)
    except (zlib.error, UnicodeDecodeError, orjson.JSONDecodeError, IndexError, TypeError) as exc:
        raise CorruptBody(f"A stored revision body is damaged: {exc}") from None
