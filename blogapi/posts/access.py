"""Who may see and change which posts, as of one moment per request."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, false, or_, true
from sqlalchemy.orm import joinedload, selectinload

from blogapi.db.models import Post, User
from blogapi.security.roles import at_least

STATUSES = ("draft", "scheduled", "published", "all")
# What a post's JSON shows besides its own row, loaded with every post that is shown.
SHOWN_WITH_POST = (
    joinedload(Post.author),
    joinedload(Post.feature_image),
    selectinload(Post.tags),
)


def is_editor(user: User | None) -> bool:
    """Editors and admins may see and change every post."""
    return user is not None and at_least(user.role, "editor")


def is_owner(user: User | None, post: Post) -> bool:
    """Whether `user` wrote `post`."""
    return user is not None and post.author_id == user.id


def can_see(user: User | None, post: Post, now: datetime) -> bool:
    """Published posts are public; drafts and scheduled ones only for their author and editors."""
    return post.status_at(now) == "published" or is_owner(user, post) or is_editor(user)


def can_edit(user: User, post: Post, now: datetime) -> bool:
    """Editors edit anything; authors their own posts; contributors their own drafts."""
    if is_editor(user):
        return True
    if not is_owner(user, post):
        return False
    return at_least(user.role, "author") or post.status_at(now) == "draft"


def can_publish(user: User, post: Post) -> bool:
    """Editors publish anything; authors their own posts; contributors nothing."""
    return is_editor(user) or (is_owner(user, post) and at_least(user.role, "author"))


can_delete = can_edit  # the contract gives deleting exactly the rights of editing


def unpublished_rows_visible_to(user: User | None) -> ColumnElement[bool]:
    """Which drafts and scheduled posts the caller may list."""
    if is_editor(user):
        return true()
    if user is None:
        return false()
    return Post.author_id == user.id


def can_see_history(user: User, post: Post) -> bool:
    """Its author (any role) and editors see a post's revisions, and the post in the trash."""
    return is_editor(user) or is_owner(user, post)


def live() -> ColumnElement[bool]:
    """Posts not in the trash: the only ones any list, count, search or feed shows."""
    return Post.deleted_at.is_(None)


def status_filter(status: str, user: User | None, now: datetime) -> ColumnElement[bool]:
    """The WHERE clause for a list's `status`, limited to what the caller may see."""
    published = Post.published_at <= now
    mine = unpublished_rows_visible_to(user)
    if status == "published":
        return published
    if status == "draft":
        return and_(Post.published_at.is_(None), mine)
    if status == "scheduled":
        return and_(Post.published_at > now, mine)
    return or_(published, mine)
