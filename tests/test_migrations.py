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
        assert schema(url) == (TABLES, [head()])
        down = manage(url, "db", "downgrade", "base")
        assert down.returncode == 0, down.stderr
        assert schema(url) == ({"alembic_version"}, [])
        upgrade(url)
        assert schema(url) == (TABLES, [head()])
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
