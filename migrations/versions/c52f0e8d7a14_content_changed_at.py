"""content_version records when it last changed, and counts changes of authors' bios

Revision ID: c52f0e8d7a14
Revises: b7e3d91c4a26
Create Date: 2026-11-30 23:00:00.000000

Feeds and reader pages send Last-Modified. The newest post they show cannot say when they
last changed (a post that left them changed them too), so each bump of content_version now
stamps the time as well: the triggers set `changed_at` beside `value`. PostgreSQL bumps in one
function; SQLite's triggers each hold the statement, so they are made again with it. An
author's page shows their bio, so a change of `users.bio` now counts too. A downgrade puts
back the bare bump and the old users trigger, and drops the column.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "c52f0e8d7a14"
down_revision = "b7e3d91c4a26"
branch_labels = None
depends_on = None

BUMP = "UPDATE content_version SET value = value + 1 WHERE id = 1"
STAMPED = {
    "sqlite": "UPDATE content_version SET value = value + 1, "
    "changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = 1",
    "postgresql": "UPDATE content_version SET value = value + 1, "
    "changed_at = timezone('utc', clock_timestamp()) WHERE id = 1",
}


USERS = " OF username, display_name"
USERS_WITH_BIO = " OF username, display_name, bio"


def replace_bump(old: str, new: str, users: tuple[str, str], *, between=None) -> None:
    """Make every content_version trigger run `new` where it ran `old`, the users trigger
    watch users[1] where it watched users[0] (and run `between` while SQLite's triggers are
    away: rebuilding content_version would break them)."""
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION bump_content_version() RETURNS trigger LANGUAGE plpgsql "
            f"AS $$ BEGIN {new}; RETURN NULL; END $$"
        )
        op.execute(
            f"CREATE OR REPLACE TRIGGER content_version_users BEFORE UPDATE{users[1]} ON users "
            "FOR EACH STATEMENT EXECUTE FUNCTION bump_content_version()"
        )
        if between is not None:
            between()
        return
    found = bind.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
        "AND name LIKE 'content_version_%'"
    ).all()
    for name, _sql in found:
        op.execute(f"DROP TRIGGER {name}")
    if between is not None:
        between()
    for _name, sql in found:
        op.execute(
            sql.replace(old, new).replace(
                f"UPDATE{users[0]} ON users", f"UPDATE{users[1]} ON users"
            )
        )


def upgrade():
    op.add_column("content_version", sa.Column("changed_at", sa.DateTime(), nullable=True))
    dialect = op.get_bind().dialect.name
    replace_bump(BUMP, STAMPED[dialect], (USERS, USERS_WITH_BIO))


def drop_changed_at() -> None:
    with op.batch_alter_table("content_version") as batch_op:
        batch_op.drop_column("changed_at")


def downgrade():
    dialect = op.get_bind().dialect.name
    replace_bump(STAMPED[dialect], BUMP, (USERS_WITH_BIO, USERS), between=drop_changed_at)
