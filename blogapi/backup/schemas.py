"""The record formats of `export`/`import` files: one JSON object a line, typed and versioned."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from marshmallow import ValidationError, fields, validate, validates, validates_schema

from blogapi.accounts.schemas import USERNAME
from blogapi.backup.record_fields import optional_id, required_id, size, text, timestamp
from blogapi.backup.webhook_records import WEBHOOK_RECORDS
from blogapi.media.keys import CONTENT_TYPES, content_type_of, is_key
from blogapi.posts.schemas import TAGS_MAX, has_slug
from blogapi.posts.slugs import is_valid_slug
from blogapi.posts.tags import TAG_MAX_LENGTH, tag_slug
from blogapi.security.passwords import hasher
from blogapi.security.personal_tokens import SCOPES
from blogapi.security.roles import ROLES
from blogapi.web.fields import StrictSchema, UTCDateTimeField

FORMAT = 9  # bump when a record changes shape; import refuses formats it does not know
# 2: posts carry tag_names, their own spelling of each tag; a format 1 file's posts take the
# tag records' names, the one spelling stored then.
# 3: posts carry deleted_at and deleted_by_id (the trash), and revision records follow the
# posts; a format 1 or 2 file's posts each get a revision 1 made from themselves.
# 4: media records follow the tags, then a file record for every stored file (each image and
# its variants, base64); posts carry feature_image_id. Older files have no media.
# 5: posts carry old_slugs, the slugs they gave up (their redirects). Older files have none.
# 6: personal access token records (their hashes, as stored) follow the revoked tokens, so
# writers' apps keep working after a restore. Older files have none.
# 7: personal access token records carry client_id, the IndieAuth client a token was issued
# to (null for a token its writer made). A format 6 file's tokens have none.
# 8: webhook records (secrets sealed as stored), then the webhook events still to be fanned
# out or delivered, then their pending deliveries (webhook_records.py). Older files have none.
# 9: user records carry email_verified and pending_email (an address change waiting for its
# link). An older file's users are taken as verified, as the migration took existing accounts;
# one-time tokens and mail are never exported: links mailed before an export die with it.
READABLE_FORMATS = (1, 2, 3, 4, 5, 6, 7, 8, 9)
KINDS = (
    "user",
    "tag",
    "media",
    "file",
    "post",
    "revision",
    "revoked_token",
    "personal_token",
    "webhook",
    "webhook_event",
    "webhook_delivery",
)
SINCE = {
    "revision": 3,
    "media": 4,
    "file": 4,
    "personal_token": 6,
    "webhook": 8,
    "webhook_event": 8,
    "webhook_delivery": 8,
}  # the first format with records of a kind


def valid_slug(value: str) -> None:
    """Lower-case words joined by hyphens, as slugify makes them."""
    if not is_valid_slug(value):
        raise ValidationError("Not a valid slug.")


def media_key(value: str) -> None:
    """A storage key as blogapi makes them (32 hex digits and the image's extension)."""
    if not is_key(value):
        raise ValidationError("Not a media key (32 lower-case hex digits, .jpg/.png/.gif/.webp).")


def sha256_hex(value: str) -> None:
    """A SHA-256 digest in lower-case hex."""
    if len(value) != 64 or value.strip("0123456789abcdef"):
        raise ValidationError("Not a SHA-256 digest in lower-case hex.")


def scope_list(value: str) -> None:
    """Personal access token scopes as stored: known ones, space-separated, each once."""
    scopes = value.split(" ")
    if not scopes or len(set(scopes)) != len(scopes) or not set(scopes) <= set(SCOPES):
        raise ValidationError(f"Not space-separated scopes of {', '.join(SCOPES)}.")


class HeaderRecord(StrictSchema):
    """Line 1: what the file is, when it was made and how many records of each kind follow."""

    app = fields.String(required=True, validate=validate.Equal("blogapi"))
    exported_at = timestamp()
    counts = fields.Dict(
        keys=fields.String(validate=validate.OneOf(KINDS)),
        values=fields.Integer(strict=True, validate=validate.Range(min=0)),
        required=True,
    )


class UserRecord(StrictSchema):
    """A user with the password hash, so every login keeps working."""

    id = required_id()
    username = fields.String(required=True, validate=USERNAME)
    email = fields.Email(required=True, validate=validate.Length(max=254))
    password_hash = text(1, 255)
    display_name = text(0, 100)
    bio = text(0, 1000)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    active = fields.Boolean(required=True, truthy={True}, falsy={False})
    email_verified = fields.Boolean(load_default=True, truthy={True}, falsy={False})
    pending_email = fields.Email(
        load_default=None, allow_none=True, validate=validate.Length(max=254)
    )
    token_version = required_id()
    created_at = timestamp()
    updated_at = timestamp()

    @validates("password_hash")
    def _verifiable_at_our_cost(self, value: str, **_kwargs: Any) -> None:
        problem = hasher().foreign_hash_problem(value)
        if problem:
            raise ValidationError(problem)


class TagRecord(StrictSchema):
    """A tag."""

    id = required_id()
    name = text(1, 40)
    slug = fields.String(required=True, validate=[validate.Length(max=40), valid_slug])


class PostRecord(StrictSchema):
    """A post with its exact slug, timestamps, version, tag ids and its spelling of each tag
    (`tag_names`, in the same order), when and by whom it was trashed (null: live), its
    feature image's media id (null: none) and the slugs it gave up (`old_slugs`).
    Import makes `body_html` again from `body` (the file is not trusted to hold safe HTML);
    export writes it for other readers of the file."""

    id = required_id()
    slug = fields.String(required=True, validate=valid_slug)
    title = text(1, 200)
    summary = text(0, 500)
    body = text(1, 200_000)
    body_html = text(0, None)
    author_id = required_id()
    created_at = timestamp()
    updated_at = timestamp()
    published_at = timestamp(allow_none=True)
    version = required_id()
    tags = fields.List(fields.Integer(strict=True), required=True)
    tag_names = fields.List(fields.String(validate=validate.Length(1, 40)), load_default=None)
    deleted_at = UTCDateTimeField(allow_none=True, load_default=None)
    deleted_by_id = optional_id()
    feature_image_id = optional_id()
    old_slugs = fields.List(fields.String(validate=valid_slug), load_default=list)

    @validates("tags")
    def _distinct(self, value: list[int], **_kwargs: Any) -> None:
        if len(set(value)) != len(value):
            raise ValidationError("A tag id appears twice.")

    @validates_schema
    def _old_slugs_are_old(self, data: dict[str, Any], **_kwargs: Any) -> None:
        old = data.get("old_slugs", [])
        if len(set(old)) != len(old) or data.get("slug") in old:
            raise ValidationError(
                "Old slugs are distinct, and none is the post's own.", "old_slugs"
            )

    @validates_schema
    def _a_name_for_each_tag(self, data: dict[str, Any], **_kwargs: Any) -> None:
        names = data.get("tag_names")
        if names is not None and len(names) != len(data.get("tags", [])):
            raise ValidationError("There must be one name for each tag id.", "tag_names")

    @validates_schema
    def _trashed_by_someone(self, data: dict[str, Any], **_kwargs: Any) -> None:
        # The trash lists who deleted each post: one without the other is no state a post has.
        if (data.get("deleted_at") is None) != (data.get("deleted_by_id") is None):
            raise ValidationError(
                "A post in the trash has both deleted_at and deleted_by_id; others neither.",
                "deleted_by_id",
            )


class Base64Bytes(fields.Field[bytes]):
    """Bytes written as standard base64 (with padding); anything else is refused on load."""

    default_error_messages = {"invalid": "Not valid base64.", "empty": "A file is never empty."}

    def _serialize(self, value: bytes | None, attr: Any, obj: Any, **kwargs: Any) -> Any:
        return None if value is None else base64.b64encode(value).decode("ascii")

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> bytes:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        try:
            decoded = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise self.make_error("invalid") from None
        if not decoded:
            raise self.make_error("empty")
        return decoded


class VariantRecord(StrictSchema):
    """A smaller copy of an image: its size in pixels, storage key and size in bytes."""

    width = size()
    height = size()
    key = fields.String(required=True, validate=media_key)
    bytes = size()


class MediaRecord(StrictSchema):
    """An uploaded image as stored: every column, the storage keys included (so the URLs in
    post bodies and feature images keep working), and its variants as a list, narrowest
    first. The files themselves follow in file records; import checks each against this."""

    id = required_id()
    uploader_id = required_id()
    source_sha256 = fields.String(required=True, validate=sha256_hex)
    sha256 = fields.String(required=True, validate=sha256_hex)
    key = fields.String(required=True, validate=media_key)
    content_type = fields.String(
        required=True, validate=validate.OneOf(sorted(set(CONTENT_TYPES.values())))
    )
    width = size()
    height = size()
    bytes = size()
    filename = text(0, 255)
    alt = text(0, 1000)
    variants = fields.List(fields.Nested(VariantRecord), required=True)
    created_at = timestamp()

    @validates_schema
    def _one_type_for_every_file(self, data: dict[str, Any], **_kwargs: Any) -> None:
        # A file is served as the type its key's extension names: the row must agree.
        keys = [data.get("key"), *(v.get("key") for v in data.get("variants", []))]
        if data.get("content_type") and any(
            key and content_type_of(key) != data["content_type"] for key in keys
        ):
            raise ValidationError(
                "Every key's extension must name the media's content type.", "content_type"
            )
        if len(set(keys)) != len(keys):
            raise ValidationError("A key appears twice.", "variants")


class FileRecord(StrictSchema):
    """One stored file (an image or a variant), under its key, its bytes in base64."""

    key = fields.String(required=True, validate=media_key)
    data = Base64Bytes(required=True)


class RevisionRecord(StrictSchema):
    """A saved version of a post: who saved it when, its content and its body whole (the file
    does not depend on how bodies are stored). Revisions follow the posts, in (post_id,
    number) order; import stores the bodies again, as saves store them."""

    post_id = required_id()
    number = required_id()
    created_at = timestamp()
    author_id = required_id()
    title = text(1, 200)
    slug = fields.String(required=True, validate=valid_slug)
    summary = text(0, 500)
    body = text(1, 200_000)
    tags = fields.List(
        fields.String(validate=[validate.Length(1, TAG_MAX_LENGTH), has_slug]),
        required=True,
        validate=validate.Length(max=TAGS_MAX),
    )

    @validates("tags")
    def _one_spelling_a_tag(self, value: list[str], **_kwargs: Any) -> None:
        if len({tag_slug(name) for name in value}) != len(value):
            raise ValidationError("Two names are spellings of the same tag.")


class RevokedTokenRecord(StrictSchema):
    """A revoked token that must stay revoked after the import."""

    jti = text(1, 64)
    user_id = required_id()
    token_type = fields.String(required=True, validate=validate.OneOf(["access", "refresh"]))
    expires_at = timestamp()
    revoked_at = timestamp()


class PersonalTokenRecord(StrictSchema):
    """A personal access token as stored: its SHA-256, never the secret, and the user's token
    version it was made under (a user record's later version means it stays revoked)."""

    id = required_id()
    user_id = required_id()
    name = text(1, 100)
    token_hash = fields.String(required=True, validate=sha256_hex)
    scopes = fields.String(required=True, validate=scope_list)
    token_version = required_id()
    created_at = timestamp()
    expires_at = UTCDateTimeField(required=True, allow_none=True)
    last_used_at = UTCDateTimeField(required=True, allow_none=True)
    client_id = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(min=1, max=2048)
    )


header_record = HeaderRecord()
RECORDS: dict[str, StrictSchema] = {
    "user": UserRecord(),
    "tag": TagRecord(),
    "media": MediaRecord(),
    "file": FileRecord(),
    "post": PostRecord(),
    "revision": RevisionRecord(),
    "revoked_token": RevokedTokenRecord(),
    "personal_token": PersonalTokenRecord(),
    **WEBHOOK_RECORDS,
}
