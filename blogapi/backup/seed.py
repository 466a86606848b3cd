"""Fill the database with demo users, tags and posts: bulk inserts, one transaction."""

from __future__ import annotations

import random
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Table, insert, select

from blogapi.backup.seed_text import TAG_NAMES, TextMaker
from blogapi.db.models import Post, PostRevision, Tag, User, email_key, post_tags, username_key
from blogapi.extensions import db
from blogapi.posts.revisions.storage import first_revision
from blogapi.posts.search.document import plain_text, tag_text
from blogapi.posts.slugs import slugify, with_suffix
from blogapi.posts.tags import tag_slug
from blogapi.security.passwords import hasher
from blogapi.security.roles import at_least
from blogapi.timeutil import utcnow

BATCH = 2000
# Every ten users: 1 admin, 2 editors, 4 authors, 3 contributors; all four roles from four users.
ROLE_CYCLE = (
    "admin", "editor", "author", "contributor", "author",
    "contributor", "author", "editor", "contributor", "author",
)  # fmt: skip
STATUS_WEIGHTS = {"published": 70, "scheduled": 10, "draft": 20}
TAG_COUNT_WEIGHTS = (10, 30, 30, 20, 10)  # for 0, 1, 2, 3 and 4 tags
HISTORY = timedelta(days=730)  # published posts spread over the past two years
AHEAD = timedelta(days=30)  # scheduled posts within the next month
DAY = 86400.0
DOMAIN = "@example.com"  # reserved for examples (RFC 2606): no demo mail reaches anyone
USERS, POSTS, TAGS = User.__table__, Post.__table__, Tag.__table__


class SeedError(Exception):
    """Seeding cannot start (e.g. posts but nobody to write them)."""


@dataclass
class SeedReport:
    """What seed() created, for the summary line."""

    password: str
    users: dict[str, list[str]] = field(default_factory=dict)  # role -> usernames
    posts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUS_WEIGHTS, 0))
    tags_created: int = 0


class UniqueNames:
    """Hands out names not taken yet, numbering repeats (ada, ada2 … or slug, slug-2 …)."""

    def __init__(self, taken: set[str], numbered: Callable[[str, int], str]) -> None:
        self.taken = taken
        self.numbered = numbered
        self.last: dict[str, int] = {}

    def claim(self, base: str, key: Callable[[str], str] = str) -> str:
        """The first free name among base, then base numbered 2, 3 …"""
        name, n = base, self.last.get(base, 1)
        while key(name) in self.taken:
            n += 1
            name = self.numbered(base, n)
        self.last[base] = n
        self.taken.add(key(name))
        return name


def seed(
    users: int,
    posts: int,
    password: str | None = None,
    *,
    seed: int | None = None,
    now: datetime | None = None,
    on_progress: Callable[[int], None] = lambda n: None,
) -> SeedReport:
    """Add demo users, tags and posts and commit; the same seed gives the same data."""
    rng = random.Random(seed)
    now = now or utcnow()
    text = TextMaker(rng)
    # Never from the seed: demo admins and editors must not have a guessable password.
    report = SeedReport(password or secrets.token_urlsafe(12))
    conn = db.session.connection()
    try:
        writers = insert_users(conn, users, text, now, report)
        if posts and not writers:
            raise SeedError("no users to write the posts: seed some with --users N")
        tags_made = insert_tags(conn, report)
        insert_posts(conn, posts, writers, tags_made, text, now, report, on_progress)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return report


def insert_users(
    conn: Connection, count: int, text: TextMaker, now: datetime, report: SeedReport
) -> list[tuple[int, str]]:
    """Insert `count` users of every role; the writers of the posts as (id, role)."""
    if count == 0:
        writers = conn.execute(select(USERS.c.id, USERS.c.role).where(USERS.c.active)).all()
        return [(row.id, row.role) for row in writers]
    names = UniqueNames(set(conn.scalars(select(USERS.c.username_key))), lambda b, n: f"{b}{n}")
    emails = UniqueNames(set(conn.scalars(select(USERS.c.email_key))), lambda b, n: f"{b}{n}")
    password_hash = hasher().hash(report.password)  # one hash: every demo user shares it
    rows: list[dict[str, Any]] = []
    for index in range(count):
        first, last = text.person()
        base = re.sub(r"[^a-z0-9_-]", "", f"{first}_{last}".lower())[:28]
        username = names.claim(base, username_key)
        local = emails.claim(f"{first}.{last}".lower(), lambda name: email_key(name + DOMAIN))
        email = local + DOMAIN
        joined = now - HISTORY - timedelta(days=15 + 60 * text.rng.random())
        role = ROLE_CYCLE[index % len(ROLE_CYCLE)]
        report.users.setdefault(role, []).append(username)
        rows.append(
            {
                "username": username,
                "username_key": username_key(username),
                "email": email,
                "email_key": email_key(email),
                "password_hash": password_hash,
                "display_name": f"{first} {last}",
                "bio": text.bio(),
                "role": role,
                "active": True,
                "token_version": 1,
                "created_at": joined,
                "updated_at": joined,
            }
        )
    ids = insert_and_get_ids(conn, USERS, rows, "username_key")
    return [(user_id, row["role"]) for user_id, row in zip(ids, rows, strict=True)]


