"""Export the database to JSON Lines, streaming, from one consistent snapshot."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from itertools import groupby
from typing import IO, Any

import orjson
from sqlalchemy import ColumnElement, Connection, Table, func, select

from blogapi.backup.files import count_files, file_records
from blogapi.backup.schemas import FORMAT, KINDS, RECORDS, header_record
from blogapi.db.models import (
    Media,
    PersonalToken,
    Post,
    PostRevision,
    PostSlug,
    RevokedToken,
    Tag,
    User,
    post_tags,
)
from blogapi.db.sqlite import sqlite_in_transaction
from blogapi.db.webhook_models import Webhook, WebhookDelivery, WebhookEvent
from blogapi.extensions import db
from blogapi.posts.revisions.bodies import decode
from blogapi.timeutil import utcnow

BATCH = 1000
TABLES: dict[str, Table] = {
    "user": User.__table__,
    "tag": Tag.__table__,
    "media": Media.__table__,
    "post": Post.__table__,
    "revision": PostRevision.__table__,
    "revoked_token": RevokedToken.__table__,
    "personal_token": PersonalToken.__table__,
    "webhook": Webhook.__table__,
    "webhook_event": WebhookEvent.__table__,
    "webhook_delivery": WebhookDelivery.__table__,
}
EVENTS, DELIVERIES = WebhookEvent.__table__, WebhookDelivery.__table__
PENDING = DELIVERIES.c.state == "pending"
# Of the outbox, only what is still to happen: events not yet fanned out (a scheduled go-live
# among them) or with deliveries pending, and those deliveries. History stays behind.
CARRIED: dict[str, ColumnElement[bool]] = {
    "webhook_event": EVENTS.c.dispatched_at.is_(None)
    | EVENTS.c.id.in_(select(DELIVERIES.c.event_id).where(PENDING)),
    "webhook_delivery": PENDING,
}
WEBHOOK_KINDS = ("webhook", "webhook_event", "webhook_delivery")  # named only when there are some
OLD_SLUGS = PostSlug.__table__  # exported inside post records, as post_tags are
ORDER = {"revision": ("post_id", "number"), "revoked_token": ("jti",)}  # others: id order
PLURALS = {
    "user": "users",
    "tag": "tags",
    "media": "media",
    "file": "media files",
    "post": "posts",
    "revision": "revisions",
    "revoked_token": "revoked tokens",
    "personal_token": "personal access tokens",
    "webhook": "webhooks",
    "webhook_event": "pending webhook events",
    "webhook_delivery": "pending webhook deliveries",
}
Progress = Callable[[int], AbstractContextManager[Callable[[int], None]]]


def no_progress(_total: int) -> AbstractContextManager[Callable[[int], None]]:
    """A progress reporter that reports nothing."""
    return nullcontext(lambda _n: None)


def snapshot_connection() -> Connection:
    """The session's connection, in a transaction that sees one state of the whole database."""
    if db.engine.dialect.name == "postgresql":
        options = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
        return db.session.connection(execution_options=options)
    conn = db.session.connection()
    if conn.dialect.name == "sqlite" and not sqlite_in_transaction(conn):
        # pysqlite starts no transaction for SELECTs: each query would see its own state.
        conn.exec_driver_sql("BEGIN")
    return conn


def describe(counts: dict[str, int]) -> str:
    """'3 users, 30 tags, 2 media, 6 media files, 300 posts and 0 revoked tokens' (webhook
    records only when there are some: most sites have none)."""
    parts = [
        f"{counts[kind]} {PLURALS[kind]}"
        for kind in KINDS
        if kind in counts and (counts[kind] or kind not in WEBHOOK_KINDS)
    ]
    return " and ".join([", ".join(parts[:-1]), parts[-1]]) if len(parts) > 1 else "".join(parts)


def carried(kind: str) -> list[ColumnElement[bool]]:
    """The conditions on the rows of a kind that an export writes (none: every row)."""
    return [CARRIED[kind]] if kind in CARRIED else []


def count_rows(conn: Connection, *, exported: bool = False) -> dict[str, int]:
    """How many records of each kind the database holds (or, `exported`, an export writes)."""
    return {
        kind: conn.scalar(
            select(func.count()).select_from(table).where(*(carried(kind) if exported else []))
        )
        or 0
        for kind, table in TABLES.items()
    }


