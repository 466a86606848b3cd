"""The Api object's class and its JSON representation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from flask import Response
from flask_restful import Api


class BlogApi(Api):
    """Flask-RESTful's Api, but errors go to the app's own handlers (web/errors.py)."""

    def error_router(
        self, original_handler: Callable[[Exception], Response], e: Exception
    ) -> Response:
        """Send every error to Flask's registered handlers, which answer with problem+json."""
        # Flask-RESTful's own router first asks whether one of its routes matched, building a
        # URL adapter again: for a Host outside TRUSTED_HOSTS that raises anew, and the 400
        # became an HTML 500. Its handler was never wanted, so skip the question.
        return original_handler(e)


def output_json(data: Any, code: int, headers: dict[str, str] | None = None) -> Response:
    """Serialize a resource's return value with orjson (no body for 204 and 304)."""
    body = b"" if code in (204, 304) else orjson.dumps(data)
    response = Response(body, status=code, mimetype="application/json")
    response.headers.update(headers or {})
    return response


def no_content() -> Response:
    """A 204 reply: no body, so no Content-Type either (RFC 9110 8.3), as the document says."""
    # Returned as a Response, since Flask-RESTful stamps its media type on ("", 204) replies.
    return bodiless(204)


def bodiless(status: int, headers: dict[str, str] | None = None) -> Response:
    """A reply of `status` and `headers` with no body, so no Content-Type either."""
    response = Response(status=status, headers=headers)
    response.headers.remove("Content-Type")
    return response


def make_api(prefix: str) -> BlogApi:
    """An Api under `prefix` that speaks JSON through orjson."""
    api = BlogApi(prefix=prefix, default_mediatype="application/json")
    api.representations = {"application/json": output_json}
    return api
