"""Database models: users, posts, their tags and revisions, media, tokens and IndieAuth codes."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from blogapi.db.engine import db
from blogapi.db.types import UTCDateTime
from blogapi.timeutil import utcnow

if TYPE_CHECKING:
    from flask_sqlalchemy.model import Model as FlaskModel
    from sqlalchemy.orm import DeclarativeBase

    class Model(DeclarativeBase, FlaskModel):
        """db.Model as the type checker sees it: Flask-SQLAlchemy builds db.Model when the
        extension is made, which mypy cannot follow. Every model here maps one Table."""

        __table__: ClassVar[Table]  # DeclarativeBase says FromClause

else:
    Model = db.Model


def username_key(username: str) -> str:
    """The form usernames are compared in: case-insensitive."""
    return username.strip().casefold()


def email_key(email: str) -> str:
    """The form emails are compared in: case-insensitive."""
    return email.strip().casefold()


class User(Model):
    """A person who writes or administers; readers need no account."""

    __tablename__ = "users"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(32))
    username_key: Mapped[str] = mapped_column(String(32), unique=True)
    email: Mapped[str] = mapped_column(String(254))
    email_key: Mapped[str] = mapped_column(String(254), unique=True)
    # Whether the address was proven by a link mailed to it (accounts made by an admin's CLI,
    # and those made before verification existed, count as proven).
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # An address asked for with PATCH /auth/me, not yet verified: the account keeps `email`
    # until the link mailed here is followed.
    pending_email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    pending_email_key: Mapped[str | None] = mapped_column(String(254), nullable=True, index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(100), default="")
    bio: Mapped[str] = mapped_column(String(1000), default="")
    role: Mapped[str] = mapped_column(String(16), default="author")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped to revoke every token the user holds at once; tokens carry it as `ver`.
    token_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @validates("username")
    def _set_username_key(self, _key: str, value: str) -> str:
        self.username_key = username_key(value)
        return value

    @validates("email")
    def _set_email_key(self, _key: str, value: str) -> str:
        self.email_key = email_key(value)
        return value

    @validates("pending_email")
    def _set_pending_email_key(self, _key: str, value: str | None) -> str | None:
        self.pending_email_key = None if value is None else email_key(value)
        return value

    def revoke_all_tokens(self) -> None:
        """Make every token issued so far invalid."""
        self.token_version = (self.token_version or 1) + 1

    @property
    def public_name(self) -> str:
        """How readers see this person named: the display name, else the username."""
        return self.display_name or self.username

    def __repr__(self) -> str:
        return f"<User {self.username}>"


post_tags = Table(
    "post_tags",
    db.metadata,
    Column("post_id", ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
    # The tag as this post spells it ("C++", "c++"): readers see published posts' spellings.
    Column("name", String(40), nullable=False, server_default=""),
    Index("ix_post_tags_tag_id_post_id", "tag_id", "post_id"),
)


class Tag(Model):
    """A topic; its slug is its identity, its name how it was first written (each post keeps
    its own spelling in post_tags.name, and GET /tags shows published posts' spellings)."""

    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    slug: Mapped[str] = mapped_column(String(40), unique=True)

    def __repr__(self) -> str:
        return f"<Tag {self.slug}>"


def where(condition: str) -> dict[str, Any]:
    """Keyword arguments making an Index partial, on both databases."""
    clause = text(condition)
    return {"sqlite_where": clause, "postgresql_where": clause}


LIVE_ONLY = where("deleted_at IS NULL")
UNPUBLISHED_FIRST = "(published_at IS NULL)"
TRASH_ONLY = where("deleted_at IS NOT NULL")


class Post(Model):
    """A post; its status is derived from published_at (null, future or past)."""

    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500), default="")
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    # What full-text search reads besides title and summary (blogapi/posts/search): the body's
    # words without markup, and the tags' names as this post spells them.
    body_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    tag_names: Mapped[str] = mapped_column(Text, default="", server_default="")
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Optimistic lock: an UPDATE that finds another version touched the row fails.
    version: Mapped[int] = mapped_column(Integer, default=1)
    # In the trash since then (blogapi/posts/history/trash.py); null for every live post.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    feature_image_id: Mapped[int | None] = mapped_column(
        ForeignKey("media.id"), nullable=True, index=True
    )

    author: Mapped[User] = relationship(foreign_keys=[author_id], lazy="raise_on_sql")
    # Read-only: posts.tags.set_post_tags writes the links, each with the post's spelling.
    tags: Mapped[list[Tag]] = relationship(
        secondary=post_tags, lazy="raise_on_sql", order_by=Tag.slug, viewonly=True
    )

    deleted_by: Mapped[User | None] = relationship(
        foreign_keys=[deleted_by_id], lazy="raise_on_sql"
    )
    feature_image: Mapped[Media | None] = relationship(lazy="raise_on_sql")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        # Lists read live posts only: partial indexes leave the trash out of every walk and
        # count, and keep counts index-only.
        Index("ix_posts_published_at_id", "published_at", "id", **LIVE_ONLY),
        Index("ix_posts_created_at_id", "created_at", "id", **LIVE_ONLY),
        Index("ix_posts_author_id_published_at_id", "author_id", "published_at", "id", **LIVE_ONLY),
        Index("ix_posts_title_id", "title", "id", **LIVE_ONLY),
        # status=all and status=draft: drafts (no published_at) first, then newest published;
        # the expression is exactly what the list's ORDER BY says, so the page is read in order.
        Index(
            "ix_posts_unpublished_first", text(UNPUBLISHED_FIRST), "published_at", "id", **LIVE_ONLY
        ),
        Index("ix_posts_deleted_at_id", "deleted_at", "id", **TRASH_ONLY),
        # Never reuse a deleted post's id on SQLite: old URLs and ETags must not name a new post.
        {"sqlite_autoincrement": True},
    )

    def status_at(self, now: datetime) -> str:
        """draft, scheduled or published, as of `now`."""
        if self.published_at is None:
            return "draft"
        return "published" if self.published_at <= now else "scheduled"

    def __repr__(self) -> str:
        return f"<Post {self.slug}>"


