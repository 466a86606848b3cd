"""Tags: normalising what clients type, finding or creating rows, counting published posts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from blogapi.db.models import Post, Tag, post_tags
from blogapi.extensions import db
from blogapi.posts.slugs import slugify
from blogapi.web.errors import ApiError

TAG_MAX_LENGTH = 40
TAG_CREATE_ATTEMPTS = 4  # look up, insert, look up again; once more if a race intervened


def tag_slug(name: str) -> str:
    """The identity of a tag: its name folded to an ASCII slug ("" when nothing is left)."""
    return slugify(name, TAG_MAX_LENGTH)


def merge_tags(names: list[str]) -> dict[str, str]:
    """Slug -> name for trimmed names, duplicates (same slug) merged, first spelling kept."""
    merged: dict[str, str] = {}
    for name in names:
        merged.setdefault(tag_slug(name), name)
    return merged


def resolve_tags(wanted: dict[str, str]) -> list[Tag]:
    """The Tag rows for these slugs, creating missing ones; safe when requests race."""
    if not wanted:
        return []
    for _attempt in range(TAG_CREATE_ATTEMPTS):
        found = {
            tag.slug: tag for tag in db.session.scalars(select(Tag).where(Tag.slug.in_(wanted)))
        }
        missing = [
            {"slug": slug, "name": name} for slug, name in wanted.items() if slug not in found
        ]
        if not missing:
            return [found[slug] for slug in wanted]
        try:
            with db.session.begin_nested():  # one statement however many are new
                db.session.execute(insert(Tag), missing)
        except IntegrityError:
            pass  # another request created one of them just now; the next lookup finds it
    raise ApiError(409, "The tags changed while saving; retry the request.")


def tag_counts(now: datetime) -> list[dict[str, Any]]:
    """Every tag with at least one published post, busiest first."""
    count = func.count(post_tags.c.post_id).label("post_count")
    query = (
        select(Tag.name, Tag.slug, count)
        .join(post_tags, post_tags.c.tag_id == Tag.id)
        .join(Post, Post.id == post_tags.c.post_id)
        .where(Post.published_at <= now)
        .group_by(Tag.id, Tag.name, Tag.slug)
        .order_by(count.desc(), Tag.slug)
    )
    return [row._asdict() for row in db.session.execute(query)]
