"""The consent form's protection against cross-site forgery: the form carries the checked
request, signed with SECRET_KEY and bound to a random value in a SameSite=Strict cookie set
with the page, so only this browser, on a page we served in the last minutes, can post it.
Stateless: any instance can check it."""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from flask import Response, current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from blogapi.indieauth.authorization import AuthRequest
from blogapi.web.errors import ApiError
from blogapi.web.form_guard import fingerprint, same_origin_post

SALT = "blogapi.indieauth.consent"
FORM_LIFETIME = 15 * 60  # seconds a writer has to fill the form in
COOKIE = "indieauth_csrf"
SECURE_COOKIE = "__Host-indieauth_csrf"  # over https: only this host may set it
STALE = (
    "This sign-in form has expired or was not sent from this site's page; go back to the app "
    "and start signing in again."
)


def serializer() -> URLSafeTimedSerializer:
    """Signs and checks the form's token with the app's SECRET_KEY."""
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def cookie_name() -> str:
    """The cookie's name: __Host- prefixed where the browser will accept it (https)."""
    return SECURE_COOKIE if request.is_secure else COOKIE


def browser_value() -> str:
    """This browser's cookie value: the one it has, or a new one."""
    current = request.cookies.get(cookie_name(), "")
    return current if 20 <= len(current) <= 100 else secrets.token_urlsafe(32)


def form_token(auth: AuthRequest, client_name: str, value: str) -> str:
    """The signed token the consent form carries."""
    payload = {"r": auth.as_dict(), "n": client_name, "b": fingerprint(value)}
    return serializer().dumps(payload)


def set_cookie(response: Response, value: str) -> Response:
    """Give the browser its value (sent back only on same-site requests)."""
    response.set_cookie(
        cookie_name(),
        value,
        max_age=FORM_LIFETIME,
        path="/",
        secure=request.is_secure,
        httponly=True,
        samesite="Strict",
    )
    return response


def checked_form(token: str | None) -> tuple[AuthRequest, str]:
    """The request and client name the posted form carries, if it is ours, recent, and posted
    by the browser it was shown to; 403 otherwise."""
    if not token or not same_origin_post():
        raise ApiError(403, STALE)
    try:
        payload: Any = serializer().loads(token, max_age=FORM_LIFETIME)
        auth = AuthRequest.from_dict(payload["r"])
        name, bound = str(payload["n"]), str(payload["b"])
    except (BadSignature, KeyError, TypeError, ValueError):
        raise ApiError(403, STALE) from None
    value = request.cookies.get(cookie_name(), "")
    if not value or not hmac.compare_digest(fingerprint(value), bound):
        raise ApiError(403, STALE)
    return auth, name
