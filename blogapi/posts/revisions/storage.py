"""Revisions: each save of a post's content, recorded in the save's own transaction, numbered
per post, pruned to REVISIONS_KEEP, and read back whole."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from flask import current_app
from sqlalchemy import Row, and_, bindparam, delete, func, insert, select, update
from sqlalchemy.orm import aliased, defer, joinedload

from blogapi.db.models import Post, PostRevision
from blogapi.extensions import db
from blogapi.posts.revisions.bodies import decode, encode, encode_full
from blogapi.posts.tags import tag_slug

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
    number, keyframe, keyframe_body = 1, None, None
    if not first:
        number, keyframe, keyframe_body = next_slot(post.id)
    data, is_delta = encode(post.body, keyframe_body)
    db.session.execute(
        insert(REVISIONS),
        {
            "post_id": post.id,
            "number": number,
            "created_at": post.updated_at,
            "author_id": editor_id,
            "title": post.title,
            "slug": post.slug,
            "summary": post.summary,
            "tags": tags_json(tags),
            "keyframe": keyframe if is_delta else None,
            "body_data": data,
        },
    )
    prune(post.id, number)


def next_slot(post_id: int) -> tuple[int, int | None, str | None]:
    """The number the post's next revision takes, and the newest keyframe (number, body)."""
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
        return 1, None, None
    return row[0] + 1, row[1], decode(row[2]) if row[2] is not None else None


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
    """The newest of these deltas becomes a keyframe, and the rest deltas against it."""
    keyframes = {
        number: decode(data)
        for number, data in db.session.execute(
            select(PostRevision.number, PostRevision.body_data).where(
                PostRevision.post_id == post_id,
                PostRevision.number.in_({row.keyframe for row in orphans}),
            )
        )
    }
    bodies = [(row.number, decode(row.body_data, keyframes[row.keyframe])) for row in orphans]
    # The newest is pruned last, so these rows are rewritten once every REVISIONS_KEEP saves;
    # rebased on the oldest, they were all rewritten again on every save past the limit
    # (seconds per save for a long body edited in small steps).
    new_key, new_key_body = bodies[-1]
    rows = [{"n": new_key, "keyframe": None, "data": encode_full(new_key_body)}]
    for number, body in bodies[:-1]:
        data, is_delta = encode(body, new_key_body)
        rows.append({"n": number, "keyframe": new_key if is_delta else None, "data": data})
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
        "tags": {tag_slug(name): name for name in names},
    }
