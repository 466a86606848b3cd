"""Absolute URLs: on SITE_URL when it is set, never on a Host header the client chose."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, request
from werkzeug.sansio.utils import get_current_url

API_PREFIX = "/api/v1"  # where the JSON API lives; everything else is at the site root


def external_url(path: str) -> str:
    """The absolute URL of `path`, a path inside the app (as `request.path` is, without the
    mount point): on SITE_URL, or in development on this request's scheme, host and root."""
    site: str = current_app.config.get("SITE_URL", "")
    if site:
        parts = urlsplit(site)
        return get_current_url(parts.scheme, parts.netloc, parts.path, path)
    return get_current_url(request.scheme, request.host, request.root_path, path)
