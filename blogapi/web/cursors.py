"""Opaque keyset cursors: the sort, the last row's sort key and its id, as base64url JSON."""

from __future__ import annotations

import base64
import binascii
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from blogapi.timeutil import isoformat_z

MAX_CURSOR_LENGTH = 2048
MAX_ID = 2**31 - 1  # the largest value an Integer column holds on every database
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")


class CursorError(ValueError):
    """A cursor that this server did not make for this sort."""


@dataclass(frozen=True)
class Cursor:
    """Where a page ends: the sort it belongs to, the last row's sort key and id."""

    sort: str
    key: datetime | str | float | None
    id: int


def encode_cursor(cursor: Cursor) -> str:
    """The opaque form handed to clients."""
    key = isoformat_z(cursor.key) if isinstance(cursor.key, datetime) else cursor.key
    raw = orjson.dumps({"s": cursor.sort, "k": key, "i": cursor.id})
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(text: str, sort: str, key_kind: str) -> Cursor:
    """Parse a client's cursor for `sort`; key_kind is "time", "nullable_time", "text" or
    "number"."""
    if len(text) > MAX_CURSOR_LENGTH or not _BASE64URL.fullmatch(text):
        raise CursorError("Not a cursor from this API.")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        data = orjson.loads(raw)
    except (binascii.Error, ValueError):
        raise CursorError("Not a cursor from this API.") from None
    if not isinstance(data, dict) or set(data) != {"s", "k", "i"}:
        raise CursorError("Not a cursor from this API.")
    if data["s"] != sort:
        raise CursorError("This cursor belongs to another sort order; start again without it.")
    last_id = data["i"]
    if type(last_id) is not int or not 1 <= last_id <= MAX_ID:
        raise CursorError("Not a cursor from this API.")
    return Cursor(sort, _parse_key(data["k"], key_kind), last_id)


def _parse_key(value: Any, key_kind: str) -> datetime | str | float | None:
    """Check the sort key's type and turn times back into aware datetimes."""
    if value is None and key_kind == "nullable_time":
        return None
    if key_kind == "number":
        # A rank is a float in JSON (as 1.5e-06 too); an int may stand for one, a bool not.
        if type(value) not in (int, float) or not math.isfinite(value):
            raise CursorError("Not a cursor from this API.")
        return float(value)
    if not isinstance(value, str):
        raise CursorError("Not a cursor from this API.")
    if key_kind == "text":
        if "\x00" in value:  # PostgreSQL refuses NUL in text; never let it reach the query
            raise CursorError("Not a cursor from this API.")
        return value
    try:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("naive")
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        raise CursorError("Not a cursor from this API.") from None
