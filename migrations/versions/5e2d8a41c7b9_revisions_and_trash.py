"""Revisions and the trash: every save of a post's content is kept, and deleted posts wait

Revision ID: 5e2d8a41c7b9
Revises: 7c1e4f2a9b3d
Create Date: 2026-11-30 18:00:00.000000

Posts gain deleted_at and deleted_by_id (the trash), and the list indexes become partial
(live posts only), so lists and counts never walk the trash. post_revisions keeps each saved
version of a post, its body compressed or as a delta against a keyframe
(blogapi/posts/revisions/bodies.py). Every existing post gets its revision 1, as it is now,
so that what is saved next can be compared with it and it can be restored. A downgrade
deletes the posts in the trash for good (a schema without a trash cannot hold them) and every
revision.
"""
from alembic import op
import sqlalchemy as sa

from blogapi.posts.revisions.storage import first_revision


# revision identifiers, used by Alembic.
revision = '5e2d8a41c7b9'
down_revision = '7c1e4f2a9b3d'
branch_labels = None
depends_on = None

BATCH = 1000
LIVE = sa.text("deleted_at IS NULL")
LIST_INDEXES = {
    "ix_posts_published_at_id": ["published_at", "id"],
    "ix_posts_created_at_id": ["created_at", "id"],
    "ix_posts_author_id_published_at_id": ["author_id", "published_at", "id"],
    "ix_posts_title_id": ["title", "id"],
}


def upgrade():
    # Plain ALTER TABLE, not batch mode: rebuilding posts on SQLite would drop its triggers.
    # SQLite adds a foreign key only inline, with the column.
    op.add_column("posts", sa.Column("deleted_at", sa.DateTime(), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE posts ADD COLUMN deleted_by_id INTEGER REFERENCES users (id)")
    else:
        op.add_column("posts", sa.Column("deleted_by_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            "fk_posts_deleted_by_id_users", "posts", "users", ["deleted_by_id"], ["id"]
        )
    for name, columns in LIST_INDEXES.items():
        op.drop_index(name, table_name="posts")
        op.create_index(name, "posts", columns, sqlite_where=LIVE, postgresql_where=LIVE)
    trash = sa.text("deleted_at IS NOT NULL")
    op.create_index(
        "ix_posts_deleted_at_id", "posts", ["deleted_at", "id"],
        sqlite_where=trash, postgresql_where=trash,
    )
    op.create_table(
        "post_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("keyframe", sa.Integer(), nullable=True),
        sa.Column("body_data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_post_revisions_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_post_revisions_post_id_posts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post_revisions")),
        sa.UniqueConstraint("post_id", "number", name="uq_post_revisions_post_id_number"),
    )
    first_revisions(op.get_bind())


def first_revisions(conn):
    """Revision 1 of every post, as it is now."""
    names = {}
    for post_id, name in conn.execute(sa.text("SELECT post_id, name FROM post_tags")):
        names.setdefault(post_id, []).append(name)
    last = 0
    while True:
        rows = conn.execute(
            sa.text(
                "SELECT id, author_id, updated_at, title, slug, summary, body FROM posts "
                "WHERE id > :last ORDER BY id LIMIT :n"
            ),
            {"last": last, "n": BATCH},
        ).all()
        if not rows:
            break
        conn.execute(
            sa.text(
                "INSERT INTO post_revisions (post_id, number, created_at, author_id, title, "
                "slug, summary, tags, keyframe, body_data) VALUES (:post_id, :number, "
                ":created_at, :author_id, :title, :slug, :summary, :tags, :keyframe, :body_data)"
            ),
            [first_revision(row._mapping, names.get(row.id, [])) for row in rows],
        )
        last = rows[-1].id


def downgrade():
    op.drop_table("post_revisions")
    conn = op.get_bind()
    trashed = "SELECT id FROM posts WHERE deleted_at IS NOT NULL"
    conn.execute(sa.text(f"DELETE FROM post_tags WHERE post_id IN ({trashed})"))
    conn.execute(sa.text(f"DELETE FROM posts WHERE id IN ({trashed})"))
    conn.execute(sa.text("DELETE FROM tags WHERE id NOT IN (SELECT tag_id FROM post_tags)"))
    op.drop_index("ix_posts_deleted_at_id", table_name="posts")
    for name, columns in LIST_INDEXES.items():
        op.drop_index(name, table_name="posts")
        op.create_index(name, "posts", columns)
    if conn.dialect.name != "sqlite":
        op.drop_constraint("fk_posts_deleted_by_id_users", "posts", type_="foreignkey")
    op.drop_column("posts", "deleted_by_id")
    op.drop_column("posts", "deleted_at")
