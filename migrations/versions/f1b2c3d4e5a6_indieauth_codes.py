"""IndieAuth authorization codes, and the client a personal token was issued to

Revision ID: f1b2c3d4e5a6
Revises: e4a7c1d9f052
Create Date: 2026-12-01 04:00:00.000000

Writers sign in from Micropub clients through IndieAuth: a code (only its SHA-256 kept) lives
60 seconds, is spent once, and remembers the token its exchange issued so that a replayed code
revokes that token. A personal token keeps the IndieAuth client it was issued to, for
introspection and for the writer's list.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "f1b2c3d4e5a6"
down_revision = "e4a7c1d9f052"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("personal_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_id", sa.String(length=2048), nullable=True))
    op.create_table(
        "authorization_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=2048), nullable=False),
        sa.Column("client_name", sa.String(length=100), nullable=False),
        sa.Column("redirect_uri", sa.String(length=2048), nullable=False),
        sa.Column("code_challenge", sa.String(length=128), nullable=False),
        sa.Column("scopes", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.Column("replayed_at", sa.DateTime(), nullable=True),
        sa.Column("token_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["token_id"], ["personal_tokens.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code_hash"),
    )
    with op.batch_alter_table("authorization_codes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_authorization_codes_user_id"), ["user_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_authorization_codes_expires_at"), ["expires_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("authorization_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_authorization_codes_expires_at"))
        batch_op.drop_index(batch_op.f("ix_authorization_codes_user_id"))
    op.drop_table("authorization_codes")
    with op.batch_alter_table("personal_tokens", schema=None) as batch_op:
        batch_op.drop_column("client_id")
