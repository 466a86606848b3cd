"""content_version triggers fire BEFORE each statement on PostgreSQL

Revision ID: 0ccbcdfac88f
Revises: 3401f3df1499
Create Date: 2026-11-24 09:00:00.000000

Firing AFTER, the trigger took the counter's row lock last: a DELETE of a post (which first
deletes its post_tags rows, taking the counter) and a publish of the same post (holding the
post's row, wanting the counter) deadlocked. Firing BEFORE, the counter is the first lock of
every writing transaction, so such transactions queue instead. SQLite has a single writer
and keeps its triggers.
"""
from alembic import op


TABLES = {
    "posts": "INSERT OR UPDATE OR DELETE OR TRUNCATE",
    "tags": "INSERT OR UPDATE OR DELETE OR TRUNCATE",
    "post_tags": "INSERT OR UPDATE OR DELETE OR TRUNCATE",
    "users": "UPDATE OF username, display_name",
}

# revision identifiers, used by Alembic.
revision = '0ccbcdfac88f'
down_revision = '3401f3df1499'
branch_labels = None
depends_on = None


def recreate_triggers(timing: str) -> None:
    """Replace the PostgreSQL content_version triggers with ones firing at `timing`."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, events in TABLES.items():
        op.execute(
            f"CREATE OR REPLACE TRIGGER content_version_{table} {timing} {events} ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION bump_content_version()"
        )


def upgrade():
    recreate_triggers("BEFORE")


def downgrade():
    recreate_triggers("AFTER")
