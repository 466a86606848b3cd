"""The life of a post: find it, create it, edit it (each change of content recording a
revision, blogapi/posts/revisions), publish and unpublish it, and move it to the trash (where
blogapi/posts/history lists, restores and purges it).

The commit rule: every function here that changes a post commits before it returns (and hands
back the post as now stored), or rolls back and raises; resources never commit. A write that
another request overtook is 409, or 412 when the caller made it conditional on an ETag.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from blogapi.db.models import Post, User
from blogapi.extensions import db
from blogapi.media.service import usable_feature_image
from blogapi.posts.access import SHOWN_WITH_POST, can_see
from blogapi.posts.markdown import render_markdown
from blogapi.posts.revisions.storage import record_revision
from blogapi.posts.search.document import plain_text, tag_text
from blogapi.posts.slug_history import remember_old_slug
from blogapi.posts.slugs import MAX_SLUG_LENGTH, is_valid_slug, slugify, with_suffix
from blogapi.posts.tags import set_post_tags, spellings
from blogapi.timeutil import request_now
from blogapi.web.cursors import MAX_ID
from blogapi.web.errors import ApiError

NUMBERED_SLUG_TRIES = 20
RANDOM_SLUG_TRIES = 5
SLUG_TAKEN = "This slug is already taken."
OVERTAKEN = "The post changed while this request ran; fetch it again and retry."


def load_post(ident: str, *, trashed: bool = False) -> Post | None:
    """A live post (or, with `trashed`, one in the trash) by id (all digits) or slug, with its
    author and tags loaded."""
    query = select(Post).options(*SHOWN_WITH_POST)
    query = query.where(Post.deleted_at.is_not(None) if trashed else Post.deleted_at.is_(None))
    if ident.isascii() and ident.isdigit():
        post_id = int(ident)
        if not 1 <= post_id <= MAX_ID:
            return None
        query = query.where(Post.id == post_id)
    elif is_valid_slug(ident.lower()):
        query = query.where(Post.slug == ident.lower())
    else:
        return None  # no post has such a slug; and PostgreSQL refuses some (NUL) outright
    return db.session.scalars(query.execution_options(populate_existing=True)).first()


def visible_post(ident: str, user: User | None) -> Post:
    """The post if the caller may see it; 404 when it is absent or not theirs to see."""
    post = load_post(ident)
    if post is None or not can_see(user, post, request_now()):
        raise ApiError(404, f"No post {ident!r}.")
    return post


def slug_candidates(title: str) -> Iterator[str]:
    """The title's slug, then -2, -3 …, then random suffixes; never digits only."""
    base = slugify(title, MAX_SLUG_LENGTH - 5) or "post"
    if base.isdigit():
        base = f"post-{base}"  # a bare number would read as an id in /posts/{id or slug}
    yield base
    for n in range(2, NUMBERED_SLUG_TRIES + 1):
        yield with_suffix(base, n)
    for _ in range(RANDOM_SLUG_TRIES):
        yield with_suffix(base, 10**8 + secrets.randbelow(9 * 10**8))  # nine digits


def taken_slugs(candidates: list[str]) -> set[str]:
    """Which of these slugs posts (live or in the trash) already have, in one query."""
    return set(db.session.scalars(select(Post.slug).where(Post.slug.in_(candidates))))


def free_slug_candidates(title: str) -> Iterator[str]:
    """The title's own slug (usually free: no look first), then, once it turned out taken, the
    numbered candidates less those already taken, looked up once: trying each taken one cost an
    insert, a failure and a rollback. The unique constraint still decides, since another
    request may take a free one first."""
    first, *numbered = slug_candidates(title)
    yield first
    taken = taken_slugs(numbered[: NUMBERED_SLUG_TRIES - 1])
    yield from (slug for slug in numbered if slug not in taken)


def is_slug_conflict(error: IntegrityError) -> bool:
    """Whether the unique constraint on posts.slug is what failed (SQLite or PostgreSQL)."""
    message = str(error.orig)
    return "uq_posts_slug" in message or "posts.slug" in message


def slug_taken() -> ApiError:
    """409 for a client-chosen slug another post has."""
    return ApiError(409, "Another post already uses this slug.", errors={"slug": [SLUG_TAKEN]})


def create_post(data: dict[str, Any], author: User) -> Post:
    """Insert a post, trying slug suffixes until the unique constraint accepts one: a draft,
    unless `published_at` (which only other features pass: the API creates drafts) says when
    it goes live, in the same transaction."""
    now = request_now()
    body_html = render_markdown(data["body"])
    post = Post(
        title=data["title"],
        body=data["body"],
        body_html=body_html,
        body_text=plain_text(body_html),
        tag_names=tag_text(data.get("tags", {}).values()),
        summary=data.get("summary", ""),
        feature_image_id=usable_feature_image(data.get("feature_image_id"), author),
        published_at=data.get("published_at"),
        author=author,
        created_at=now,
        updated_at=now,
    )
    chosen = data.get("slug")
    for slug in [chosen] if chosen else free_slug_candidates(data["title"]):
        post.slug = slug
        try:
            with db.session.begin_nested():  # a lost slug race undoes only this insert
                db.session.add(post)
        except IntegrityError as exc:
            if not is_slug_conflict(exc):
                raise
            continue
        post_id = post.id  # read before the commit expires it
        save(conditional=False, then=partial(first_links, post, data.get("tags", {}), author.id))
        return stored(post_id)
    db.session.rollback()
    if chosen:
        raise slug_taken()
    raise ApiError(409, "No free slug could be found for this title; choose a slug.")


