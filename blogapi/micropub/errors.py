"""Micropub's own error body, `{"error", "error_description"}`, on every error of its paths."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask, Response, request

from blogapi.web.errors import BEARER_REALM, CLIENT_ERRORS_KEY, ApiError, oauth_error_body

PATH = "/micropub"
# Micropub's codes by status; problem responses of other statuses (404, 405, 413, 415, 422)
# keep their status and say invalid_request, and a server's failure says server_error (the
# OAuth 2.0 code, Micropub naming none).
CODES = {401: "unauthorized", 403: "forbidden"}


def micropub_error(
    status: int, code: str, description: str, *, headers: Mapping[str, str] | None = None
) -> ApiError:
    """An error that reaches the client as Micropub's body with `code`."""
    return ApiError(status, description, headers=headers, extra={"error": code})


def invalid_request(description: str) -> ApiError:
    """400 invalid_request: the request is malformed or names what is not there."""
    return micropub_error(400, "invalid_request", description)


def unauthorized(description: str) -> ApiError:
    """401 unauthorized: no token, or one that does not hold."""
    return micropub_error(401, "unauthorized", description)


def forbidden(description: str) -> ApiError:
    """403 forbidden: the token's user may not do this to this post."""
    return micropub_error(403, "forbidden", description)


def insufficient_scope(scope: str) -> ApiError:
    """401 insufficient_scope (as Micropub says, where RFC 6750 says 403), naming the scope."""
    error = micropub_error(
        401,
        "insufficient_scope",
        f"This token lacks the '{scope}' scope this needs.",
        headers={
            "WWW-Authenticate": f'{BEARER_REALM}, error="insufficient_scope", scope="{scope}"'
        },
    )
    error.extra["scope"] = scope
    return error


def is_micropub_request() -> bool:
    """Whether the request is for the Micropub endpoint or anything below it."""
    return request.path == PATH or request.path.startswith(PATH + "/")


def micropub_body(problem: Response) -> Response | None:
    """A problem response as Micropub's error body (same status and headers) for its paths;
    None for other paths."""
    return oauth_error_body(problem, CODES) if is_micropub_request() else None


def init_micropub(app: Flask) -> None:
    """Give Micropub's clients its error body on its paths."""
    app.extensions.setdefault(CLIENT_ERRORS_KEY, []).append(micropub_body)
