"""Pieces every schema shares: strict base schema, UTC timestamps, trimmed strings, bounded
lists."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from marshmallow import RAISE, Schema, fields

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
