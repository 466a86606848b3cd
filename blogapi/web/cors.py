"""CORS for the browser origins in CORS_ORIGINS, and for no one else."""

from __future__ import annotations

import re

from flask import Flask
from flask_cors import CORS

from config import ConfigError

# scheme://host[:port] and nothing more: Flask-Cors would read "*", brackets or "$" as a regex.
LABEL = r"[a-z0-9]([a-z0-9-]*[a-z0-9])?"
ORIGIN = re.compile(rf"^https?://{LABEL}(\.{LABEL})*(:\d{{1,5}})?$")
ALLOW_HEADERS = ["Authorization", "Content-Type", "If-Match", "If-None-Match"]
EXPOSE_HEADERS = ["Location", "ETag", "Link", "X-Total-Count", "Retry-After"]
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
PREFLIGHT_MAX_AGE = 600


def allowed_origins(origins: list[str] | str) -> list[str]:
    """The configured origins, checked to be exact origins (lower case, no trailing slash)."""
    if isinstance(origins, str):
        origins = [item for item in origins.split(",") if item.strip()]
    checked = []
    for origin in origins:
        normal = origin.strip().rstrip("/").lower()
        if not ORIGIN.match(normal):
            raise ConfigError(
                f"CORS_ORIGINS: {origin!r} is not an origin like https://app.example.com"
            )
        checked.append(normal)
    return checked


def register_cors(app: Flask) -> None:
    """Answer preflights and add CORS headers for allowed origins; nothing when none are set."""
    origins = allowed_origins(app.config.get("CORS_ORIGINS") or [])
    if not origins:
        return
    CORS(
        app,
        resources={r"/*": {"origins": origins}},
        allow_headers=ALLOW_HEADERS,
        expose_headers=EXPOSE_HEADERS,
        methods=METHODS,
        max_age=PREFLIGHT_MAX_AGE,
        supports_credentials=False,  # tokens travel in the Authorization header, never cookies
    )
