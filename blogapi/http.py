"""Reading request bodies and building common response pieces."""

from __future__ import annotations

from typing import Any

import orjson
from flask import request

from blogapi.errors import ApiError

JSON_MIME = "application/json"


def json_body(*, optional: bool = False) -> dict[str, Any]:
    """The request's JSON object: 415 for another type, 400 when malformed or not an object."""
    raw = request.get_data(cache=True)  # werkzeug raises 413 past MAX_CONTENT_LENGTH
    if optional and not raw.strip():
        return {}
    if request.mimetype != JSON_MIME:
        raise ApiError(415, "Send the request body as Content-Type: application/json.")
    if not raw.strip():
        raise ApiError(400, "The request body is empty; send a JSON object.")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, f"The request body is not valid JSON: {exc}.") from None
    if not isinstance(data, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    return data