def export_database(out: IO[bytes], progress: Progress = no_progress) -> dict[str, int]:
    """Write a header and every user, tag, media (with its files), post, revision, revoked and
    personal token, webhook, and the pending webhook events and deliveries as JSON Lines; the
    counts. ExportProblem when a media file cannot be read."""
    conn = snapshot_connection()
    try:
        tables = count_rows(conn, exported=True)
        counts = {kind: tables[kind] if kind in tables else count_files(conn) for kind in KINDS}
        header = {"app": "blogapi", "exported_at": utcnow(), "counts": counts}
        write(out, "header", header_record.dump(header))
        with progress(sum(counts.values())) as advance:
            for kind in KINDS:
                schema, written = RECORDS[kind], 0
                for row in rows_of(conn, kind):
                    write(out, kind, schema.dump(row))
                    written += 1
                    if written % BATCH == 0:
                        advance(BATCH)
                advance(written % BATCH)
        out.flush()
    finally:
        db.session.rollback()
    return counts


def write(out: IO[bytes], kind: str, record: dict[str, Any]) -> None:
    """One record on one line, its type and format first."""
    out.write(orjson.dumps({"type": kind, "format": FORMAT, **record}) + b"\n")


def streamed(conn: Connection, query: Any) -> Iterator[Any]:
    """Rows fetched BATCH at a time (a server-side cursor on PostgreSQL)."""
    return iter(conn.execute(query, execution_options={"yield_per": BATCH}).mappings())


def rows_of(conn: Connection, kind: str) -> Iterator[Any]:
    """The rows of one kind in a stable order; media with their variants listed, then their
    files; posts with their tag ids and spellings, revisions with their bodies whole."""
    table = TABLES["media" if kind == "file" else kind]
    query = select(table).where(*carried(kind))
    rows = streamed(conn, query.order_by(*(table.c[c] for c in ORDER.get(kind, ["id"]))))
    if kind == "file":
        yield from file_records(rows)
        return
    if kind == "media":
        yield from ({**row, "variants": orjson.loads(row["variants"])} for row in rows)
        return
    if kind == "revision":
        yield from whole_bodies(rows)
        return
    if kind != "post":
        yield from rows
        return
    # Walk post_tags and post_slugs in post order beside the posts: one pass each, whatever
    # the number of posts.
    links = beside(
        streamed(conn, select(post_tags).order_by(post_tags.c.post_id, post_tags.c.tag_id))
    )
    slugs = beside(
        streamed(conn, select(OLD_SLUGS).order_by(OLD_SLUGS.c.post_id, OLD_SLUGS.c.slug))
    )
    for row in rows:
        tagged = links(row["id"])
        tags, names = [link["tag_id"] for link in tagged], [link["name"] for link in tagged]
        old_slugs = [old["slug"] for old in slugs(row["id"])]
        yield {**row, "tags": tags, "tag_names": names, "old_slugs": old_slugs}


def beside(rows: Iterator[Any]) -> Callable[[int], list[Any]]:
    """A reader of rows sorted by post_id, asked for each post's rows in post order."""
    pending = next(rows, None)

    def of(post_id: int) -> list[Any]:
        nonlocal pending
        found = []
        while pending is not None and pending["post_id"] <= post_id:
            if pending["post_id"] == post_id:
                found.append(pending)
            pending = next(rows, None)
        return found

    return of


def whole_bodies(rows: Iterator[Any]) -> Iterator[dict[str, Any]]:
    """Revisions in (post_id, number) order, each with its body decoded and its tags listed.

    One post's revisions are read together: a delta's keyframe may come after it (pruning
    rebases older deltas on the newest of them), so its keyframes are decoded first.
    """
    for _post_id, revisions in groupby(rows, key=lambda row: row["post_id"]):
        held = list(revisions)
        keyframes = {r["number"]: decode(r["body_data"]) for r in held if r["keyframe"] is None}
        for row in held:
            if row["keyframe"] is None:
                body = keyframes[row["number"]]
            else:
                body = decode(row["body_data"], keyframes.get(row["keyframe"]))
            yield {**row, "body": body, "tags": orjson.loads(row["tags"])}
