"""Security and caching headers added to every response."""

from __future__ import annotations

from flask import Flask, Response, request

API_CSP = "default-src 'none'; frame-ancestors 'none'"
DEFAULT_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy", API_CSP),
)


def register_security_headers(app: Flask) -> None:
    """Add the headers every response needs, unless a view set its own."""
    hsts_seconds = app.config.get("HSTS_SECONDS", 0)

    defaults = [*DEFAULT_HEADERS]
    if hsts_seconds:
        defaults.append(("Strict-Transport-Security", f"max-age={hsts_seconds}"))

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        headers = response.headers
        present = {name.lower() for name, _value in headers.items()}  # one pass, not one per header
        headers.extend((name, value) for name, value in defaults if name.lower() not in present)
        # Tokens and emails must never sit in a shared cache; public reads opt in to caching,
        # but never into a shared cache for a caller who sent credentials (the answer may
        # hold what only they may see): private or no-store, else no-store.
        if "cache-control" not in present:
            headers["Cache-Control"] = "no-store"
        elif "Authorization" in request.headers and not getattr(
            response,
            "shared_by_everyone",
            False,  # the same bytes for every caller (media)
        ):
            cache = response.cache_control
            if cache.public or not (cache.private or cache.no_store):
                headers["Cache-Control"] = "no-store"
        return response
