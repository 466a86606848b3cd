"""What a feed holds, whatever its format: the latest published posts (under a tag, by an
author), the feed's names and addresses, and when it last changed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app

from blogapi.db.models import Media, Post
from blogapi.media.service import media_url
from blogapi.site import content, links
from blogapi.web.errors import ApiError

GENERATOR = "blogapi"
# An empty feed has changed never: a fixed time keeps its bytes (and ETag) the same in every
# process, where "now" would differ. Atom needs some feed-level `updated`.
NEVER = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class FeedSource:
    """One feed's content: its posts (newest first) and what it says about itself."""

    posts: list[Post]
    title: str
    description: str
    language: str
    home: str  # the site's front page
    alternate: str  # the HTML page the feed mirrors: home, tag or author page
    tag: str | None  # the tag slug it is narrowed to
    author: str | None  # the username it is narrowed to
    updated: datetime | None  # the newest change among its posts; None when empty

    def self_url(self, kind: str) -> str:
        """This feed's own address in format `kind` (its filters included)."""
        return links.feed_url(kind, tag=self.tag, author=self.author)

    @property
    def updated_or_never(self) -> datetime:
        """The feed's `updated`, where a format needs one even when it is empty."""
        return self.updated or NEVER


def feed_source(tag: str | None = None, author: str | None = None) -> FeedSource:
    """The feed of the latest published posts, narrowed to a tag and/or an author (404 when
    the tag carries no published post or the author does not exist)."""
    config = current_app.config
    title, alternate = str(config["SITE_TITLE"]), links.home_url()
    if author is not None:
        user = content.author_named(author)
        if user is None:
            raise ApiError(404, f"No author named {author!r}.")
        author = user.username
        title, alternate = f"{title} — {user.public_name}", links.author_url(user.username)
    if tag is not None:
        found = content.tag_with_posts(tag)
        if found is None:
            raise ApiError(404, f"No published post carries the tag {tag!r}.")
        tag = found.slug
        title, alternate = f"{title} — {found.name}", links.tag_url(found.slug)
    posts = content.published_page(1, int(config["FEED_LENGTH"]), tag=tag, author=author).posts
    return FeedSource(
        posts=posts,
        title=title,
        description=str(config["SITE_DESCRIPTION"]),
        language=str(config["SITE_LANGUAGE"]),
        home=links.home_url(),
        alternate=alternate,
        tag=tag,
        author=author,
        updated=content.last_changed(posts),
    )


def image_url(media: Media) -> str:
    """Where a feature image's file is read."""
    return media_url(media.key)
