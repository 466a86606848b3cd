"""Verified addresses, pending address changes, and the one-time tokens mailed to users

Revision ID: f6a7b8c9d0e1
Revises: d4e5f6a7b8c9
Create Date: 2026-12-20 10:00:00.000000

Users gain `email_verified` and `pending_email` (with its comparison key). Accounts that exist
when this runs predate verification: they were made by an admin or registered when no address
could be proven, and are taken as verified, so turning REQUIRE_VERIFIED_EMAIL on does not lock
every existing writer out; new accounts start unverified. `account_tokens` keeps the SHA-256 of
each password-reset and verification token, single use and expiring.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "f6a7b8c9d0e1"
down_revision = "d4e5f6a7b8c9"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE, not batch mode: rebuilding users on SQLite would fail its foreign
    # keys and drop its triggers.
    op.add_column(
        "users",
        sa.Column("email_verified", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("users", sa.Column("pending_email", sa.String(length=254), nullable=True))
    op.add_column("users", sa.Column("pending_email_key", sa.String(length=254), nullable=True))
    op.create_index("ix_users_pending_email_key", "users", ["pending_email_key"], unique=False)
    # The accounts there are now predate verification; rows made from now on start unverified.
    op.execute(sa.text("UPDATE users SET email_verified = :yes").bindparams(yes=True))
    op.create_table(
        "account_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("account_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_account_tokens_user_id"), ["user_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_account_tokens_expires_at"), ["expires_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("account_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_tokens_expires_at"))
        batch_op.drop_index(batch_op.f("ix_account_tokens_user_id"))
    op.drop_table("account_tokens")
    op.drop_index("ix_users_pending_email_key", table_name="users")
    for column in ("pending_email_key", "pending_email", "email_verified"):
        op.drop_column("users", column)
