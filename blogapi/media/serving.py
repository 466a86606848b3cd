"""Serving stored files at /media/<key>: exact type, no sniffing, no scripts, cached for good,
with HEAD, ETag and Range from werkzeug's conditional responses."""

from __future__ import annotations

from io import BytesIO

from flask import Response, send_file

from blogapi.media.keys import content_type_of, is_key
from blogapi.media.storage import IMMUTABLE, StorageError, media_storage, storage_down
from blogapi.web.errors import ApiError

# What a browser may do with a served file: show it, and nothing else (an SVG or HTML that
# slipped through could run no script and load nothing).
FILE_CSP = "default-src 'none'"
NO_FILE = "No media file at this address."


def serve_file(key: str) -> Response:
    """The stored file under `key` (404 for anything that is not a stored key)."""
    if not is_key(key):
        raise ApiError(404, NO_FILE)
    try:
        stored = media_storage().get(key)
    except StorageError as exc:
        raise storage_down(exc) from None
    if stored is None:
        raise ApiError(404, NO_FILE)
    source = stored.path if stored.path is not None else BytesIO(stored.data or b"")
    response = send_file(
        source,
        mimetype=content_type_of(key),
        conditional=True,
        etag=key.split(".", 1)[0],  # a key names one content for good
        last_modified=stored.modified,
        max_age=None,
    )
    response.headers["Cache-Control"] = IMMUTABLE
    response.headers["Content-Security-Policy"] = FILE_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    response.shared_by_everyone = True  # type: ignore[attr-defined]
    return response
