"""Schemas of replies every feature shares: problems, OAuth's error body and page envelopes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from marshmallow import INCLUDE, Schema, fields

from blogapi.web.fields import StrictSchema


class ProblemSchema(Schema):
    """RFC 9457 problem details; `errors` only on validation failures."""

    class Meta:
        # RFC 9457 lets a problem carry extension members (a 503 adds `database`).
        unknown = INCLUDE

    type = fields.String(dump_only=True, required=True, metadata={"example": "about:blank"})
    title = fields.String(
        dump_only=True, required=True, metadata={"example": "Unprocessable Content"}
    )
    status = fields.Integer(dump_only=True, required=True, metadata={"example": 422})
    detail = fields.String(
        dump_only=True, required=True, metadata={"example": "The request has invalid fields."}
    )
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        dump_only=True,
        metadata={"example": {"title": ["Field may not be blank."]}},
    )
    errors_omitted = fields.Integer(
        dump_only=True,
        metadata={"description": "How many more fields failed than `errors` lists (it lists 20)."},
    )
    request_id = fields.String(
        dump_only=True,
        required=True,
        metadata={
            "description": "The request's id, as in its X-Request-Id header and its log lines.",
            "example": "5f0c1b2e9a7d4c3b8e6f1a2b3c4d5e6f",
        },
    )


class PageMetaSchema(StrictSchema):
    """Where a page sits in the whole list."""

    page = fields.Integer(
        dump_only=True,
        required=True,
        allow_none=True,
        metadata={"description": "The page number; null on a page reached by `cursor`."},
    )
    per_page = fields.Integer(dump_only=True, required=True)
    total = fields.Integer(dump_only=True, required=True)
    pages = fields.Integer(dump_only=True, required=True)
    next_cursor = fields.String(
        dump_only=True,
        required=True,
        allow_none=True,
        metadata={"description": "Pass as `cursor` for the next page; null on the last page."},
    )


def page_of(item: type[Schema], name: str) -> type[Schema]:
    """A page envelope schema for a list of `item`."""
    return StrictSchema.from_dict(
        {
            "items": fields.List(fields.Nested(item), dump_only=True, required=True),
            "meta": fields.Nested(PageMetaSchema, dump_only=True, required=True),
        },
        name=name,
    )


def oauth_error_schema(codes: Sequence[str]) -> dict[str, Any]:
    """OAuth 2.0's error body (RFC 6749 5.2), which Micropub and IndieAuth answer with, for a
    feature whose `error` is one of `codes`."""
    return {
        "type": "object",
        "required": ["error", "error_description"],
        "properties": {
            "error": {"type": "string", "enum": list(codes)},
            "error_description": {"type": "string"},
            "scope": {"type": "string"},
        },
    }
