"""Media: uploaded images, and posts' feature images

Revision ID: a41f6c2e9b17
Revises: 5e2d8a41c7b9
Create Date: 2026-11-30 20:00:00.000000

`media` records each uploaded image as stored (blogapi/media): its random storage key, size,
alt text and variants; one row per uploader and bytes uploaded. Posts gain feature_image_id.
A post shows its feature image's alt text, so changing it bumps content_version (a trigger,
as for the other tables readers see). A downgrade drops media rows and the feature images;
the files stay in the media storage (remove them by hand, or keep them for an upgrade).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a41f6c2e9b17'
down_revision = '5e2d8a41c7b9'
branch_labels = None
depends_on = None

BUMP = "UPDATE content_version SET value = value + 1 WHERE id = 1"


def upgrade():
    op.create_table(
        "media",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uploader_id", sa.Integer(), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("bytes", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("alt", sa.String(length=1000), nullable=False),
        sa.Column("variants", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["uploader_id"], ["users.id"], name=op.f("fk_media_uploader_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media")),
        sa.UniqueConstraint("key", name=op.f("uq_media_key")),
        sa.UniqueConstraint(
            "uploader_id", "source_sha256", name="uq_media_uploader_id_source_sha256"
        ),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_media_created_at_id", "media", ["created_at", "id"])
    op.create_index(op.f("ix_media_uploader_id"), "media", ["uploader_id"])
    conn = op.get_bind()
    # Plain ALTER TABLE, not batch mode: rebuilding posts on SQLite would drop its triggers.
    # SQLite adds a foreign key only inline, with the column.
    if conn.dialect.name == "sqlite":
        op.execute("ALTER TABLE posts ADD COLUMN feature_image_id INTEGER REFERENCES media (id)")
        op.execute(
            "CREATE TRIGGER IF NOT EXISTS content_version_media_update AFTER UPDATE OF alt "
            f"ON media BEGIN {BUMP}; END"
        )
    else:
        op.add_column("posts", sa.Column("feature_image_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            "fk_posts_feature_image_id_media", "posts", "media", ["feature_image_id"], ["id"]
        )
        op.execute(
            "CREATE OR REPLACE TRIGGER content_version_media BEFORE UPDATE OF alt ON media "
            "FOR EACH STATEMENT EXECUTE FUNCTION bump_content_version()"
        )
    op.create_index(op.f("ix_posts_feature_image_id"), "posts", ["feature_image_id"])


def downgrade():
    conn = op.get_bind()
    op.drop_index(op.f("ix_posts_feature_image_id"), table_name="posts")
    if conn.dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS content_version_media_update")
    else:
        op.execute("DROP TRIGGER IF EXISTS content_version_media ON media")
        op.drop_constraint("fk_posts_feature_image_id_media", "posts", type_="foreignkey")
    op.drop_column("posts", "feature_image_id")
    op.drop_index(op.f("ix_media_uploader_id"), table_name="media")
    op.drop_index("ix_media_created_at_id", table_name="media")
    op.drop_table("media")
