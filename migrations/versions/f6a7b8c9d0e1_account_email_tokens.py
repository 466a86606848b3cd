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
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("email_verified", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(sa.Column("pending_email", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("pending_email_key", sa.String(length=254), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_users_pending_email_key"), ["pending_email_key"], unique=False
        )
    # Existing rows got true above; rows made from now on start unverified.
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column(
            "email_verified", existing_type=sa.Boolean(), server_default=sa.false()
        )
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
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_pending_email_key"))
        batch_op.drop_column("pending_email_key")
        batch_op.drop_column("pending_email")
        batch_op.drop_column("email_verified")
