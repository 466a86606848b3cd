"""Rate limits on the endpoints that guess or spend passwords."""

from __future__ import annotations

import math
import time

from flask import current_app, request

from blogapi.client import client_address
from blogapi.extensions import limiter


def auth_limit() -> str:
    """The configured limit for login, register, refresh and password change."""
    return current_app.config["LOGIN_RATE_LIMIT"]


def account_key() -> str:
    """Rate-limit key for the account a login names, whatever address it comes from."""
    data = request.get_json(silent=True, force=True)
    name = data.get("username") if isinstance(data, dict) else None
    if not isinstance(name, str) or not name.strip():
        return f"address:{client_address()}"
    return f"account:{name.strip().casefold()[:254]}"


per_address = limiter.limit(auth_limit, key_func=client_address, scope="auth-address")
per_account = limiter.limit(auth_limit, key_func=account_key, scope="auth-account")


def retry_after_seconds() -> int:
    """Seconds until the limit that was just hit resets (at least 1)."""
    current = getattr(limiter, "current_limit", None)
    if current is None:
        return 60
    return max(1, math.ceil(current.reset_at - time.time()))
