"""One place that turns every error into RFC 9457 problem+json."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from http import HTTPStatus
from itertools import islice
from typing import Any

import orjson
from flask import Flask, Response, current_app
from marshmallow import ValidationError
from sqlalchemy.exc import DBAPIError, IntegrityError
from werkzeug.exceptions import HTTPException

from blogapi.db.errors import driver_reason, is_disconnect
from blogapi.extensions import db
from blogapi.observability.request_ids import current_request_id

PROBLEM_MIME = "application/problem+json"
BEARER_REALM = 'Bearer realm="blogapi"'
# RFC 9110 names where Python's HTTPStatus still has the older ones.
TITLES = {413: "Content Too Large", 414: "URI Too Long", 422: "Unprocessable Content"}
# A problem names at most this many fields, each with at most this many messages, and names
# cut to this length: a 1 MB body of unknown fields once made a 2.9 MB reply.
ERRORS_SHOWN = 20
MESSAGES_SHOWN = 5
NAME_SHOWN = 100
log = logging.getLogger("blogapi.errors")
# A feature that serves HTML pages (blogapi/site) may show an error to a browser as a page:
# it registers here a function that turns a problem response into its page, or keeps it.
BROWSER_ERRORS_KEY = "blogapi.browser_errors"
BrowserErrors = Callable[[Response], Response]
# A feature whose clients read another error body (Micropub's) registers here functions that
# turn a problem response into that body for the requests they claim, else return None.
# They come before the browser's pages: a claimed request is a program's, never a page.
CLIENT_ERRORS_KEY = "blogapi.client_errors"
ClientErrors = Callable[[Response], Response | None]


def status_title(status: int) -> str:
    """The standard reason phrase for a status code."""
    if status in TITLES:
        return TITLES[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


class ApiError(Exception):
    """An error a resource raises on purpose; becomes a problem response."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        errors: Mapping[str, list[str]] | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})


