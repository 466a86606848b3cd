"""Revisions: each save of a post's content, recorded in the save's own transaction, numbered
per post, pruned to REVISIONS_KEEP, and read back whole."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import SimpleNamespace
from typing import Any, cast

import orjson
from flask import current_app
from sqlalchemy import Row, and_, bindparam, delete, func, insert, select, update
from sqlalchemy.orm import aliased, defer, joinedload

from blogapi.db.models import Post, PostRevision
from blogapi.extensions import db
from blogapi.posts.revisions.bodies import decode, encode, encode_full
from blogapi.posts.tags import merge_tags, tag_slug

REVISIONS = PostRevision.__table__
CONTENT = ("title", "slug", "summary", "body", "tags")  # what a revision holds, diff's order


def tags_json(names: dict[str, str]) -> str:
    """A revision's tags (slug -> spelling) as stored: the spellings in slug order."""
    return orjson.dumps([names[slug] for slug in sorted(names)]).decode()


def tag_names(revision: PostRevision) -> list[str]:
    """The tags as the revision spelled them, in slug order."""
    names: list[str] = orjson.loads(revision.tags)
    return names


def tag_slugs(revision: PostRevision) -> list[str]:
    """The revision's tags as posts show theirs: slugs."""
    return [tag_slug(name) for name in tag_names(revision)]


def record_revision(
    post: Post, editor_id: int, tags: dict[str, str], *, first: bool = False
) -> None:
    """Add the post's next revision, as it now is in this transaction, and prune the oldest
    beyond REVISIONS_KEEP. `first`: the post is new, so nothing is read."""
    number, bodies = (1, BodyStore()) if first else next_slot(post.id)
    keyframe, data = bodies.store(number, post.body)
    db.session.execute(
        insert(REVISIONS), revision_row(post, editor_id, tags, number, data, keyframe)
    )
    prune(post.id, number)


def revision_row(
    post: Any,
    editor_id: int,
    tags: dict[str, str],
    number: int = 1,
    body_data: bytes | None = None,
    keyframe: int | None = None,
) -> dict[str, Any]:
    """The row of the post's revision `number` as it now is (any object with a post's id,
    updated_at, title, slug, summary and body: a Post, or a row being seeded or migrated);
    its body stored whole unless its stored form is given."""
    return {
        "post_id": post.id,
        "number": number,
        "created_at": post.updated_at,
        "author_id": editor_id,
        "title": post.title,
        "slug": post.slug,
        "summary": post.summary,
        "tags": tags_json(tags),
        "keyframe": keyframe,
        "body_data": encode_full(post.body) if body_data is None else body_data,
    }


class BodyStore:
    """Stores one post's revision bodies, given one after another, as record_revision stores
    each: a delta against the last keyframe when that pays, else whole (a new keyframe)."""

    def __init__(
        self, keyframe: int | None = None, keyframe_body: str | None = None, size: int = 0
    ) -> None:
        self.keyframe = keyframe
        self.keyframe_body = keyframe_body
        self.keyframe_size = size or None  # the keyframe's stored bytes, when known

    def store(self, number: int, body: str) -> tuple[int | None, bytes]:
        """Revision `number`'s keyframe (None: stored whole) and body_data."""
        data, is_delta = encode(body, self.keyframe_body, self.keyframe_size)
        if is_delta:
            return self.keyframe, data
        self.keyframe, self.keyframe_body, self.keyframe_size = number, body, len(data)
        return None, data


def first_revision(post: Mapping[str, Any], names: list[str]) -> dict[str, Any]:
    """Revision 1 of a post that has none (a post from before revisions were kept, seeded or
    imported from an older file), as it now is: saved by its author when it was last updated."""
    return revision_row(SimpleNamespace(**post), post["author_id"], merge_tags(names))


def next_slot(post_id: int) -> tuple[int, BodyStore]:
    """The number the post's next revision takes, and a store of bodies holding the newest
    keyframe."""
    latest, key = aliased(PostRevision), aliased(PostRevision)
    on_key = and_(
        key.post_id == latest.post_id, key.number == func.coalesce(latest.keyframe, latest.number)
    )
    row = db.session.execute(
        select(latest.number, key.number, key.body_data)
        .outerjoin(key, on_key)
        .where(latest.post_id == post_id)
        .order_by(latest.number.desc())
        .limit(1)
    ).first()
    if row is None:  # a post from before revisions were kept
        return 1, BodyStore()
    number, keyframe, data = row[0], row[1], cast(bytes | None, row[2])  # outer join: may be NULL
    if data is None:  # its keyframe is gone (damaged): the next save starts a new one
        return number + 1, BodyStore()
    return number + 1, BodyStore(keyframe, decode(data), len(data))


