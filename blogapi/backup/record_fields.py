"""The fields export records are made of: ids, sizes, bounded text and times, all strict."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from blogapi.web.cursors import MAX_ID
from blogapi.web.fields import UTCDateTimeField

ID = validate.Range(min=1, max=MAX_ID)  # what an Integer column holds, and the API looks up


def required_id(**kwargs: Any) -> fields.Integer:
    """A positive whole number an Integer column holds, never a string or a float."""
    return fields.Integer(required=True, strict=True, validate=ID, **kwargs)


def optional_id() -> fields.Integer:
    """An id that may be null or left out (null then), in a field newer than the format."""
    return fields.Integer(strict=True, validate=ID, allow_none=True, load_default=None)


def size() -> fields.Integer:
    """A required size in pixels or bytes: a positive whole number an Integer column holds."""
    return fields.Integer(required=True, strict=True, validate=ID)


def text(low: int, high: int | None) -> fields.String:
    """A required string taken exactly as written, of `low` to `high` characters."""
    return fields.String(required=True, validate=validate.Length(min=low, max=high))


def timestamp(**kwargs: Any) -> UTCDateTimeField:
    """A required ISO 8601 time with its zone, kept to the microsecond."""
    return UTCDateTimeField(required=True, **kwargs)
