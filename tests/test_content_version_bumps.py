"""Every committed write changes the content version; on PostgreSQL a writing transaction
changes it once, however many statements it runs, so that a seed or an import of any size
writes the counter's row once instead of once per row (which made them quadratic)."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import Connection, text
from sqlalchemy.exc import OperationalError

from blogapi.backup.export import export_database
from blogapi.backup.restore import import_database
from blogapi.backup.seed import seed
from blogapi.extensions import db
from tests.support.apps import reset_database

ADA = (
    "INSERT INTO users (username, username_key, email, email_key, password_hash, "
    "display_name, bio, role, active, token_version, created_at, updated_at) VALUES "
    "('ada', 'ada', 'ada@example.com', 'ada@example.com', 'x', 'Ada', '', 'author', true, 1, "
    "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"
)
RENAME = "UPDATE users SET display_name = display_name || '.' WHERE username = 'ada'"


def version() -> int:
    """The committed content version, read as readers read it: outside the writer's transaction."""
    with db.engine.connect() as reader:
        value: int = reader.execute(text("SELECT value FROM content_version")).scalar_one()
    return value


@pytest.fixture
def conn(app: Flask) -> Iterator[Connection]:
    """A connection of the app under test, with ada's account committed."""
    with app.app_context(), db.engine.connect() as connection:
        with connection.begin():
            connection.execute(text(ADA))
        yield connection


def only_on_postgresql(conn: Connection) -> None:
    """Skip on SQLite, whose triggers run for each row (and update the counter in place)."""
    if conn.dialect.name != "postgresql":
        pytest.skip("PostgreSQL bumps once per transaction; SQLite for each row")


@pytest.fixture
def pg(conn: Connection) -> Connection:
    """The same, on PostgreSQL only."""
    only_on_postgresql(conn)
    return conn


def test_every_committed_write_changes_the_version_also_on_the_same_connection(conn):
    seen = version()
    for _ in range(3):  # a pooled connection serves one transaction after another
        with conn.begin():
            conn.execute(text(RENAME))
        assert version() > seen
        seen = version()


@pytest.mark.postgres_only
def test_a_transaction_of_many_writing_statements_bumps_once(pg):
    before = version()
    with pg.begin():
        for n in range(30):
            pg.execute(text("INSERT INTO tags (name, slug) VALUES (:n, :n)"), {"n": f"tag{n}"})
        pg.execute(text(RENAME))
        pg.execute(text("DELETE FROM tags WHERE slug = 'tag0'"))
    assert version() == before + 1
    with pg.begin():
        pg.execute(text(RENAME))
    assert version() == before + 2


@pytest.mark.postgres_only
def test_a_savepoint_rolled_back_takes_its_bump_back_and_the_next_write_bumps(pg):
    before = version()
    with pg.begin():
        savepoint = pg.begin_nested()
        pg.execute(text(RENAME))
        savepoint.rollback()
        pg.execute(text(RENAME))  # would count for nothing if the marker had stayed
    assert version() == before + 1


@pytest.mark.postgres_only
def test_the_first_write_of_a_transaction_still_takes_the_counters_lock_first(pg):
    def counter_is_free() -> bool:
        with db.engine.connect() as other:
            try:
                other.execute(text("SELECT 1 FROM content_version FOR UPDATE NOWAIT"))
            except OperationalError:  # lock_not_available
                return False
            return True

    with pg.begin():
        pg.execute(text("INSERT INTO tags (name, slug) VALUES ('first', 'first')"))
        assert not counter_is_free()
        pg.execute(text(RENAME))  # skips the bump: the lock is held until the end anyway
        assert not counter_is_free()
    assert counter_is_free()


@pytest.mark.postgres_only
def test_a_seed_and_an_import_write_the_counters_row_once_whatever_their_size(app):
    with app.app_context():
        only_on_postgresql(db.session.connection())
        seed(4, 60, seed=1)  # 60 posts, ~110 post_tags: a statement each, and one bump
        assert version() == 1
        exported = io.BytesIO()
        export_database(exported)
        reset_database()  # empty again, the counter back at 0
        exported.seek(0)
        import_database(exported)
        assert version() == 1
