"""Tags: normalising what clients type, linking posts to them as each post spells them,
dropping tags no post uses, and listing those on published posts."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, func, insert, select
from sqlalchemy.exc import IntegrityError

from blogapi.db.models import Post, Tag, post_tags
from blogapi.extensions import db
from blogapi.posts.access import live
from blogapi.posts.slugs import slugify
from blogapi.web.errors import ApiError

TAG_MAX_LENGTH = 40
TAG_CREATE_ATTEMPTS = 4  # look up, insert, look up again; once more if a race intervened


def tag_slug(name: str) -> str:
    """The identity of a tag: its name folded to an ASCII slug, "+" and "#" spelled out so that
    C, C++ and C# stay apart ("" when nothing is left)."""
    return slugify(name, TAG_MAX_LENGTH, symbols=True)


def merge_tags(names: list[str]) -> dict[str, str]:
    """Slug -> name for trimmed names, duplicates (same slug) merged, first spelling kept."""
    merged: dict[str, str] = {}
    for name in names:
        merged.setdefault(tag_slug(name), name)
    return merged


def resolve_tags(wanted: dict[str, str]) -> dict[str, int]:
    """Slug -> id of the Tag rows for these slugs (slug -> name), creating missing ones; safe
    when requests race."""
    if not wanted:
        return {}
    for _attempt in range(TAG_CREATE_ATTEMPTS):
        found = {
            slug: ident
            for slug, ident in db.session.execute(
                select(Tag.slug, Tag.id).where(Tag.slug.in_(wanted))
            )
        }
        missing = [
            {"slug": slug, "name": name} for slug, name in wanted.items() if slug not in found
        ]
        if not missing:
            return {slug: found[slug] for slug in wanted}
        try:
            with db.session.begin_nested():  # one statement however many are new
                db.session.execute(insert(Tag), missing)
        except IntegrityError:
            pass  # another request created one of them just now; the next lookup finds it
    raise ApiError(409, "The tags changed while saving; retry the request.")


def spellings(post_id: int) -> dict[str, str]:
    """Slug -> name of a post's tags, as the post spells them."""
    query = (
        select(Tag.slug, post_tags.c.name)
        .join(post_tags, post_tags.c.tag_id == Tag.id)
        .where(post_tags.c.post_id == post_id)
    )
    return {slug: name for slug, name in db.session.execute(query)}


def set_post_tags(post_id: int, wanted: dict[str, str], *, new_post: bool = False) -> None:
    """Link a post to exactly these tags (slug -> its spelling); tags it leaves that no other
    post uses are deleted.

    Call it once the post's own row is written in this transaction: that write holds the
    content-version row (PostgreSQL) or the database (SQLite) until the commit, so no other
    writer can drop a tag between this lookup and the link to it.
    """
    before: set[int] = set()
    if not new_post:
        linked = select(post_tags.c.tag_id).where(post_tags.c.post_id == post_id)
        before = set(db.session.scalars(linked))
        db.session.execute(delete(post_tags).where(post_tags.c.post_id == post_id))
    ids = resolve_tags(wanted)
    if ids:
        links = [
            {"post_id": post_id, "tag_id": ids[slug], "name": name} for slug, name in wanted.items()
        ]
        db.session.execute(insert(post_tags), links)
    drop_orphan_tags(before - set(ids.values()))


def drop_orphan_tags(tag_ids: Iterable[int]) -> None:
    """Delete those of these tags that no post uses any more (drafts included)."""
    tag_ids = list(tag_ids)
    if tag_ids:
        used = exists().where(post_tags.c.tag_id == Tag.id)
        db.session.execute(delete(Tag).where(Tag.id.in_(tag_ids), ~used))


def tag_counts(now: datetime) -> list[dict[str, Any]]:
    """Every tag with at least one published post, busiest first, named as the first of them
    to be published spells it (drafts and scheduled posts neither count nor name)."""
    published = (
        select(
            post_tags.c.tag_id,
            post_tags.c.name,
            func.count().over(partition_by=post_tags.c.tag_id).label("post_count"),
            func.row_number()
            .over(partition_by=post_tags.c.tag_id, order_by=(Post.published_at, Post.id))
            .label("rank"),
        )
        .join(Post, Post.id == post_tags.c.post_id)
        .where(Post.published_at <= now, live())
        .subquery()
    )
    query = (
        select(published.c.name, Tag.slug, published.c.post_count)
        .join(Tag, Tag.id == published.c.tag_id)
        .where(published.c.rank == 1)
        .order_by(published.c.post_count.desc(), Tag.slug)
    )
    return [row._asdict() for row in db.session.execute(query)]
