"""The public addresses of posts, tags, authors and feeds, and the feeds' entry ids."""

from __future__ import annotations

from urllib.parse import quote, urlencode, urlsplit

from blogapi.db.models import Post
from blogapi.web.urls import external_url

FEED_KINDS = ("atom", "rss", "json")


def home_url(page: int = 1) -> str:
    """The front page (its `page`th page)."""
    return external_url("/") + (f"?page={page}" if page > 1 else "")


def post_url(post: Post) -> str:
    """A published post's page."""
    return external_url(f"/posts/{post.slug}")


def tag_url(slug: str) -> str:
    """The page of posts under one tag."""
    return external_url(f"/tags/{quote(slug)}")


def author_url(username: str) -> str:
    """An author's page (also their IndieAuth `me`)."""
    return external_url(f"/authors/{quote(username)}")


def micropub_url() -> str:
    """The Micropub endpoint, which the front page and author pages advertise."""
    return external_url("/micropub")


def indieauth_metadata_url() -> str:
    """IndieAuth's server metadata (RFC 8414), which the front page and author pages name."""
    return external_url("/.well-known/oauth-authorization-server")


def authorization_endpoint_url() -> str:
    """IndieAuth's authorization endpoint (its sign-in and consent page)."""
    return external_url("/indieauth/auth")


def token_endpoint_url() -> str:
    """IndieAuth's token endpoint (codes for personal access tokens)."""
    return external_url("/indieauth/token")


def micropub_media_url() -> str:
    """Micropub's media endpoint, which its q=config advertises."""
    return external_url("/micropub/media")


def feed_url(kind: str, *, tag: str | None = None, author: str | None = None) -> str:
    """A feed's address (`kind`: atom, rss or json), narrowed to a tag or an author."""
    filters = {name: value for name, value in (("tag", tag), ("author", author)) if value}
    query = urlencode(filters)
    return external_url(f"/feed.{kind}") + (f"?{query}" if query else "")


def entry_id(post: Post) -> str:
    """A post's id in feeds (RFC 4151 `tag:` URI): from the post's id and the day it was
    created, so it never changes when the slug or the title does."""
    host = urlsplit(external_url("/")).hostname or "localhost"
    return f"tag:{host},{post.created_at:%Y-%m-%d}:posts/{post.id}"
