"""Import an export file into an empty database: every record checked, ids kept, one transaction."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import IO, Any

import orjson
from marshmallow import ValidationError
from sqlalchemy import Connection, insert, text
from sqlalchemy.exc import IntegrityError

from blogapi.backup.export import (
    BATCH,
    OLD_SLUGS,
    TABLES,
    Progress,
    count_rows,
    describe,
    no_progress,
)
from blogapi.backup.files import FileImport
from blogapi.backup.schemas import KINDS, READABLE_FORMATS, RECORDS, SINCE, header_record
from blogapi.backup.webhook_checks import WebhookChecks
from blogapi.db.models import email_key, post_tags, username_key
from blogapi.db.sqlite import take_sqlite_write_lock
from blogapi.extensions import db
from blogapi.media.service import clean_filename
from blogapi.posts.markdown import render_markdown
from blogapi.posts.revisions.storage import REVISIONS, BodyStore, first_revision, tags_json
from blogapi.posts.search.document import plain_text, tag_text
from blogapi.posts.tags import merge_tags
from blogapi.web.errors import flatten_messages

# Values that must be unique besides the id, in the form the database compares them.
UNIQUE = {
    "user": (("username", username_key), ("email", email_key)),
    "tag": (("slug", str),),
    "post": (("slug", str),),
    "webhook_event": (("uid", str),),
}
REFERENCES = {
    "media": (("uploader_id", "user"),),
    "post": (
        ("author_id", "user"),
        ("deleted_by_id", "user"),
        ("tags", "tag"),
        ("feature_image_id", "media"),
    ),
    "revision": (("post_id", "post"), ("author_id", "user")),
    "revoked_token": (("user_id", "user"),),
    "personal_token": (("user_id", "user"),),
    "webhook_event": (("webhook_id", "webhook"),),
    "webhook_delivery": (("webhook_id", "webhook"), ("event_id", "webhook_event")),
}
REVISIONS_SINCE = SINCE["revision"]  # older files get revision 1s
# Tables whose ids come from a sequence on PostgreSQL.
SEQUENCED = (
    "users",
    "tags",
    "media",
    "posts",
    "personal_tokens",
    "webhooks",
    "webhook_events",
    "webhook_deliveries",
)


class ImportProblem(Exception):
    """The file cannot be imported; the message says on which line and why."""


def import_database(lines: IO[bytes], progress: Progress = no_progress) -> dict[str, int]:
    """Load an export into this empty database and its media files into the media storage,
    and commit; or change nothing (the files stored are removed again); the counts."""
    conn = locked_connection()
    files = FileImport(ImportProblem)
    try:
        refuse_non_empty(conn)
        records = numbered_records(lines)
        version, expected = read_header(records)
        importer = Importer(conn, version, files)
        with progress(sum(expected.values())) as advance:
            for number, record in records:
                advance(importer.add(number, record))
            advance(importer.flush())
        importer.check_counts(expected)
        files.check_complete()
        importer.counts["revision"] += importer.first_revisions
        reset_sequences(conn)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        files.remove_stored()
        raise
    return importer.counts


def locked_connection() -> Connection:
    """The session's connection, holding off other writers until the import commits."""
    conn = db.session.connection()
    if conn.dialect.name == "postgresql":
        tables = ", ".join([*(t.name for t in TABLES.values()), post_tags.name, OLD_SLUGS.name])
        conn.exec_driver_sql(f"LOCK TABLE {tables} IN EXCLUSIVE MODE")
    else:
        take_sqlite_write_lock(conn)
    return conn


def refuse_non_empty(conn: Connection) -> None:
    """Stop unless the database has no records at all."""
    found = {kind: n for kind, n in count_rows(conn).items() if n}
    if found:
        raise ImportProblem(
            f"the database is not empty (it has {describe(found)}); import only into "
            "a new database made with `manage.py db upgrade`"
        )