def insert_and_get_ids(
    conn: Connection, table: Table, rows: list[dict[str, Any]], key: str
) -> list[int]:
    """Insert rows with executemany; their new ids in the order of rows, by a unique column."""
    # Not RETURNING: SQLite keeps its order only row by row, and it is slower on PostgreSQL.
    column = table.c[key]
    ids: list[int] = []
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        conn.execute(insert(table), batch)
        keys = [row[key] for row in batch]
        found = dict(conn.execute(select(column, table.c.id).where(column.in_(keys))).all())
        ids.extend(found[k] for k in keys)
    return ids


def insert_tags(conn: Connection, report: SeedReport) -> list[tuple[int, str]]:
    """Make sure every demo tag exists; the id and name of each of them."""
    existing = dict(conn.execute(select(TAGS.c.slug, TAGS.c.id)).all())
    missing = [
        {"name": name, "slug": tag_slug(name)}
        for name in TAG_NAMES
        if tag_slug(name) not in existing
    ]
    if missing:
        conn.execute(insert(TAGS), missing)
        report.tags_created = len(missing)
    wanted = [tag_slug(name) for name in TAG_NAMES]
    query = select(TAGS.c.id, TAGS.c.name).where(TAGS.c.slug.in_(wanted)).order_by(TAGS.c.id)
    return [(tag_id, name) for tag_id, name in conn.execute(query)]


def insert_posts(
    conn: Connection,
    count: int,
    writers: list[tuple[int, str]],
    tags_made: list[tuple[int, str]],
    text: TextMaker,
    now: datetime,
    report: SeedReport,
    on_progress: Callable[[int], None],
) -> None:
    """Insert `count` posts with tags, in batches; contributors only write drafts."""
    if count == 0:
        return
    rng = text.rng
    slugs = UniqueNames(set(conn.scalars(select(POSTS.c.slug))), with_suffix)
    publishers = [w for w in writers if at_least(w[1], "author")]
    statuses, weights = list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values())
    for start in range(0, count, BATCH):
        rows: list[dict[str, Any]] = []
        tags: list[list[tuple[int, str]]] = []
        for _ in range(min(BATCH, count - start)):
            status = rng.choices(statuses, weights)[0] if publishers else "draft"
            author_id = rng.choice(publishers if status != "draft" else writers)[0]
            title = text.title()
            body, body_html = text.body()
            created, updated, published = timeline(rng, now, status)
            report.posts[status] += 1
            rows.append(
                {
                    "slug": slugs.claim(slugify(title) or "post"),
                    "title": title,
                    "summary": text.summary(),
                    "body": body,
                    "body_html": body_html,
                    "body_text": plain_text(body_html),
                    "author_id": author_id,
                    "created_at": created,
                    "updated_at": updated,
                    "published_at": published,
                    "version": 1,
                }
            )
            chosen = rng.sample(tags_made, rng.choices(range(5), TAG_COUNT_WEIGHTS)[0])
            rows[-1]["tag_names"] = tag_text(name for _tag_id, name in chosen)
            tags.append(chosen)
        ids = insert_and_get_ids(conn, POSTS, rows, "slug")
        links = [
            {"post_id": post_id, "tag_id": tag_id, "name": name}
            for post_id, post_tags_made in zip(ids, tags, strict=True)
            for tag_id, name in post_tags_made
        ]
        if links:
            conn.execute(insert(post_tags), links)
        first_revisions = [
            first_revision({**row, "id": post_id}, [name for _tag_id, name in chosen])
            for post_id, row, chosen in zip(ids, rows, tags, strict=True)
        ]
        conn.execute(insert(PostRevision.__table__), first_revisions)
        on_progress(len(rows))


def timeline(
    rng: random.Random, now: datetime, status: str
) -> tuple[datetime, datetime, datetime | None]:
    """created_at, updated_at and published_at of a post with this status."""

    def ago(days: float) -> datetime:
        return now - timedelta(seconds=days * DAY)

    if status == "published":
        published = ago(60 / DAY + HISTORY.days * rng.random())
        created = published - timedelta(seconds=rng.uniform(60, 10 * DAY))
        edited = rng.random() < 0.3
        updated = published + (now - published) * rng.random() if edited else published
        return created, updated, published
    if status == "scheduled":
        published = now + timedelta(seconds=rng.uniform(3600, AHEAD.total_seconds()))
        created = ago(rng.uniform(0.01, 20))
        return created, created + (now - created) * rng.random(), published
    created = ago(HISTORY.days * rng.random())
    return created, created + (now - created) * rng.random(), None
