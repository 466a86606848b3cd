"""Reading request bodies and building common response pieces."""

from __future__ import annotations

from typing import Any

import orjson
from flask import current_app, g, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from blogapi.web.errors import ApiError

JSON_MIME = "application/json"
# Only these four separate JSON tokens; bytes.strip() would also take \x0b and \x0c.
JSON_WHITESPACE = b" \t\n\r"


def json_body(*, optional: bool = False) -> dict[str, Any]:
    """The request's JSON object: 415 for another type, 400 when malformed or not an object."""
    raw = body_bytes()
    blank = not raw.strip(JSON_WHITESPACE)
    if optional and blank:
        return {}
    if request.mimetype != JSON_MIME:
        raise ApiError(415, "Send the request body as Content-Type: application/json.")
    if blank:
        raise ApiError(400, "The request body is empty; send a JSON object.")
    try:
        data = orjson.loads(raw)  # strict UTF-8, no lone surrogates, nesting capped at 1024
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, f"The request body is not valid JSON: {exc}.") from None
    if not isinstance(data, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    refuse_nul_characters(data)
    return data


def body_bytes() -> bytes:
    """The request body; 413 past MAX_CONTENT_LENGTH, whether it has a length or is chunked."""
    raw = request.get_data(cache=True)  # werkzeug raises 413 for a Content-Length over the limit
    # A chunked body has no length: werkzeug stops reading at the limit and hands over what it
    # read as if that were all. One byte more in the stream tells a cut body from a whole one.
    limit = request.max_content_length
    if g.get("body_too_large") or (
        limit is not None
        and request.content_length is None
        and len(raw) >= limit
        and request.environ["wsgi.input"].read(1)
    ):
        g.body_too_large = True  # the byte is gone: remember the verdict for a second reader
        raise RequestEntityTooLarge()
    return raw


def nul_fields(data: Any) -> list[str]:
    """Where NUL characters hide in a JSON value: dotted paths of keys and strings."""
    found, stack = [], [("", data)]
    while stack:  # not recursive: orjson accepts 1024 levels, past Python's recursion limit
        path, value = stack.pop()
        if isinstance(value, str) and "\x00" in value:
            found.append(path)
        elif isinstance(value, dict):
            for key, item in value.items():
                name = f"{path}.{key}" if path else key
                if "\x00" in key:
                    found.append(name)
                else:
                    stack.append((name, item))
        elif isinstance(value, list):
            stack.extend((f"{path}.{index}", item) for index, item in enumerate(value))
    return sorted(found)


def refuse_nul_characters(data: dict[str, Any]) -> None:
    """422 for NUL anywhere in a body: PostgreSQL cannot store it, and no field needs it."""
    fields = nul_fields(data)
    if fields:
        errors = {field: ["NUL characters (\\u0000) are not allowed."] for field in fields}
        raise ApiError(422, "The request has invalid fields: NUL characters.", errors=errors)


# Query parameters that take any text, NUL included: search text, whose reader takes NUL for a
# space between words (blogapi/posts/search/query.py) before anything reaches a database.
ANY_TEXT_PARAMETERS = frozenset({"q"})


def refuse_nul_in_url() -> None:
    """Before every request: NUL in the path is a 404, in the query a 422 naming the parameter
    (but in search text)."""
    if "\x00" in request.path:
        raise ApiError(404, "Nothing here has a NUL character (%00) in its address.")
    query = request.environ.get("QUERY_STRING", "")
    if "%00" not in query and "\x00" not in query:
        return  # most requests: no parameter can hold a NUL, so none is parsed
    names = sorted(
        {
            key
            for key, value in request.args.items(multi=True)
            if "\x00" in key or ("\x00" in value and key not in ANY_TEXT_PARAMETERS)
        }
    )
    if names:
        errors = {name: ["NUL characters (%00) are not allowed."] for name in names}
        raise ApiError(422, "The request has invalid fields: NUL characters.", errors=errors)


def refuse_long_url() -> None:
    """Before every request: 414 for a request target longer than MAX_URL_LENGTH."""
    # RAW_URI is the target as sent (gunicorn, werkzeug); other servers give path and query.
    target = request.environ.get("RAW_URI") or request.full_path
    if len(target) > current_app.config["MAX_URL_LENGTH"]:
        raise ApiError(
            414,
            f"The URL is longer than {current_app.config['MAX_URL_LENGTH']} characters; "
            "send long input in a request body.",
        )


def peek_json_object() -> dict[str, Any] | None:
    """The body as a JSON object, or None when it is not one; never raises."""
    # For rate-limit keys: Flask-Limiter takes any exception in a key function for a storage
    # failure, so a parser that overflows on deep nesting would let a body switch limits off.
    try:
        data = orjson.loads(body_bytes())
    except (orjson.JSONDecodeError, HTTPException):
        return None
    return data if isinstance(data, dict) else None
