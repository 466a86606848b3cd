"""HTTP validators: strong ETags of the exact bytes sent, 304s and If-Match preconditions."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from flask import Response, request

from blogapi.web.errors import ApiError


def etag_of(body: bytes) -> str:
    """A strong, quoted entity tag for these exact bytes."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def tagged_json(body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """JSON bytes as a response carrying their ETag (so the tag matches what is sent)."""
    response = Response(body, status=status, mimetype="application/json")
    response.headers["ETag"] = etag_of(body)
    response.headers.update(headers or {})
    return response


def not_modified(etag: str, headers: dict[str, str]) -> Response | None:
    """A 304 when If-None-Match names this tag (weak comparison, `*` too), else None."""
    if not request.if_none_match.contains_weak(etag.strip('"')):
        return None
    response = Response(status=304)
    response.headers["ETag"] = etag
    response.headers.update(headers)
    return response


def if_match_sent() -> bool:
    """Whether the client made its write conditional on an ETag."""
    return "If-Match" in request.headers


def check_if_match(current_etag: Callable[[], str], detail: str) -> None:
    """412 when If-Match is sent and names no current tag (strong comparison)."""
    if not if_match_sent():
        return
    etag = current_etag()
    if not request.if_match.contains(etag.strip('"')):
        raise ApiError(412, detail, headers={"ETag": etag})
