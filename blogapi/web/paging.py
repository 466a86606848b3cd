"""Page envelopes for list endpoints: meta, RFC 8288 Link and X-Total-Count."""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlencode

from flask import request
from marshmallow import EXCLUDE, Schema, fields, validate

from blogapi.web.urls import external_url

MAX_PER_PAGE = 100
MAX_PAGE = 1_000_000


class PageQuerySchema(Schema):
    """`page` and `per_page`; other list queries extend it. Unknown parameters are ignored."""

    class Meta:
        unknown = EXCLUDE

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PER_PAGE))


def page_count(total: int, per_page: int) -> int:
    """How many pages `total` items fill (at least 1, so `last` always exists)."""
    return max(1, math.ceil(total / per_page))


def page_url(**changes: Any) -> str:
    """This request's URL with some query parameters replaced (None removes one)."""
    args = request.args.to_dict(flat=True)
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = str(value)
    query = urlencode(args)
    base = external_url(request.path)
    return f"{base}?{query}" if query else base


def page_links(page: int, pages: int, next_cursor: str | None = None) -> str:
    """The RFC 8288 Link header for an offset (or cursor) page."""
    links = {"first": page_url(page=1, cursor=None), "last": page_url(page=pages, cursor=None)}
    if page > 1:
        links["prev"] = page_url(page=min(page - 1, pages), cursor=None)
    if next_cursor is not None:
        links["next"] = page_url(cursor=next_cursor, page=None)
    elif page < pages:
        links["next"] = page_url(page=page + 1, cursor=None)
    order = ("first", "prev", "next", "last")
    return ", ".join(f'<{links[rel]}>; rel="{rel}"' for rel in order if rel in links)


def page_response(
    items: list[Any],
    *,
    page: int,
    per_page: int,
    total: int,
    next_cursor: str | None = None,
) -> tuple[dict[str, Any], int, dict[str, str]]:
    """The contract's page envelope with its Link and X-Total-Count headers."""
    pages = page_count(total, per_page)
    body = {
        "items": items,
        "meta": {
            "page": page,
            "per_page": per_page,
            "total": total,
            "pages": pages,
            "next_cursor": next_cursor,
        },
    }
    headers = {"Link": page_links(page, pages, next_cursor), "X-Total-Count": str(total)}
    return body, 200, headers
