"""Pieces every schema shares: strict base schema, UTC timestamps, trimmed strings."""

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
