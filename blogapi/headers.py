"""Security and caching headers added to every response."""

from __future__ import annotations

from flask import Flask, Response, request

API_CSP = "default-src 'none'; frame-ancestors 'none'"


def register_security_headers(app: Flask) -> None:
    """Add the headers every response needs, unless a view set its own."""
    hsts_seconds = app.config.get("HSTS_SECONDS", 0)

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "no-referrer")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Content-Security-Policy", API_CSP)
        # Tokens and emails must never sit in a shared cache; public reads opt in to caching,
        # but never into a shared cache for a caller who sent credentials (the answer may
        # hold what only they may see): private or no-store, else no-store.
        headers.setdefault("Cache-Control", "no-store")
        cache = response.cache_control
        if "Authorization" in request.headers and (
            cache.public or not (cache.private or cache.no_store)
        ):
            headers["Cache-Control"] = "no-store"
        if hsts_seconds:
            headers.setdefault("Strict-Transport-Security", f"max-age={hsts_seconds}")
        return response