def prune(post_id: int, newest: int) -> None:
    """Delete the revisions older than the newest REVISIONS_KEEP (0: keep all); deltas that
    outlive their keyframe are rewritten against a kept one first."""
    keep: int = current_app.config["REVISIONS_KEEP"]
    if not keep or newest <= keep:
        return
    cutoff = newest - keep
    orphans = db.session.execute(
        select(PostRevision.number, PostRevision.keyframe, PostRevision.body_data)
        .where(
            PostRevision.post_id == post_id,
            PostRevision.number > cutoff,
            PostRevision.keyframe <= cutoff,
        )
        .order_by(PostRevision.number)
    ).all()
    if orphans:
        rebase(post_id, orphans)
    db.session.execute(
        delete(REVISIONS).where(REVISIONS.c.post_id == post_id, REVISIONS.c.number <= cutoff)
    )


def rebase(post_id: int, orphans: Sequence[Row[int, int | None, bytes]]) -> None:
    """These deltas stored again as a save would, newest first: the newest whole, as a
    keyframe, the rest against it (or an older keyframe, where a delta would not pay)."""
    keyframes = {
        number: decode(data)
        for number, data in db.session.execute(
            select(PostRevision.number, PostRevision.body_data).where(
                PostRevision.post_id == post_id,
                PostRevision.number.in_({row.keyframe for row in orphans}),
            )
        )
    }
    # The newest is pruned last, so these rows are rewritten once every REVISIONS_KEEP saves;
    # rebased on the oldest, they were all rewritten again on every save past the limit
    # (seconds per save for a long body edited in small steps).
    store = BodyStore()
    rows = []
    for row in reversed(orphans):
        keyframe, data = store.store(row.number, decode(row.body_data, keyframes[row.keyframe]))
        rows.append({"n": row.number, "keyframe": keyframe, "data": data})
    db.session.connection().execute(
        update(REVISIONS)
        .where(REVISIONS.c.post_id == post_id, REVISIONS.c.number == bindparam("n"))
        .values(keyframe=bindparam("keyframe"), body_data=bindparam("data")),
        rows,
    )


def revision_page(post_id: int, page: int, per_page: int) -> tuple[list[PostRevision], int]:
    """One page of the post's revisions, newest first, bodies not read; and how many it has."""
    query = (
        select(PostRevision)
        .options(joinedload(PostRevision.author), defer(PostRevision.body_data))
        .where(PostRevision.post_id == post_id)
        .order_by(PostRevision.number.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    total = db.session.scalar(
        select(func.count()).select_from(PostRevision).where(PostRevision.post_id == post_id)
    )
    return list(db.session.scalars(query)), total or 0


def find_revision(post_id: int, number: int) -> PostRevision | None:
    """Revision `number` of the post, its author loaded."""
    query = (
        select(PostRevision)
        .options(joinedload(PostRevision.author))
        .where(PostRevision.post_id == post_id, PostRevision.number == number)
    )
    return db.session.scalars(query).first()


def body_of(revision: PostRevision) -> str:
    """The revision's body, whole (a delta is applied to its keyframe's body)."""
    if revision.keyframe is None:
        return decode(revision.body_data)
    keyframe = db.session.scalar(
        select(PostRevision.body_data).where(
            PostRevision.post_id == revision.post_id, PostRevision.number == revision.keyframe
        )
    )
    return decode(revision.body_data, None if keyframe is None else decode(keyframe))


def content_of(revision: PostRevision) -> dict[str, Any]:
    """What a restore writes back: the revision's title, slug, summary, body and tags (slug ->
    spelling), in the shape a post edit takes."""
    names = tag_names(revision)
    return {
        "title": revision.title,
        "slug": revision.slug,
        "summary": revision.summary,
        "body": body_of(revision),
        "tags": merge_tags(names),
    }