class PostSlug(Model):
    """A slug a post had before it was renamed: its page answers there with a redirect
    (blogapi/posts/slug_history.py). A slug leads to the post that gave it up last."""

    __tablename__ = "post_slugs"

    slug: Mapped[str] = mapped_column(String(80), primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)


class PostRevision(Model):
    """A post's content as one save left it; its body whole or as a delta against its keyframe
    (blogapi/posts/history/bodies.py)."""

    __tablename__ = "post_revisions"
    __table_args__ = (
        UniqueConstraint("post_id", "number", name="uq_post_revisions_post_id_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, … within the post
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(80))
    summary: Mapped[str] = mapped_column(String(500), default="")
    # The tags as this revision spelled them, a JSON array in slug order.
    tags: Mapped[str] = mapped_column(Text, default="[]")
    # The number of the revision whose whole body this one's delta applies to; null: whole.
    keyframe: Mapped[int | None] = mapped_column(Integer, nullable=True)
    body_data: Mapped[bytes] = mapped_column(LargeBinary)

    author: Mapped[User] = relationship(lazy="raise_on_sql")

    def __repr__(self) -> str:
        return f"<PostRevision {self.post_id}#{self.number}>"


def media_file_keys(key: str, variants: str) -> list[str]:
    """Every stored file a media row names: its image's key, then its variants' (from the JSON
    of the variants column)."""
    return [key, *(variant["key"] for variant in json.loads(variants or "[]"))]


class Media(Model):
    """An uploaded image as stored: decoded, stripped of metadata and re-encoded, with its
    smaller variants (blogapi/media). Its files live in the media storage under `key` and
    the variants' keys, random names that no client chooses."""

    __tablename__ = "media"
    __table_args__ = (
        # Identical bytes from one uploader are one media (a second upload answers 200).
        UniqueConstraint("uploader_id", "source_sha256", name="uq_media_uploader_id_source_sha256"),
        Index("ix_media_created_at_id", "created_at", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uploader_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    source_sha256: Mapped[str] = mapped_column(String(64))  # of the bytes as uploaded
    sha256: Mapped[str] = mapped_column(String(64))  # of the stored file
    key: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(32))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    bytes: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(255), default="")
    alt: Mapped[str] = mapped_column(String(1000), default="")
    # The variants, a JSON array of {"width", "height", "key", "bytes"}, narrowest first.
    variants: Mapped[str] = mapped_column(Text, default="[]")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    uploader: Mapped[User] = relationship(lazy="raise_on_sql")

    @property
    def variant_files(self) -> list[dict[str, Any]]:
        """The variants column read: width, height, key and bytes of each, narrowest first."""
        variants: list[dict[str, Any]] = json.loads(self.variants or "[]")
        return variants

    @property
    def file_keys(self) -> list[str]:
        """Every stored file of this media: the image, then its variants."""
        return media_file_keys(self.key, self.variants)

    def __repr__(self) -> str:
        return f"<Media {self.id} {self.key}>"


class ContentVersion(Model):
    """One row counting changes to what readers see; public response caches key on it."""

    __tablename__ = "content_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)
    # When value last changed (the triggers set both); null before the first change.
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class RevokedToken(Model):
    """A single revoked token, kept until it would have expired anyway."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_type: Mapped[str] = mapped_column(String(10))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    revoked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Scoped:
    """A row whose `scopes` column holds space-separated OAuth scopes."""

    scopes: Mapped[str]

    @property
    def scope_set(self) -> frozenset[str]:
        """The scopes as a set."""
        return frozenset(self.scopes.split())


class PersonalToken(Scoped, Model):
    """A personal access token for writers' apps: only its hash is kept, and it holds while its
    user's token_version is the one it was made under (a bump revokes it with every session)."""

    __tablename__ = "personal_tokens"
    __table_args__ = ({"sqlite_autoincrement": True},)  # an id is never reused

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(String(100))  # space-separated, as OAuth writes them
    token_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The IndieAuth client a token was issued to (None: made by its writer, by hand).
    client_id: Mapped[str | None] = mapped_column(String(2048), nullable=True)

    user: Mapped[User] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"<PersonalToken {self.id} {self.name!r}>"


class AuthorizationCode(Scoped, Model):
    """An IndieAuth authorization code: its hash, what it was issued for (client, redirect,
    PKCE challenge, user, scopes), and whether it was spent (and on which token)."""

    __tablename__ = "authorization_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[str] = mapped_column(String(2048))
    client_name: Mapped[str] = mapped_column(String(100))  # what its token will be named
    redirect_uri: Mapped[str] = mapped_column(String(2048))
    code_challenge: Mapped[str] = mapped_column(String(128))
    scopes: Mapped[str] = mapped_column(String(100))  # space-separated, as granted
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    replayed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The personal access token its exchange issued: a second exchange revokes it.
    token_id: Mapped[int | None] = mapped_column(
        ForeignKey("personal_tokens.id", ondelete="SET NULL"), nullable=True
    )

    user: Mapped[User] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"<AuthorizationCode {self.id} {self.client_id!r}>"
