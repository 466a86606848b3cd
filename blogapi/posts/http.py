"""A post over HTTP: its exact JSON bytes, their strong ETag, and who may cache them."""

from __future__ import annotations

import orjson
from flask import Response

from blogapi.db.models import Post, User
from blogapi.posts.schemas import post_schema
from blogapi.timeutil import request_now
from blogapi.web.etags import check_if_match, etag_of, tagged_json

CHANGED = "The post has changed since you fetched it; fetch it again and retry."


def post_bytes(post: Post) -> bytes:
    """The post's JSON representation, byte for byte as it is sent."""
    return orjson.dumps(post_schema.dump(post))


def post_etag(post: Post) -> str:
    """The ETag of the post's current representation."""
    return etag_of(post_bytes(post))


def post_response(post: Post, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """The post as JSON with its ETag (the resource returns a Response so the bytes match)."""
    return tagged_json(post_bytes(post), status, headers)


def read_cache_headers(post: Post, user: User | None) -> dict[str, str]:
    """Revalidate on every use; only a published post read anonymously may sit in shared caches."""
    public = user is None and post.status_at(request_now()) == "published"
    return {
        "Cache-Control": "public, no-cache" if public else "private, no-cache",
        "Vary": "Authorization",
    }


def check_post_if_match(post: Post) -> None:
    """412 when If-Match is sent and does not name the post's current ETag."""
    check_if_match(lambda: post_etag(post), CHANGED)
