"""personal access tokens

Revision ID: e4a7c1d9f052
Revises: c52f0e8d7a14
Create Date: 2026-12-01 01:00:00.000000

Writers' apps (Micropub clients, scripts) need a credential that outlives a 15-minute access
token. Only a SHA-256 of each token is stored; `token_version` is the user's at creation, so
every bump of the user's version (deactivation, revoke-tokens, a password change) revokes the
personal tokens too.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "e4a7c1d9f052"
down_revision = "c52f0e8d7a14"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "personal_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.String(length=100), nullable=False),
        sa.Column("token_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("personal_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_personal_tokens_user_id"), ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("personal_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_personal_tokens_user_id"))
    op.drop_table("personal_tokens")
