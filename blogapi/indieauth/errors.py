"""OAuth 2.0's error body, `{"error", "error_description"}`, for IndieAuth's client-facing
requests: the token, introspection and revocation endpoints, and POSTs to the authorization
endpoint from programs (a client's profile-only exchange). A browser's consent form gets its
errors as pages, like every page."""

from __future__ import annotations

from flask import Flask, Response, request

from blogapi.site.errors import wants_page
from blogapi.web.errors import CLIENT_ERRORS_KEY, oauth_error_body

CLIENT_PATHS = ("/indieauth/token", "/indieauth/introspect", "/indieauth/revoke")
AUTHORIZATION_PATH = "/indieauth/auth"
CODES = {401: "invalid_token"}


def is_client_request() -> bool:
    """Whether a program (not a writer's browser) made this request."""
    if request.path in CLIENT_PATHS:
        return True
    return request.path == AUTHORIZATION_PATH and request.method == "POST" and not wants_page()


def indieauth_body(problem: Response) -> Response | None:
    """A problem as OAuth's error body for IndieAuth's clients; None for other requests."""
    return oauth_error_body(problem, CODES) if is_client_request() else None


def init_indieauth(app: Flask) -> None:
    """Give IndieAuth's clients OAuth's error body."""
    app.extensions.setdefault(CLIENT_ERRORS_KEY, []).append(indieauth_body)
