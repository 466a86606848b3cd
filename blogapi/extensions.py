"""Extension objects, created unbound and bound to the app in create_app.

`db` is made in db/engine.py, beside the engine rules it carries (the db layer never imports
this module); the others are made here.

The two subclasses below change how Flask-Limiter and flask-jwt-extended work inside, through
private hooks: the versions are bounded in pyproject.toml and tests/test_library_hooks.py checks
that each hook still exists.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any

from flask import Flask, current_app
from flask_jwt_extended import JWTManager
from flask_jwt_extended.config import config as jwt_config
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from blogapi.db.engine import db
from blogapi.db.migrations import LazyMigrate
from blogapi.db.types import render_item
from blogapi.db.unmapped import include_name, include_object

VERIFIED_TOKENS_KEY = "blogapi.verified_tokens"
MAX_VERIFIED_TOKENS = 4096


class DecoratedLimitsOnly(Limiter):
    """Flask-Limiter, skipping its before-request pass while no default, application or meta
    limits exist: our limits sit on the views that spend passwords (security/ratelimit.py) and
    are checked when those views run, so the pass only cost every other request about 9%."""

    def _check_request_limit(
        self, callable_name: str | None = None, in_middleware: bool = True
    ) -> None:
        manager = self.limit_manager
        if (
            in_middleware
            and not manager.default_limits
            and not manager.application_limits
            and not self._meta_limits
        ):
            return
        super()._check_request_limit(callable_name=callable_name, in_middleware=in_middleware)


class VerifiedTokens:
    """An LRU of token string -> verified claims, per app (so per set of keys).

    Verifying a signature is deterministic for the same token bytes and keys, so caching the
    verified claims is safe; expiry is still checked on every use, and revocation, the user and
    their role are still read from the database on every request (security/jwt.py).
    """

    def __init__(self, max_tokens: int = MAX_VERIFIED_TOKENS) -> None:
        self.claims: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.max_tokens = max_tokens
        self.lock = threading.Lock()

    def get(self, token: str, leeway: float | None = None) -> dict[str, Any] | None:
        """Verified claims of a token that has not expired (leeway included: by default the
        app's, which needs its context), else None."""
        with self.lock:
            claims = self.claims.get(token)
            if claims is None:
                return None
            if time.time() >= claims["exp"] + (jwt_config.leeway if leeway is None else leeway):
                del self.claims[token]
                return None
            self.claims.move_to_end(token)
            return dict(claims)

    def put(self, token: str, claims: dict[str, Any]) -> None:
        """Remember a token that just verified."""
        with self.lock:
            self.claims[token] = dict(claims)
            while len(self.claims) > self.max_tokens:
                self.claims.popitem(last=False)


class CachingJWTManager(JWTManager):
    """A JWTManager that decodes and verifies each distinct token once per process."""

    def init_app(self, app: Flask, add_context_processor: bool = False) -> None:
        """Bind to the app and give it its own cache of verified tokens."""
        super().init_app(app, add_context_processor=add_context_processor)
        app.extensions[VERIFIED_TOKENS_KEY] = VerifiedTokens()

    def _decode_jwt_from_config(
        self, encoded_token: str, csrf_value: Any = None, allow_expired: bool = False
    ) -> dict[str, Any]:
        if csrf_value is not None or allow_expired:
            return super()._decode_jwt_from_config(encoded_token, csrf_value, allow_expired)
        cache: VerifiedTokens = current_app.extensions[VERIFIED_TOKENS_KEY]
        claims = cache.get(encoded_token)
        if claims is None:
            claims = super()._decode_jwt_from_config(encoded_token, csrf_value, allow_expired)
            cache.put(encoded_token, claims)
        return claims


__all__ = ["db", "jwt", "limiter", "migrate"]

# Flask-Migrate itself is imported by the `db` commands alone (db/migrations.py).
migrate = LazyMigrate(
    render_as_batch=True,
    compare_type=True,
    render_item=render_item,
    include_name=include_name,
    include_object=include_object,
)
jwt = CachingJWTManager()
# Every limit names its own key function (security/ratelimit.py); this default serves none.
limiter = DecoratedLimitsOnly(key_func=get_remote_address, default_limits=[])
