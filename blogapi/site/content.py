"""What the public face shows: published, live posts only, newest first, whoever asks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from blogapi.db.models import Post, Tag, User, post_tags, username_key
from blogapi.extensions import db
from blogapi.posts.access import SHOWN_WITH_POST, live
from blogapi.posts.listing import DEFAULT_SORT, PostPage, list_posts
from blogapi.posts.slugs import is_valid_slug
from blogapi.timeutil import request_now
from blogapi.web.public_cache import cached_count, content_changed_at


def published_page(
    page: int, per_page: int, *, tag: str | None = None, author: str | None = None
) -> PostPage:
    """One page of published posts, newest first, optionally under a tag or by an author."""
    args: dict[str, object] = {
        "status": "published",
        "sort": DEFAULT_SORT,
        "page": page,
        "per_page": per_page,
    }
    if tag is not None:
        args["tag"] = tag
    if author is not None:
        args["author"] = author
    return list_posts(args, None, cached_count)


def published_post(slug: str) -> Post | None:
    """The published, live post with this slug (its author, tags and feature image loaded)."""
    if not is_valid_slug(slug):
        return None
    query = select(Post).options(*SHOWN_WITH_POST).where(Post.slug == slug, live())
    post = db.session.scalars(query.where(Post.published_at <= request_now())).first()
    return post


def tag_with_posts(slug: str) -> Tag | None:
    """The tag with this slug, when some published post carries it."""
    published = (
        select(post_tags.c.post_id)
        .join(Post, Post.id == post_tags.c.post_id)
        .where(post_tags.c.tag_id == Tag.id, live(), Post.published_at <= request_now())
    )
    return db.session.scalar(select(Tag).where(Tag.slug == slug, published.exists()))


def author_named(username: str) -> User | None:
    """The user with this username (any case)."""
    return db.session.scalar(select(User).where(User.username_key == username_key(username)))


def changed_at(post: Post) -> datetime:
    """When a published post last changed for readers: its last edit, or its going live when
    later (publishing, or a scheduled post's time coming, writes no content)."""
    return max(post.updated_at, post.published_at or post.updated_at)


def last_changed(posts: list[Post]) -> datetime | None:
    """When the newest change among these posts was made (a feed's `updated`)."""
    return max((changed_at(post) for post in posts), default=None)


def last_modified(shown: list[Post]) -> datetime | None:
    """A page's or feed's Last-Modified: the latest write readers could see (a post that left
    it, an author renamed, a tag respelled), or a shown post's going live when that is later."""
    latest = content_changed_at()
    newest = last_changed(shown)
    return max((t for t in (latest, newest) if t is not None), default=None)
