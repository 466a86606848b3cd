"""Rate limits: on the endpoints that guess or spend passwords, and per signed-in user."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

from flask import Flask, Response, current_app, request
from flask_jwt_extended import decode_token
from flask_limiter import RequestLimit, RouteLimit
from werkzeug.exceptions import HTTPException

from blogapi.extensions import limiter
from blogapi.security import memory_limits  # noqa: F401  (makes memory:// swept, not timed)
from blogapi.security.audit import audit
from blogapi.security.personal_tokens import bearer_in_header, digest, personal_token_in_header
from blogapi.web.body import peek_json_object
from blogapi.web.client import client_address
from blogapi.web.errors import error_headers, for_browser, problem

log = logging.getLogger("blogapi.ratelimit")
LIMITER_LOGGER = "flask-limiter"


def auth_limit() -> str:
    """The configured limit for login, register, refresh, and password and email changes."""
    limit: str = current_app.config["LOGIN_RATE_LIMIT"]
    return limit


def account_key() -> str:
    """Rate-limit key for the account a login names (in a JSON body or a sign-in form),
    whatever address it comes from."""
    data = peek_json_object()
    name = data.get("username") if data is not None else form_username()
    if not isinstance(name, str) or not name.strip():
        return f"address:{client_address()}"
    return f"account:{name.strip().casefold()[:254]}"


def form_username() -> object:
    """The `username` of a sign-in form (None for other bodies, or one too large to read: the
    request is refused anyway, and the key falls back to the address)."""
    if request.mimetype not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return None
    try:
        return request.form.get("username")
    except HTTPException:
        return None


def post_write_limit() -> str:
    """The configured limit on creating and editing posts, per user."""
    limit: str = current_app.config["POST_WRITE_RATE_LIMIT"]
    return limit


def access_token_user_id() -> str | None:
    """The user id in the request's access token if its signature and dates verify, else None.

    For per-user keys, which Flask-Limiter computes before the operation's guard runs: it reads
    no database and never raises (any exception there is taken for a storage failure). A token
    this refuses is refused by the guard too, with its 401.
    """
    token = bearer_in_header()
    if token is None:
        return None
    try:
        claims = decode_token(token)  # verified once per process (CachingJWTManager)
    except Exception:  # every way a token can be bad is the guard's to answer
        return None
    subject = claims.get("sub")
    return subject if claims.get("type") == "access" and isinstance(subject, str) else None


def caller_key() -> str | None:
    """Rate-limit key for a signed-in caller, None for anyone else. A personal access token is
    its own bucket: which user holds it is a database read, which key functions must not do."""
    token = personal_token_in_header()
    if token is not None:
        return f"token:{digest(token)[:32]}"
    user_id = access_token_user_id()
    return None if user_id is None else f"user:{user_id}"


def user_key() -> str:
    """Rate-limit key for the signed-in caller: its user id, or its personal token."""
    return caller_key() or "anonymous"


def per_user(
    limit: Callable[[], str],
    scope: str,
    *,
    also_per_address: bool = False,
    only_when: Callable[[], bool] | None = None,
) -> tuple[RouteLimit, ...]:
    """Limits for @endpoint's `limits`: one bucket per signed-in user, shared by every operation
    that names the same scope (and one per client address too, if asked), counting only the
    requests `only_when` picks. Requests without a valid token are left to the guard's 401."""

    def exempt() -> bool:
        return caller_key() is None or (only_when is not None and not only_when())

    keys = {"user": user_key, **({"address": client_address} if also_per_address else {})}
    return tuple(
        limiter.shared_limit(
            limit,
            f"{scope}-{kind}",
            key_func=key,
            exempt_when=exempt,
            on_breach=audit_breach,
            # In addition to an operator's RATELIMIT_DEFAULT: overriding it would drop it from
            # every method of the endpoint (GET /posts too) once one limited request was seen.
            override_defaults=False,
        )
        for kind, key in keys.items()
    )


def audit_breach(limit: RequestLimit) -> None:
    """Flask-Limiter's on_breach: one audit line per limit hit."""
    *_prefix, key, scope = limit.request_args  # [key prefix,] key, scope
    fields = {"endpoint": request.endpoint, "scope": scope.rpartition(":")[2]}
    fields["limit"] = str(limit.limit)
    if key.startswith("account:"):
        audit("rate_limited", username=key.removeprefix("account:"), **fields)
    elif key.startswith("user:"):
        audit("rate_limited", user_id=key.removeprefix("user:"), **fields)
    else:
        audit("rate_limited", **fields)


per_address = limiter.limit(
    auth_limit, key_func=client_address, scope="auth-address", on_breach=audit_breach
)
# One bucket per account for every way of guessing its password (the login and IndieAuth's
# sign-in form), so a second door gives no second budget.
per_account = limiter.shared_limit(
    auth_limit, "auth-account", key_func=account_key, on_breach=audit_breach
)


class StorageEvents(logging.Filter):
    """Keep Flask-Limiter's storage news (down, falling back, recovered); drop per-hit lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Per-hit lines are already audited as rate_limited."""
        return not str(record.msg).startswith("ratelimit ")


def log_limiter_storage() -> None:
    """Keep only Flask-Limiter's storage news; the app's log set-up sends them to stderr."""
    logger = logging.getLogger(LIMITER_LOGGER)
    if not any(isinstance(f, StorageEvents) for f in logger.filters):
        logger.addFilter(StorageEvents())


def rate_limited(error: HTTPException) -> Response:
    """429 with Retry-After, as the contract asks."""
    headers = error_headers(error)
    headers.setdefault("Retry-After", str(retry_after_seconds()))
    limit = error.description or "too many requests"
    return for_browser(
        problem(429, f"Rate limit exceeded ({limit}); retry later.", headers=headers)
    )


def init_rate_limits(app: Flask) -> None:
    """Bind the limiter, answer its 429s, and make its storage trouble visible."""
    limiter.init_app(app)
    app.register_error_handler(429, rate_limited)
    log_limiter_storage()
    uri = app.config.get("RATELIMIT_STORAGE_URI", "memory://")
    production = app.config.get("ENV_NAME") == "production"
    if production and app.config.get("RATELIMIT_ENABLED") and uri.startswith("memory"):
        warn_once_serving(app)


def warn_once_serving(app: Flask) -> None:
    """Warn about per-process limits when the app first serves, not in every CLI command."""
    warned: list[bool] = []

    @app.before_request
    def memory_storage_warning() -> None:
        if not warned:
            warned.append(True)
            log.warning(
                "rate limits are counted per process (memory://); set RATELIMIT_STORAGE_URI"
            )


def retry_after_seconds() -> int:
    """Seconds until the limit that was just hit resets (at least 1)."""
    current: RequestLimit | None = getattr(limiter, "current_limit", None)
    if current is None:
        return 60
    return max(1, math.ceil(current.reset_at - time.time()))
