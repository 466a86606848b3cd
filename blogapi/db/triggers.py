"""Database triggers that bump content_version on any write readers could see.

They live in the database so that every writer counts: the API, bulk CLI imports, an admin's
SQL. The migration installs the same statements; create_all() (tests) installs them here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, text

from blogapi.db.engine import db

# Each bump stamps the time too (naive UTC, as UTCDateTime stores times): a public response's
# Last-Modified is never older than the newest change, whatever left or entered it.
SQLITE_BUMP = (
    "UPDATE content_version SET value = value + 1, "
    "changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1"
)
POSTGRESQL_BUMP = (
    "UPDATE content_version SET value = value + 1, "
    "changed_at = timezone('utc', clock_timestamp()) WHERE id = 1"
)
# Tables readers see through posts; "OF …": only updates of these columns (no inserts or
# deletes) count. A post shows its feature image's alt text.
WATCHED = {
    "posts": "",
    "tags": "",
    "post_tags": "",
    "users": " OF username, display_name, bio",  # an author's page shows the bio
    "media": " OF alt",
}

SQLITE = [
    f"CREATE TRIGGER IF NOT EXISTS content_version_{table}_{op.lower()} AFTER {op}"
    f"{columns if op == 'UPDATE' else ''} ON {table} BEGIN {SQLITE_BUMP}; END"
    for table, columns in WATCHED.items()
    for op in ("INSERT", "UPDATE", "DELETE")
    if not columns or op == "UPDATE"
]
# PostgreSQL: once per transaction. Readers only ever see committed versions, so one bump per
# writing transaction tells them everything; a bump per statement made one long transaction
# (seed, import) quadratic: each UPDATE of the counter walks the dead row versions the same
# transaction left behind, which nothing can prune before it ends. The marker is the
# transaction's own id, set transaction-locally: a rolled-back savepoint takes back the marker
# with its bump, and a value SET for a whole session can never match a later transaction.
BUMPED = "blogapi.content_bumped"
POSTGRESQL_BUMP_ONCE = (
    f"IF current_setting('{BUMPED}', true) IS DISTINCT FROM pg_current_xact_id()::text THEN "
    f"{POSTGRESQL_BUMP}; "
    f"PERFORM set_config('{BUMPED}', pg_current_xact_id()::text, true); "
    "END IF"
)
# BEFORE each statement, so that the counter's row lock is the first lock every writing
# transaction takes (its first watched statement bumps). Taken AFTER (last), a delete holding
# it (from post_tags) waited for the post's row while a publish holding that row waited for
# the counter: a deadlock.
POSTGRESQL = [
    "CREATE OR REPLACE FUNCTION bump_content_version() RETURNS trigger LANGUAGE plpgsql AS "
    f"$$ BEGIN {POSTGRESQL_BUMP_ONCE}; RETURN NULL; END $$",
    *[
        f"CREATE OR REPLACE TRIGGER content_version_{table} BEFORE "
        f"{'UPDATE' + columns if columns else 'INSERT OR UPDATE OR DELETE OR TRUNCATE'}"
        f" ON {table} FOR EACH STATEMENT EXECUTE FUNCTION bump_content_version()"
        for table, columns in WATCHED.items()
    ],
]
STATEMENTS = {"sqlite": SQLITE, "postgresql": POSTGRESQL}
BUMPS = {"sqlite": SQLITE_BUMP, "postgresql": POSTGRESQL_BUMP}


def bump(connection: Any) -> None:
    """Count a change readers see that no trigger saw (a change of how search answers)."""
    connection.execute(text(BUMPS[connection.dialect.name]))


def install(connection: Any) -> None:
    """Create the triggers and the counter's one row on this connection's database."""
    for statement in STATEMENTS.get(connection.dialect.name, []):
        connection.execute(text(statement))
    connection.execute(
        text(
            "INSERT INTO content_version (id, value) SELECT 1, 0 WHERE NOT EXISTS "
            "(SELECT 1 FROM content_version WHERE id = 1)"
        )
    )


@event.listens_for(db.metadata, "after_create")
def install_after_create_all(_target: Any, connection: Any, **_kw: Any) -> None:
    """create_all() builds what the migration builds, triggers included."""
    install(connection)
