"""Tag slugs spell "+", "#" and a leading "." as words: C++ is c-plus-plus, C# c-sharp

Revision ID: dd9e472bfd3b
Revises: d3b3dacf1986
Create Date: 2026-11-30 13:05:00.000000

Until now C, C++ and C# all had the slug "c", so they were one tag, named by whichever came
first. Each tag's slug is made again from its name by the new rule (blogapi.posts.tags.tag_slug)
when the new slug is free; a tag whose new slug another tag already holds keeps its old one.
Every post on such a tag moves with it: which of them meant plain C was never stored. Exports
keep the slugs they hold. A downgrade leaves slugs as they are: the old rule would make them
collide again.
"""
from alembic import op
import sqlalchemy as sa

from blogapi.posts.tags import tag_slug


# revision identifiers, used by Alembic.
revision = 'dd9e472bfd3b'
down_revision = 'd3b3dacf1986'
branch_labels = None
depends_on = None


def upgrade():
    conn = op.get_bind()
    tags = conn.execute(sa.text("SELECT id, name, slug FROM tags ORDER BY id")).all()
    taken = {slug for _id, _name, slug in tags}
    for tag_id, name, slug in tags:
        new = tag_slug(name)
        if new and new != slug and new not in taken:
            conn.execute(
                sa.text("UPDATE tags SET slug = :slug WHERE id = :id"), {"slug": new, "id": tag_id}
            )
            taken.discard(slug)
            taken.add(new)


def downgrade():
    pass
