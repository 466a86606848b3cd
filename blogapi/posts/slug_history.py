"""Old slugs: a renamed post keeps its earlier addresses, which redirect to the current one."""

from __future__ import annotations

from sqlalchemy import delete, exists, select

from blogapi.db.models import Post, PostSlug
from blogapi.extensions import db
from blogapi.posts.access import live
from blogapi.posts.slugs import is_valid_slug


def remember_old_slug(post_id: int, old: str, new: str) -> None:
    """Record that the post gave up `old` for `new`, in the caller's transaction: `old` now
    leads to this post, and `new` is no longer anyone's old slug (the post holds it)."""
    db.session.execute(delete(PostSlug).where(PostSlug.slug.in_((old, new))))
    db.session.add(PostSlug(slug=old, post_id=post_id))


def renamed_post(slug: str) -> Post | None:
    """The live post that once had `slug`, while no post holds `slug` now (a post in the
    trash keeps holding its own)."""
    if not is_valid_slug(slug):
        return None
    held = exists().where(Post.slug == slug)
    query = select(Post).join(PostSlug, PostSlug.post_id == Post.id)
    return db.session.scalar(query.where(PostSlug.slug == slug, live(), ~held))
