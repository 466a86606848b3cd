"""HTTP caching for posts: strong ETags of the exact JSON bytes, conditional requests."""

from __future__ import annotations

import hashlib

import orjson
from flask import Response, request

from blogapi.errors import ApiError
from blogapi.models import Post, User
from blogapi.schemas.posts import post_schema
from blogapi.services.access import request_now


def etag_of(body: bytes) -> str:
    """A strong, quoted entity tag for these exact bytes."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def post_bytes(post: Post) -> bytes:
    """The post's JSON representation, byte for byte as it is sent."""
    return orjson.dumps(post_schema.dump(post))


def post_etag(post: Post) -> str:
    """The ETag of the post's current representation."""
    return etag_of(post_bytes(post))


def post_response(post: Post, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """The post as JSON with its ETag (the resource returns a Response so the bytes match)."""
    body = post_bytes(post)
    response = Response(body, status=status, mimetype="application/json")
    response.headers["ETag"] = etag_of(body)
    response.headers.update(headers or {})
    return response


def read_cache_headers(post: Post, user: User | None) -> dict[str, str]:
    """Revalidate on every use; only a published post read anonymously may sit in shared caches."""
    public = user is None and post.status_at(request_now()) == "published"
    return {
        "Cache-Control": "public, no-cache" if public else "private, no-cache",
        "Vary": "Authorization",
    }


def not_modified(etag: str, headers: dict[str, str]) -> Response | None:
    """A 304 when If-None-Match names this tag (weak comparison, `*` too), else None."""
    if not request.if_none_match.contains_weak(etag.strip('"')):
        return None
    response = Response(status=304)
    response.headers["ETag"] = etag
    response.headers.update(headers)
    return response


def check_if_match(post: Post) -> None:
    """412 when If-Match is sent and names no current tag of the post (strong comparison)."""
    if "If-Match" not in request.headers:
        return
    etag = post_etag(post)
    if not request.if_match.contains(etag.strip('"')):
        raise ApiError(
            412,
            "The post has changed since you fetched it; fetch it again and retry.",
            headers={"ETag": etag},
        )


def lost_race() -> ApiError:
    """The error for a write that another request's write overtook."""
    if "If-Match" in request.headers:
        return ApiError(412, "The post changed while this request ran; fetch it again and retry.")
    return ApiError(409, "The post changed while this request ran; fetch it again and retry.")
