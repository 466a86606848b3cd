"""content_version is bumped once per writing transaction on PostgreSQL

Revision ID: e5f6a7b8c9d0
Revises: b8c9d0e1f2a3
Create Date: 2026-12-02 09:00:00.000000

Bumped by every writing statement, one long transaction (seed, import: a statement per row)
updated the counter's row hundreds of thousands of times, and each update walked the dead row
versions the same transaction had left behind: seed and import grew quadratically. The
function now bumps at the transaction's first watched statement only (so the counter's row is
still its first lock) and marks that in a transaction-local setting holding the transaction's
id; a rolled-back savepoint takes back both. The triggers stay as they are. SQLite is
unchanged. A downgrade puts back the bump of every statement.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e5f6a7b8c9d0'
down_revision = 'b8c9d0e1f2a3'
branch_labels = None
depends_on = None

BUMP = (
    "UPDATE content_version SET value = value + 1, "
    "changed_at = timezone('utc', clock_timestamp()) WHERE id = 1"
)
ONCE = (
    "IF current_setting('blogapi.content_bumped', true) IS DISTINCT FROM "
    f"pg_current_xact_id()::text THEN {BUMP}; "
    "PERFORM set_config('blogapi.content_bumped', pg_current_xact_id()::text, true); "
    "END IF"
)


def replace_function(body: str) -> None:
    """Make bump_content_version() run `body` (PostgreSQL only: SQLite has no such function)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE OR REPLACE FUNCTION bump_content_version() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN {body}; RETURN NULL; END $$"
    )


def upgrade():
    replace_function(ONCE)


def downgrade():
    replace_function(BUMP)
