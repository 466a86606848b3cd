"""Cross-site request forgery protection for the site's small server-rendered forms (double
submit): the page sets a random value in a SameSite=Strict cookie and puts a token signed with
SECRET_KEY in the form, binding that value and what the form is about; a POST must bring both,
recent, from our own origin. Stateless: any instance can check it."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Response, current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer


def fingerprint(value: str) -> str:
    """What a signed form keeps of a secret value (a cookie's, a mailed token's)."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def same_origin_post() -> bool:
    """Whether the browser says the POST comes from our own pages (absent headers: yes, the
    cookie check decides)."""
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        return False
    sent = request.headers.get("Origin")  # its host: a TLS proxy may change the scheme we see
    return sent is None or urlsplit(sent).netloc.lower() == request.host.lower()


@dataclass(frozen=True)
class FormGuard:
    """One form's protection: its signing salt, its cookie, and how long a page stays good."""

    salt: str
    cookie: str
    lifetime: int  # seconds

    def cookie_name(self) -> str:
        """The cookie's name: __Host- prefixed where the browser accepts it (https)."""
        return f"__Host-{self.cookie}" if request.is_secure else self.cookie

    def browser_value(self) -> str:
        """This browser's cookie value: the one it has, or a new one."""
        current = request.cookies.get(self.cookie_name(), "")
        return current if 20 <= len(current) <= 100 else secrets.token_urlsafe(32)

    def form_token(self, value: str, subject: str) -> str:
        """The signed token a form carries: bound to the cookie's value and to `subject`."""
        payload = {"b": fingerprint(value), "s": fingerprint(subject)}
        return self.serializer().dumps(payload)

    def serializer(self) -> URLSafeTimedSerializer:
        """Signs and checks form tokens with the app's SECRET_KEY."""
        return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=self.salt)

    def set_cookie(self, response: Response, value: str) -> Response:
        """Give the browser its value (sent back only on same-site requests)."""
        response.set_cookie(
            self.cookie_name(),
            value,
            max_age=self.lifetime,
            path="/",
            secure=request.is_secure,
            httponly=True,
            samesite="Strict",
        )
        return response

    def accepts(self, token: str | None, subject: str) -> bool:
        """Whether a posted form token is ours, recent, about `subject`, and posted by the
        browser it was shown to."""
        if not token or not same_origin_post():
            return False
        try:
            payload = self.serializer().loads(token, max_age=self.lifetime)
            bound, about = str(payload["b"]), str(payload["s"])
        except (BadSignature, KeyError, TypeError, ValueError):
            return False
        value = request.cookies.get(self.cookie_name(), "")
        return (
            bool(value)
            and hmac.compare_digest(fingerprint(value), bound)
            and hmac.compare_digest(fingerprint(subject), about)
        )
