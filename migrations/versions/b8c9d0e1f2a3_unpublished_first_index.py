"""An index for lists with drafts: unpublished first, then newest published

Revision ID: b8c9d0e1f2a3
Revises: a7b8c9d0e1f2
Create Date: 2026-12-01 12:00:00.000000

`GET /posts?status=all` (and `status=draft`) orders drafts before published posts. Without an
index in that order every such page sorted every live post.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b8c9d0e1f2a3'
down_revision = 'a7b8c9d0e1f2'
branch_labels = None
depends_on = None

LIVE_ONLY = sa.text("deleted_at IS NULL")


def upgrade():
    op.create_index(
        'ix_posts_unpublished_first',
        'posts',
        [sa.text('(published_at IS NULL)'), 'published_at', 'id'],
        unique=False,
        sqlite_where=LIVE_ONLY,
        postgresql_where=LIVE_ONLY,
    )


def downgrade():
    op.drop_index('ix_posts_unpublished_first', table_name='posts')