def first_links(post: Post, tags: dict[str, str], author_id: int) -> None:
    """A new post's tag links and its first revision."""
    set_post_tags(post.id, tags, new_post=True)
    record_revision(post, author_id, tags, first=True)


def stored(post_id: int) -> Post:
    """The post as now committed, author and tags loaded."""
    # Moved to the trash by another request between our commit and this read, it still holds
    # this write: say that it happened, as it is.
    post = load_post(str(post_id)) or load_post(str(post_id), trashed=True)
    if post is None:  # purged by another request between our commit and this read
        raise ApiError(409, OVERTAKEN)
    return post


def update_post(post: Post, data: dict[str, Any], editor: User, *, conditional: bool) -> Post:
    """Apply a partial edit (the slug changes only when asked) and commit it with a revision
    by `editor` (`published_at`, which only other features pass, changes with it but is not
    content: no revision for it alone)."""
    if "feature_image_id" in data:
        data = {**data, "feature_image_id": usable_feature_image(data["feature_image_id"], editor)}
    changes = {k: v for k, v in data.items() if k != "tags" and getattr(post, k) != v}
    current = spellings(post.id)
    tags = data.get("tags")
    if tags is not None and tags == current:
        tags = None  # the same tags, spelled the same
    renamed_from = post.slug if "slug" in changes else None
    for field, value in changes.items():
        setattr(post, field, value)
    if "body" in changes:
        post.body_html = render_markdown(post.body)
        post.body_text = plain_text(post.body_html)
    if tags is not None:
        post.tag_names = tag_text(tags.values())
    content_changed = (
        bool(changes.keys() - {"feature_image_id", "published_at"}) or tags is not None
    )
    revision = Revision(editor.id, current if tags is None else tags) if content_changed else None
    return commit_change(
        post,
        bool(changes) or tags is not None,
        conditional=conditional,
        tags=tags,
        revision=revision,
        renamed_from=renamed_from,
    )


def publish_post(post: Post, publish_at: datetime | None, *, conditional: bool) -> Post:
    """Publish now, or at `publish_at` (future: scheduled; past: backdated), and commit.

    Publishing an already published post without a time keeps its original date.
    """
    now = request_now()
    keep = post.published_at if post.status_at(now) == "published" else now
    return set_published_at(post, keep if publish_at is None else publish_at, conditional)


def unpublish_post(post: Post, *, conditional: bool) -> Post:
    """Back to draft, and commit."""
    return set_published_at(post, None, conditional)


def set_published_at(post: Post, when: datetime | None, conditional: bool) -> Post:
    """Publish, schedule or unpublish; commit when anything changed."""
    changed = post.published_at != when
    if changed:
        post.published_at = when
    return commit_change(post, changed, conditional=conditional)


@dataclass(frozen=True)
class Revision:
    """A revision a content change records: who saved it, and the post's tags after it."""

    editor_id: int
    tags: dict[str, str]


def commit_change(
    post: Post,
    changed: bool,
    *,
    conditional: bool,
    tags: dict[str, str] | None = None,
    revision: Revision | None = None,
    renamed_from: str | None = None,
) -> Post:
    """Stamp updated_at and commit when something changed (the tags too, when given, a
    revision of the content, when asked, and the slug it gave up); the post as now stored."""
    if not changed:
        return post
    post.updated_at = request_now()
    post_id = post.id

    def links_and_revision() -> None:
        if tags is not None:
            set_post_tags(post_id, tags)
        if revision is not None:
            record_revision(post, revision.editor_id, revision.tags)
        if renamed_from is not None:
            remember_old_slug(post_id, renamed_from, post.slug)

    save(conditional=conditional, then=links_and_revision)
    return stored(post_id)


def save(*, conditional: bool, then: Callable[[], None] | None = None) -> None:
    """Write the post, run `then` (tag links, which must follow the post's own row), and
    commit; 409 for a taken slug, 412/409 when another write got there first."""
    try:
        db.session.flush()
        if then is not None:
            then()
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        if is_slug_conflict(exc):
            raise slug_taken() from None
        raise
    except StaleDataError:
        db.session.rollback()
        raise ApiError(412 if conditional else 409, OVERTAKEN) from None
    except BaseException:
        db.session.rollback()  # e.g. 409 from the tags; nothing of this write stays
        raise


def trash_post(post: Post, user: User, *, conditional: bool) -> None:
    """Move the post to the trash (blogapi/posts/history/trash.py), as `user` did now, and
    commit: it leaves every list at once, and keeps its slug."""
    post.deleted_at = request_now()
    post.deleted_by_id = user.id
    save(conditional=conditional)
