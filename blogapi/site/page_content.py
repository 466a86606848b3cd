"""What the reader pages show beyond one post: a page of a list with its paging links, and
where a renamed post's old slug leads."""

from __future__ import annotations

from typing import Any

from flask import current_app, redirect, request
from werkzeug.wrappers import Response as WerkzeugResponse

from blogapi.posts.slug_history import renamed_post
from blogapi.site.content import published_page
from blogapi.site.links import post_url
from blogapi.site.pages import check_page, feed_links, page_number, paged
from blogapi.timeutil import request_now
from blogapi.web.errors import ApiError
from blogapi.web.paging import page_count


def list_page(
    base_url: str, *, tag: str | None = None, author: str | None = None
) -> dict[str, Any]:
    """The posts of one page of a list, its paging links and its feeds, for its template."""
    per_page = current_app.config["FEED_LENGTH"]
    page = page_number()
    found = published_page(page, per_page, tag=tag, author=author)
    check_page(page, found.total, per_page)
    return {
        "posts": found.posts,
        "page": page,
        "canonical": paged(base_url, page),
        "prev_url": paged(base_url, page - 1) if page > 1 else None,
        "next_url": paged(base_url, page + 1) if page < page_count(found.total, per_page) else None,
        "feeds": feed_links(tag=tag, author=author),
    }


def moved_post(slug: str) -> WerkzeugResponse:
    """301 to the current page of the published post that gave up `slug`, else 404."""
    post = renamed_post(slug)
    now = request_now()
    if post is None or post.published_at is None or post.published_at > now:
        raise ApiError(404, "No published post has this slug.")
    target = post_url(post)
    if request.query_string:
        target += "?" + request.query_string.decode("latin-1")
    return redirect(target, 301)