def numbered_records(lines: Iterable[bytes]) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, JSON object) for every non-blank line."""
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ImportProblem(f"line {number}: not valid JSON ({exc.msg})") from None
        if not isinstance(value, dict):
            raise ImportProblem(f"line {number}: a record must be a JSON object")
        yield number, value


def read_header(records: Iterator[tuple[int, dict[str, Any]]]) -> tuple[int, dict[str, int]]:
    """The file's format and the record counts its header promises; a file without a header
    is refused."""
    number, record = next(records, (0, None))
    if record is None:
        raise ImportProblem("the file is empty")
    if record.get("type") != "header":
        raise ImportProblem(f"line {number}: not a blogapi export (it must start with a header)")
    counts = load(number, "header", record)["counts"]
    return record["format"], {**dict.fromkeys(KINDS, 0), **counts}


def load(number: int, kind: str, record: dict[str, Any]) -> dict[str, Any]:
    """A record checked against its schema, or a problem naming the line and the fields."""
    record = dict(record)
    record.pop("type")
    version = record.pop("format", None)
    if version not in READABLE_FORMATS:
        raise ImportProblem(
            f"line {number}: format {version!r} is not one this blogapi reads "
            f"({', '.join(map(str, READABLE_FORMATS))})"
        )
    try:
        data: dict[str, Any] = (header_record if kind == "header" else RECORDS[kind]).load(record)
        return data
    except ValidationError as exc:
        fields = flatten_messages(exc.normalized_messages())
        detail = "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in fields.items())
        raise ImportProblem(f"line {number}: bad {kind} record: {detail}") from None


class Importer:
    """Checks records against each other and inserts them in batches, in file order."""

    def __init__(self, conn: Connection, version: int, files: FileImport) -> None:
        self.conn = conn
        self.version = version
        self.files = files
        self.lines: dict[str, dict[Any, int]] = {kind: {} for kind in KINDS}  # id -> line
        self.unique: dict[str, int] = {}  # "kind field value" -> line
        self.counts = dict.fromkeys(KINDS, 0)
        self.kind = ""
        self.rows: list[dict[str, Any]] = []
        self.links: list[dict[str, Any]] = []
        self.old_slugs: list[dict[str, Any]] = []
        self.tag_names: dict[int, str] = {}  # for format 1 posts, which only name tag ids
        self.firsts: list[dict[str, Any]] = []  # revision 1 of each post of a format 1-2 file
        self.first_revisions = 0
        self.revised: tuple[tuple[int, int], int] | None = None  # last (post_id, number), line
        self.bodies_of, self.bodies = 0, BodyStore()  # the post whose revisions come now
        self.webhooks = WebhookChecks(ImportProblem)

    def add(self, number: int, record: dict[str, Any]) -> int:
        """Check one record and queue it; how many records were written to make room."""
        kind = record.get("type")
        if kind not in RECORDS:
            raise ImportProblem(f"line {number}: unknown record type {kind!r}")
        if self.version < SINCE.get(kind, 1):
            raise ImportProblem(
                f"line {number}: a format {self.version} file has no {kind} records "
                f"(they came with format {SINCE[kind]})"
            )
        data = load(number, kind, record)
        if kind != "file":
            self.check_identity(number, kind, data)
            self.check_references(number, kind, data)
            self.webhooks.check(number, kind, data)
        if kind == "media":
            self.files.expect(number, data)
        written = self.flush() if kind != self.kind or len(self.rows) >= BATCH else 0
        self.kind = kind
        self.counts[kind] += 1
        if kind == "file":  # stored now, one at a time: no more than one file is held
            self.files.store(number, data["key"], data["data"])
            return written + 1
        self.queue(kind, data)
        return written

    def check_identity(self, number: int, kind: str, data: dict[str, Any]) -> None:
        """Refuse a record whose id, or a value that must be unique, came before."""
        if kind == "revision":
            self.check_order(number, data)
            return
        ident = data["jti"] if kind == "revoked_token" else data["id"]
        if ident in self.lines[kind]:
            first = self.lines[kind][ident]
            raise ImportProblem(f"line {number}: {kind} {ident!r} is already on line {first}")
        self.lines[kind][ident] = number
        for field, key in UNIQUE.get(kind, ()):
            name = f"{kind} {field} {key(data[field])}"
            if name in self.unique:
                raise ImportProblem(
                    f"line {number}: {field} {data[field]!r} is already used on line "
                    f"{self.unique[name]} (compared without regard to case)"
                )
            self.unique[name] = number
        for old in data.get("old_slugs", ()):  # each leads to one post
            name = f"post old_slug {old}"
            if name in self.unique:
                raise ImportProblem(
                    f"line {number}: old slug {old!r} is already used on line {self.unique[name]}"
                )
            self.unique[name] = number

    def check_order(self, number: int, data: dict[str, Any]) -> None:
        """Refuse a revision that is not after the one before it in (post_id, number) order:
        a post's bodies are stored again in number order, one post at a time."""
        key = (data["post_id"], data["number"])
        if self.revised is not None:
            (post_id, revision), line = self.revised
            if key == (post_id, revision):
                raise ImportProblem(
                    f"line {number}: revision {revision} of post {post_id} is already on "
                    f"line {line}"
                )
            if key < (post_id, revision):
                raise ImportProblem(
                    f"line {number}: revision {key[1]} of post {key[0]} comes after revision "
                    f"{revision} of post {post_id} (line {line}): revisions must be in "
                    "(post_id, number) order"
                )
        self.revised = key, number

    def check_references(self, number: int, kind: str, data: dict[str, Any]) -> None:
        """Refuse a record that points to a user, tag or post not defined on an earlier line."""
        for field, target in REFERENCES.get(kind, ()):
            values = data[field] if isinstance(data[field], list) else [data[field]]
            for value in values:
                if value is None:
                    continue
                if value not in self.lines[target]:
                    raise ImportProblem(
                        f"line {number}: {field} refers to {target} {value}, "
                        "which no earlier line defines"
                    )

    def queue(self, kind: str, data: dict[str, Any]) -> None:
        """Turn a record into a table row (and post_tags rows) waiting to be inserted."""
        if kind == "user":
            data["username_key"] = username_key(data["username"])
            data["email_key"] = email_key(data["email"])
            pending = data["pending_email"]
            data["pending_email_key"] = None if pending is None else email_key(pending)
        if kind == "tag":
            self.tag_names[data["id"]] = data["name"]
        if kind == "media":
            # Cleaned as an upload's name is: a crafted file's names are never shown as given.
            data["filename"] = clean_filename(data["filename"], data["key"].rsplit(".", 1)[1])
            data["variants"] = orjson.dumps(data["variants"]).decode()
        if kind == "post":
            # Rendered here as every write renders it: a crafted file's body_html is never served.
            data["body_html"] = render_markdown(data["body"])
            data["body_text"] = plain_text(data["body_html"])
            tags = data.pop("tags")
            names = data.pop("tag_names") or [self.tag_names[tag] for tag in tags]
            data["tag_names"] = tag_text(names)
            self.links += [
                {"post_id": data["id"], "tag_id": tag, "name": name}
                for tag, name in zip(tags, names, strict=True)
            ]
            self.old_slugs += [
                {"slug": old, "post_id": data["id"]} for old in data.pop("old_slugs")
            ]
            if self.version < REVISIONS_SINCE:  # as migration 5e2d8a41c7b9 gave every post
                self.firsts.append(first_revision(data, names))
        if kind == "revision":
            if data["post_id"] != self.bodies_of:
                self.bodies_of, self.bodies = data["post_id"], BodyStore()
            data["keyframe"], data["body_data"] = self.bodies.store(
                data["number"], data.pop("body")
            )
            data["tags"] = tags_json(merge_tags(data["tags"]))
        if kind == "webhook_delivery":  # no queue job, no lease: this instance's relay queues it
            data["enqueued"], data["leased_until"] = False, None
        self.rows.append(data)

    def flush(self) -> int:
        """Insert the queued rows; how many records that was."""
        if not self.rows:
            return 0
        try:
            self.conn.execute(insert(TABLES[self.kind]), self.rows)
            if self.links:
                self.conn.execute(insert(post_tags), self.links)
            if self.old_slugs:
                self.conn.execute(insert(OLD_SLUGS), self.old_slugs)
            if self.firsts:
                self.conn.execute(insert(REVISIONS), self.firsts)
        except IntegrityError as exc:
            detail = str(exc.orig).strip().splitlines()[0]
            raise ImportProblem(f"the database refused {self.kind} records: {detail}") from None
        written = len(self.rows)
        self.first_revisions += len(self.firsts)
        self.rows, self.links, self.firsts, self.old_slugs = [], [], [], []
        return written

    def check_counts(self, expected: dict[str, int]) -> None:
        """Refuse a file with fewer or more records than its header says (cut short, edited)."""
        for kind in KINDS:
            if self.counts[kind] != expected[kind]:
                raise ImportProblem(
                    f"the file has {self.counts[kind]} {kind} records but its header says "
                    f"{expected[kind]}: it is incomplete or was edited"
                )


def reset_sequences(conn: Connection) -> None:
    """On PostgreSQL, move each id sequence past the imported ids so new rows do not collide."""
    if conn.dialect.name != "postgresql":
        return
    for table in SEQUENCED:
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"COALESCE(MAX(id), 0) + 1, false) FROM {table}"
            )
        )
