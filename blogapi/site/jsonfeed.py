"""JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/) of a FeedSource."""

from __future__ import annotations

from typing import Any

import orjson

from blogapi.db.models import Post
from blogapi.site import links
from blogapi.site.content import changed_at
from blogapi.site.feed_source import FeedSource, image_url
from blogapi.timeutil import isoformat_z

JSON_FEED_TYPE = "application/feed+json"
VERSION = "https://jsonfeed.org/version/1.1"


def json_feed(source: FeedSource) -> bytes:
    """The feed as a JSON Feed 1.1 document."""
    feed: dict[str, Any] = {
        "version": VERSION,
        "title": source.title,
        "home_page_url": source.alternate,
        "feed_url": source.self_url("json"),
        "language": source.language,
        "items": [json_item(post) for post in source.posts],
    }
    if source.description:
        feed["description"] = source.description
    return orjson.dumps(feed)


def json_item(post: Post) -> dict[str, Any]:
    """One post as a JSON Feed item."""
    author = {"name": post.author.public_name, "url": links.author_url(post.author.username)}
    item: dict[str, Any] = {
        "id": links.entry_id(post),
        "url": links.post_url(post),
        "title": post.title,
        "content_html": post.body_html,
        "date_published": isoformat_z(post.published_at or post.created_at),
        "date_modified": isoformat_z(changed_at(post)),
        "authors": [author],
        "tags": [tag.slug for tag in post.tags],
    }
    if post.summary:
        item["summary"] = post.summary
    image = post.feature_image
    if image is not None:
        item["image"] = image_url(image)
    return item
