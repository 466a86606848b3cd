"""post_tags.name: each post keeps its own spelling of a tag; tags no post uses are dropped

Revision ID: d3b3dacf1986
Revises: 0ccbcdfac88f
Create Date: 2026-11-30 13:00:00.000000

A tag's one name came from whoever wrote it first, a draft included, and GET /tags showed it
even after that draft was deleted. Each link now carries the spelling of its post, and
GET /tags names a tag as its first published post spells it. Existing links take their tag's
name, the only spelling stored until now. Tags no post uses are deleted (the API deletes
them from now on); a downgrade cannot bring them back, and needs none of them.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd3b3dacf1986'
down_revision = '0ccbcdfac88f'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE, not batch mode: rebuilding post_tags on SQLite would drop its triggers.
    op.add_column(
        "post_tags", sa.Column("name", sa.String(length=40), server_default="", nullable=False)
    )
    # Only when there is something to change: PostgreSQL's statement triggers would bump the
    # content version even for no rows, and a new database would not start where SQLite's does.
    conn = op.get_bind()
    if conn.execute(sa.text("SELECT 1 FROM post_tags LIMIT 1")).first():
        op.execute(
            "UPDATE post_tags SET name = "
            "(SELECT tags.name FROM tags WHERE tags.id = post_tags.tag_id)"
        )
    orphans = "FROM tags WHERE NOT EXISTS (SELECT 1 FROM post_tags WHERE tag_id = tags.id)"
    if conn.execute(sa.text(f"SELECT 1 {orphans} LIMIT 1")).first():
        op.execute(f"DELETE {orphans}")


def downgrade():
    op.drop_column("post_tags", "name")
