"""flask-jwt-extended's manager, remembering which tokens it has already verified.

Verifying a signature is deterministic for the same token bytes and keys, so a per-app cache
of verified claims is safe; expiry is still checked on every use, and revocation, the user and
their role are still read from the database on every request (auth.py).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any

from flask import current_app
from flask_jwt_extended import JWTManager
from flask_jwt_extended.config import config

EXTENSION_KEY = "blogapi.verified_tokens"
MAX_TOKENS = 4096


class VerifiedTokens:
    """An LRU of token string -> verified claims, per app (so per set of keys)."""

    def __init__(self, max_tokens: int = MAX_TOKENS) -> None:
        self.claims: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.max_tokens = max_tokens
        self.lock = threading.Lock()

    def get(self, token: str) -> dict[str, Any] | None:
        """Verified claims of a token that has not expired (leeway included), else None."""
        with self.lock:
            claims = self.claims.get(token)
            if claims is None:
                return None
            if time.time() >= claims["exp"] + config.leeway:
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

    def init_app(self, app: Any, add_context_processor: bool = False) -> None:
        """Bind to the app and give it its own cache of verified tokens."""
        super().init_app(app, add_context_processor=add_context_processor)
        app.extensions[EXTENSION_KEY] = VerifiedTokens()

    def _decode_jwt_from_config(
        self, encoded_token: str, csrf_value: Any = None, allow_expired: bool = False
    ) -> dict:
        if csrf_value is not None or allow_expired:
            return super()._decode_jwt_from_config(encoded_token, csrf_value, allow_expired)
        cache: VerifiedTokens = current_app.extensions[EXTENSION_KEY]
        claims = cache.get(encoded_token)
        if claims is None:
            claims = super()._decode_jwt_from_config(encoded_token, csrf_value, allow_expired)
            cache.put(encoded_token, claims)
        return claims