def problem(
    status: int,
    detail: str,
    *,
    errors: Mapping[str, list[str]] | None = None,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Response:
    """Build a problem+json response."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": status_title(status),
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = shown_errors(errors)
        if len(errors) > ERRORS_SHOWN:
            body["errors_omitted"] = len(errors) - ERRORS_SHOWN
    if extra:
        body.update(extra)
    request_id = current_request_id()
    if request_id is not None:
        body["request_id"] = request_id
    response = Response(orjson.dumps(body), status=status, mimetype=PROBLEM_MIME)
    response.headers.update(headers or {})
    if status == 401 and "WWW-Authenticate" not in response.headers:
        response.headers["WWW-Authenticate"] = BEARER_REALM
    return response


def shown_name(name: str) -> str:
    """A field name as a problem shows it: cut short when a client sent a very long one."""
    return name if len(name) <= NAME_SHOWN else name[: NAME_SHOWN - 1] + "…"


def shown_errors(errors: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """The first ERRORS_SHOWN fields, each with its first MESSAGES_SHOWN messages."""
    shown = islice(errors.items(), ERRORS_SHOWN)
    return {shown_name(name): list(messages)[:MESSAGES_SHOWN] for name, messages in shown}


def flatten_messages(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Flatten marshmallow's nested messages into field -> list of sentences."""
    if isinstance(messages, Mapping):
        flat: dict[str, list[str]] = {}
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            flat.update(flatten_messages(value, name))
        return flat
    if isinstance(messages, list | tuple) and all(isinstance(m, str) for m in messages):
        return {prefix or "_schema": [str(m) for m in messages]}
    if isinstance(messages, list | tuple):
        flat = {}
        for index, value in enumerate(messages):
            flat.update(flatten_messages(value, f"{prefix}.{index}" if prefix else str(index)))
        return flat
    return {prefix or "_schema": [str(messages)]}


def validation_problem(error: ValidationError) -> Response:
    """422 naming each field that failed and why."""
    flat = flatten_messages(error.normalized_messages())
    errors = {name: flat[name] for name in sorted(flat)}
    fields = ", ".join(shown_name(name) for name in islice(errors, ERRORS_SHOWN))
    if len(errors) > ERRORS_SHOWN:
        fields += f" and {len(errors) - ERRORS_SHOWN} more"
    return problem(422, f"The request has invalid fields: {fields}.", errors=errors)


def error_headers(error: HTTPException) -> dict[str, str]:
    """The headers werkzeug gives an HTTP error, less the ones of its HTML body."""
    return {
        key: value
        for key, value in error.get_headers()
        if key.lower() not in {"content-type", "content-length"}
    }


def http_problem(error: HTTPException) -> Response:
    """Problem response for werkzeug's HTTP errors (404, 405, 413 …)."""
    status = error.code or 500
    detail = error.description or status_title(status)
    data = getattr(error, "data", None)  # Flask-RESTful's abort() puts its message here.
    if isinstance(data, Mapping) and isinstance(data.get("message"), str):
        detail = data["message"]
    return problem(status, detail, headers=error_headers(error))


def database_unavailable(error: Exception) -> Response:
    """503 when the database cannot be reached or is busy (locked, deadlocked), so clients retry."""
    db.end_session()
    log.error("database unavailable: %s", driver_reason(error))
    return problem(
        503,
        "The database is unavailable; retry shortly.",
        headers={"Retry-After": "5"},
        extra={"database": "unavailable"},
    )


def oauth_error_body(problem_response: Response, codes: Mapping[int, str]) -> Response:
    """A problem response as OAuth 2.0's error body, `{"error", "error_description"}` (which
    Micropub and IndieAuth share), keeping its status and headers: the `error` an ApiError
    named, else `codes`' for its status, else server_error (5xx) or invalid_request."""
    found: dict[str, Any] = orjson.loads(problem_response.get_data())
    status = problem_response.status_code
    fallback = "server_error" if status >= 500 else codes.get(status, "invalid_request")
    body = {"error": found.get("error") or fallback, "error_description": found.get("detail", "")}
    if "scope" in found:
        body["scope"] = found["scope"]
    response = Response(orjson.dumps(body), status=status, mimetype="application/json")
    for name, value in problem_response.headers.items():
        if name.lower() not in {"content-type", "content-length"}:
            response.headers[name] = value
    return response


def for_browser(response: Response) -> Response:
    """The problem in the body a feature claiming this request gives its clients (Micropub's),
    or as a page when a feature serving HTML claims it, else as it is."""
    forms: list[ClientErrors] = current_app.extensions.get(CLIENT_ERRORS_KEY, [])
    for form in forms:
        claimed = form(response)
        if claimed is not None:
            return claimed
    pages: BrowserErrors | None = current_app.extensions.get(BROWSER_ERRORS_KEY)
    return response if pages is None else pages(response)


def register_error_handlers(app: Flask) -> None:
    """Send every error, expected or not, through problem() (and, for a browser on a page,
    on to its HTML form)."""

    @app.errorhandler(ApiError)
    def handle_api_error(error: ApiError) -> Response:
        return for_browser(
            problem(
                error.status,
                error.detail,
                errors=error.errors,
                headers=error.headers,
                extra=error.extra,
            )
        )

    @app.errorhandler(ValidationError)
    def handle_validation_error(error: ValidationError) -> Response:
        return for_browser(validation_problem(error))

    @app.errorhandler(HTTPException)
    def handle_http_exception(error: HTTPException) -> Response:
        return for_browser(http_problem(error))

    @app.errorhandler(IntegrityError)
    def handle_integrity_error(error: IntegrityError) -> Response:
        db.end_session()
        return for_browser(problem(409, "The request conflicts with data that already exists."))

    @app.errorhandler(DBAPIError)
    def handle_database_error(error: DBAPIError) -> Response:
        if is_disconnect(error):
            return for_browser(database_unavailable(error))
        return handle_unexpected(error)

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception) -> Response:
        db.end_session()
        app.logger.exception("unhandled error", exc_info=error)
        return for_browser(problem(500, "An unexpected error occurred; it has been logged."))
