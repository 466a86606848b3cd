"""Full-text search: posts keep their body's text and tag names, indexed by each database

Revision ID: 7c1e4f2a9b3d
Revises: dd9e472bfd3b
Create Date: 2026-11-30 15:10:00.000000

Search used to scan every body with LIKE. Posts now keep the words of their body without
markup (body_text) and their tags' names (tag_names), and the database indexes them with the
title and summary: PostgreSQL in a generated tsvector column with a GIN index, SQLite in an
FTS5 table kept in step by triggers (blogapi/posts/search/schema.py builds both). Existing
posts are indexed here, in SEARCH_LANGUAGE. A downgrade removes the index and both columns;
PostgreSQL's unaccent extension stays installed (other schemas may use it).
"""
from alembic import op
from flask import current_app
import sqlalchemy as sa

from blogapi.posts.search.document import plain_text, tag_text
from blogapi.posts.search.schema import install, uninstall


# revision identifiers, used by Alembic.
revision = '7c1e4f2a9b3d'
down_revision = 'dd9e472bfd3b'
branch_labels = None
depends_on = None

BATCH = 1000


def upgrade():
    # Plain ALTER TABLE, not batch mode: rebuilding posts on SQLite would drop its triggers.
    for name in ("body_text", "tag_names"):
        op.add_column("posts", sa.Column(name, sa.Text(), server_default="", nullable=False))
    conn = op.get_bind()
    last = 0
    while True:
        rows = conn.execute(
            sa.text("SELECT id, body_html FROM posts WHERE id > :last ORDER BY id LIMIT :n"),
            {"last": last, "n": BATCH},
        ).all()
        if not rows:
            break
        conn.execute(
            sa.text("UPDATE posts SET body_text = :text WHERE id = :id"),
            [{"id": post_id, "text": plain_text(html)} for post_id, html in rows],
        )
        last = rows[-1][0]
    names: dict[int, list[str]] = {}
    for post_id, name in conn.execute(sa.text("SELECT post_id, name FROM post_tags")):
        names.setdefault(post_id, []).append(name)
    if names:
        conn.execute(
            sa.text("UPDATE posts SET tag_names = :names WHERE id = :id"),
            [{"id": post_id, "names": tag_text(spelled)} for post_id, spelled in names.items()],
        )
    install(conn, current_app.config.get("SEARCH_LANGUAGE", "english"))


def downgrade():
    uninstall(op.get_bind())
    op.drop_column("posts", "tag_names")
    op.drop_column("posts", "body_text")
