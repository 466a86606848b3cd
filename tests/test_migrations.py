"""The migrations build the schema from nothing, take it down, build it again, and match the models.

On whichever database the suite runs: SQLite, or a new database on its PostgreSQL server.
"""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from blogapi.extensions import db, migrate
from devtools.live import ROOT
from tests.support.databases import fresh_database, manage, suite_admin_url, upgrade

TABLES = {
    "content_version",
    "users",
    "tags",
    "posts",
    "post_tags",
    "revoked_tokens",
    "alembic_version",
}
# SQLite's full-text index: the FTS5 table and the shadow tables FTS5 keeps its data in.
SEARCH_TABLES = {
    "sqlite": {f"posts_fts{part}" for part in ("", "_data", "_idx", "_docsize", "_config")}
}


def tables_of(url: str) -> set[str]:
    """The tables a migrated database at url has."""
    return TABLES | SEARCH_TABLES.get(url.split(":")[0].split("+")[0], set())


def schema(url: str) -> tuple[set[str], list[str]]:
    """The tables the database at url has, and the revisions alembic_version records."""
    engine = create_engine(url)
    try:
        tables = set(inspect(engine).get_table_names())
        if "alembic_version" not in tables:
            return tables, []
        with engine.connect() as conn:
            return tables, list(conn.scalars(text("SELECT version_num FROM alembic_version")))
    finally:
        engine.dispose()


def head() -> str:
    """The newest revision in migrations/versions."""
    config = Config(str(ROOT / "migrations" / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    return ScriptDirectory.from_config(config).get_current_head()


def test_upgrade_from_empty_then_downgrade_to_base_then_upgrade_again(tmp_path):
    with fresh_database(tmp_path, suite_admin_url()) as url:
        assert schema(url) == (set(), [])
        upgrade(url)
        assert schema(url) == (tables_of(url), [head()])
        down = manage(url, "db", "downgrade", "base")
        assert down.returncode == 0, down.stderr
        assert schema(url) == ({"alembic_version"}, [])
        upgrade(url)
        assert schema(url) == (tables_of(url), [head()])
        current = manage(url, "db", "current")
        assert current.stdout.strip() == f"{head()} (head)"


def test_the_models_and_the_migrations_agree(tmp_path):
    with fresh_database(tmp_path, suite_admin_url()) as url:
        upgrade(url)
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                context = MigrationContext.configure(conn, opts=migrate.alembic_ctx_kwargs)
                differences = compare_metadata(context, db.metadata)
        finally:
            engine.dispose()
        assert differences == []
        check = manage(url, "db", "check")
        assert check.returncode == 0, check.stdout + check.stderr
        assert "No new upgrade operations detected" in check.stdout + check.stderr


def test_stored_tags_get_post_spellings_symbol_slugs_and_lose_orphans(tmp_path):
    with fresh_database(tmp_path, suite_admin_url()) as url:
        before = manage(url, "db", "upgrade", "0ccbcdfac88f")  # tags as the old rule stored them
        assert before.returncode == 0, before.stderr
        engine = create_engine(url)
        try:
            with engine.begin() as conn:
                conn.execute(
                    text(
                        "INSERT INTO users (id, username, username_key, email, email_key, "
                        "password_hash, display_name, bio, role, active, token_version, "
                        "created_at, updated_at) VALUES (1, 'ada', 'ada', 'ada@example.com', "
                        "'ada@example.com', 'x', '', '', 'author', true, 1, :t, :t)"
                    ),
                    {"t": "2026-01-01 00:00:00"},
                )
                for post_id in (1, 2):
                    conn.execute(
                        text(
                            "INSERT INTO posts (id, slug, title, summary, body, body_html, "
                            "author_id, created_at, updated_at, version) VALUES "
                            "(:id, :slug, 't', '', 'b', '<p>b</p>', 1, :t, :t, 1)"
                        ),
                        {"id": post_id, "slug": f"p{post_id}", "t": "2026-01-01 00:00:00"},
                    )
                tags = [
                    (1, "C++", "c"),  # the old rule: C++ took "c"
                    (2, "F#", "f"),
                    (3, "F sharp", "f-sharp"),  # holds F#'s new slug: F# keeps "f"
                    (4, "Forgotten", "forgotten"),  # no post uses it
                ]
                for tag_id, name, slug in tags:
                    conn.execute(
                        text("INSERT INTO tags (id, name, slug) VALUES (:id, :name, :slug)"),
                        {"id": tag_id, "name": name, "slug": slug},
                    )
                for post_id, tag_id in ((1, 1), (2, 1), (1, 2), (2, 3)):
                    conn.execute(
                        text("INSERT INTO post_tags (post_id, tag_id) VALUES (:p, :t)"),
                        {"p": post_id, "t": tag_id},
                    )
            upgrade(url)
            with engine.connect() as conn:
                stored = conn.execute(text("SELECT id, name, slug FROM tags ORDER BY id")).all()
                links = conn.execute(
                    text("SELECT post_id, tag_id, name FROM post_tags ORDER BY post_id, tag_id")
                ).all()
        finally:
            engine.dispose()
        assert [tuple(row) for row in stored] == [
            (1, "C++", "c-plus-plus"),
            (2, "F#", "f"),
            (3, "F sharp", "f-sharp"),
        ]
        assert [tuple(row) for row in links] == [
            (1, 1, "C++"),
            (1, 2, "F#"),
            (2, 1, "C++"),
            (2, 3, "F sharp"),
        ]
