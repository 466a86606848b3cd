"""Pieces every schema shares: strict base schema, UTC timestamps, trimmed strings, bounded
lists, and the rule for one line of visible text."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields

from blogapi.timeutil import isoformat_z


class StrictSchema(Schema):
    """Unknown fields are an error, reported under their own name."""

    class Meta:
        unknown = RAISE


class UTCDateTimeField(fields.DateTime):
    """ISO 8601 with `Z` out; timezone-aware ISO 8601 in, converted to UTC."""

    default_error_messages = {
        "naive": "Give a timezone, e.g. 2026-11-23T10:00:00Z.",
        "range": "The time is out of range once converted to UTC.",
    }

    def _serialize(self, value: datetime | None, attr: Any, obj: Any, **kwargs: Any) -> Any:
        return isoformat_z(value)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> datetime:
        parsed = super()._deserialize(value, attr, data, **kwargs)
        if parsed.tzinfo is None:
            raise self.make_error("naive")
        try:
            return parsed.astimezone(UTC)
        except OverflowError:  # e.g. 0001-01-01T00:00:00+05:00 falls before year 1 in UTC
            raise self.make_error("range") from None


class TrimmedString(fields.String):
    """A string with surrounding white space removed before validation."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        return super()._deserialize(value, attr, data, **kwargs).strip()


class StrictBoolean(fields.Boolean):
    """Only JSON true or false: not 0, 1 or "yes" (0 == False in Python, so sets cannot tell)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class BoundedList(fields.List[Any]):
    """A list refused whole, before any item is validated, when it holds more than max_items."""

    default_error_messages = {"too_many": "Send at most {max_items} items."}

    def __init__(self, cls_or_instance: Any, *, max_items: int, **kwargs: Any) -> None:
        metadata = {"maxItems": max_items} | dict(kwargs.pop("metadata", None) or {})
        super().__init__(cls_or_instance, metadata=metadata, **kwargs)  # in the document too
        self.max_items = max_items

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> list[Any]:
        # Validating each of 240,000 items, and naming each bad one, cost seconds and 25 MB.
        if isinstance(value, list | tuple) and len(value) > self.max_items:
            raise self.make_error("too_many", max_items=self.max_items)
        return super()._deserialize(value, attr, data, **kwargs)


# Characters that reorder text around them (the "Trojan Source" ones, RLM, LRM and ALM):
# a name or title with them can show as something else in every list it appears in.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff")
# Letters and symbols that draw nothing, the usual way to a name that looks empty.
BLANK_LOOKING = frozenset("\u115f\u1160\u3164\uffa0\u2800")
UNSEEN_CATEGORIES = frozenset({"Cc", "Cf", "Cn", "Co", "Cs", "Zs", "Zl", "Zp", "Mn", "Me"})


def is_visible(char: str) -> bool:
    """Whether a character draws something on its own."""
    return unicodedata.category(char) not in UNSEEN_CATEGORIES and char not in BLANK_LOOKING


def joins_visible(text: str, index: int) -> bool:
    """Whether the zero-width character at index stands between visible characters."""
    # Marks count as visible here: the rainbow flag puts its ZWJ after a variation selector.
    if index == 0 or index == len(text) - 1:
        return False
    return all(
        is_visible(near) or unicodedata.category(near).startswith("M")
        for near in (text[index - 1], text[index + 1])
    )


def no_nul(value: str) -> None:
    """Refuse NUL characters, which PostgreSQL cannot store in text."""
    if "\x00" in value:
        raise ValidationError("Text may not contain NUL characters.")


def one_line(value: str) -> None:
    """Refuse what one line of visible text (a title, tag or display name) must not hold."""
    # Control and bidi characters anywhere; zero-width ones except between visible characters
    # (ZWJ builds emoji such as the woman technologist, ZWNJ spells Persian words); and text
    # that shows nothing at all.
    if any(unicodedata.category(char) == "Cc" for char in value):
        raise ValidationError("Control characters such as new lines are not allowed here.")
    if any(char in BIDI_CONTROLS for char in value):
        raise ValidationError(
            "Bidirectional control characters (U+202A to U+202E, U+2066 to U+2069, U+200E, "
            "U+200F, U+061C) are not allowed here."
        )
    if value and not any(is_visible(char) for char in value):
        raise ValidationError("Use at least one visible character.")
    if any(char in ZERO_WIDTH and not joins_visible(value, i) for i, char in enumerate(value)):
        raise ValidationError(
            "Zero-width characters (U+200B to U+200D, U+2060, U+FEFF) may only join visible "
            "characters, as in emoji sequences."
        )
