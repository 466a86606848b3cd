"""The trash: deleted posts wait here, out of every list, count, search and cache, with their
slug still reserved, until restored or purged."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import joinedload

from blogapi.db.models import Post, User, post_tags
from blogapi.extensions import db
from blogapi.posts.access import SHOWN_WITH_POST, can_see_history, is_editor
from blogapi.posts.service import load_post, save, stored
from blogapi.posts.tags import drop_orphan_tags
from blogapi.web.errors import ApiError

PURGE_BATCH = 500
POSTS = Post.__table__


def trashed_post(ident: str, user: User) -> Post:
    """A post in the trash the caller may see there (their own; editors: any); else 404."""
    post = load_post(ident, trashed=True)
    if post is None or not can_see_history(user, post):
        raise ApiError(404, f"No post {ident!r} in the trash.")
    return post


def restore_post(post: Post, *, conditional: bool) -> Post:
    """Bring the post back from the trash exactly as it was, status included, and commit."""
    post_id = post.id  # read before the commit expires it
    post.deleted_at = None
    post.deleted_by_id = None
    save(conditional=conditional)
    return stored(post_id)


def purge_post(post: Post, *, conditional: bool) -> None:
    """Delete the post for good (the database drops its tag links and revisions), and the
    tags no post uses now, and commit."""
    tag_ids = [tag.id for tag in post.tags]
    db.session.delete(post)
    save(conditional=conditional, then=lambda: drop_orphan_tags(tag_ids))


def trash_page(user: User, page: int, per_page: int) -> tuple[list[Post], int]:
    """One page of the trash the caller may see, most recently deleted first, and its size."""
    mine = [] if is_editor(user) else [Post.author_id == user.id]
    trashed = [Post.deleted_at.is_not(None), *mine]
    query = (
        select(Post)
        .options(*SHOWN_WITH_POST, joinedload(Post.deleted_by))
        .where(*trashed)
        .order_by(Post.deleted_at.desc(), Post.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    total = db.session.scalar(select(func.count()).select_from(Post).where(*trashed)) or 0
    return list(db.session.scalars(query)), total


def purge_expired(older_than: timedelta | None, now: datetime) -> int:
    """Purge the posts in the trash longer than `older_than` (None: all of them), in batches
    of one transaction each; how many went."""
    expired: list[ColumnElement[bool]] = [Post.deleted_at.is_not(None)]
    if older_than is not None:
        expired.append(Post.deleted_at <= now - older_than)
    purged = 0
    while True:
        batch = select(Post.id).where(*expired).order_by(Post.id).limit(PURGE_BATCH)
        ids = list(db.session.scalars(batch))
        if not ids:
            return purged
        linked = select(post_tags.c.tag_id).where(post_tags.c.post_id.in_(ids)).distinct()
        tag_ids = list(db.session.scalars(linked))
        # The conditions are asked again as it deletes: a post restored meanwhile stays.
        gone = db.session.connection().execute(delete(POSTS).where(POSTS.c.id.in_(ids), *expired))
        drop_orphan_tags(tag_ids)
        db.session.commit()
        purged += gone.rowcount
