"""Old slugs: a renamed post's earlier addresses redirect to its current one

Revision ID: b7e3d91c4a26
Revises: a41f6c2e9b17
Create Date: 2026-11-30 22:30:00.000000

`post_slugs` holds each slug a post gave up (blogapi/posts/slug_history.py); the reader pages
answer it with a 301 to the post's current address. Posts renamed before this migration
gave up slugs that their revisions still name: those become old slugs here, each leading to
the post that held it last, unless a post holds it now. A downgrade drops the table.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "b7e3d91c4a26"
down_revision = "a41f6c2e9b17"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "post_slugs",
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("slug"),
    )
    op.create_index("ix_post_slugs_post_id", "post_slugs", ["post_id"])
    # Each slug a revision names but no post holds, leading to the post whose revision
    # named it last (by the revision's time, then its id).
    op.execute(
        """
        INSERT INTO post_slugs (slug, post_id)
        SELECT r.slug, r.post_id FROM post_revisions r
        WHERE NOT EXISTS (SELECT 1 FROM posts p WHERE p.slug = r.slug)
          AND NOT EXISTS (
            SELECT 1 FROM post_revisions later
            WHERE later.slug = r.slug
              AND (later.created_at > r.created_at
                   OR (later.created_at = r.created_at AND later.id > r.id))
          )
        """
    )


def downgrade():
    op.drop_index("ix_post_slugs_post_id", table_name="post_slugs")
    op.drop_table("post_slugs")
