"""Schemas for posts and tags: what clients may send, and what they get back."""

from __future__ import annotations

from typing import Any

from marshmallow import (
    ValidationError,
    fields,
    post_load,
    validate,
    validates,
    validates_schema,
)

from blogapi.accounts.schemas import USERNAME
from blogapi.media.schemas import FeatureImageSchema
from blogapi.posts.access import STATUSES
from blogapi.posts.listing import DEFAULT_SORT, RELEVANCE, SORTS
from blogapi.posts.slugs import is_valid_slug
from blogapi.posts.tags import TAG_MAX_LENGTH, merge_tags, tag_slug
from blogapi.timeutil import request_now
from blogapi.web.cursors import MAX_ID, CursorError, decode_cursor
from blogapi.web.fields import (
    BoundedList,
    StrictSchema,
    TrimmedString,
    UTCDateTimeField,
    no_nul,
    one_line,
)
from blogapi.web.paging import PageQuerySchema
from blogapi.web.schemas import page_of

TITLE_MAX = 200
SUMMARY_MAX = 500
BODY_MAX = 200_000
TAGS_MAX = 10
TAGS_SENT_MAX = 100  # entries in the list as sent: duplicates merge, so it may repeat tags
Q_MAX = 1000


def not_blank(value: str) -> None:
    """Refuse text that is only white space."""
    if not value.strip():
        raise ValidationError("Field may not be blank.")


def client_slug(value: str) -> None:
    """A slug a client chooses: lowercase words of a-z and 0-9 joined by hyphens."""
    if not is_valid_slug(value):
        raise ValidationError(
            "Use 1 to 80 lowercase letters, digits and single hyphens, e.g. my-first-post."
        )
    if value.isdigit():
        raise ValidationError("A slug of digits only would read as a post id; add a word.")


def has_slug(value: str) -> None:
    """A tag must keep at least one letter or digit once folded to a slug."""
    if not tag_slug(value):
        raise ValidationError("A tag needs at least one letter or digit.")


def query_slug(value: str) -> None:
    """A tag slug in a query (any case)."""
    if not is_valid_slug(value.lower()):
        raise ValidationError("Give a tag slug: letters, digits and single hyphens.")


class PostWriteSchema(StrictSchema):
    """POST /posts, and with partial=True PATCH /posts/{id}; ids, authors, dates are not here."""

    title = TrimmedString(required=True, validate=[validate.Length(min=1, max=TITLE_MAX), one_line])
    body = fields.String(
        required=True, validate=[validate.Length(min=1, max=BODY_MAX), not_blank, no_nul]
    )
    summary = TrimmedString(validate=[validate.Length(max=SUMMARY_MAX), no_nul])
    tags = BoundedList(
        TrimmedString(validate=[validate.Length(min=1, max=TAG_MAX_LENGTH), one_line, has_slug]),
        max_items=TAGS_SENT_MAX,
        error_messages={"too_many": f"Send at most {TAGS_SENT_MAX} tags ({TAGS_MAX} different)."},
    )
    slug = fields.String(validate=client_slug)
    feature_image_id = fields.Integer(
        strict=True,
        allow_none=True,
        validate=validate.Range(min=1, max=MAX_ID),
        metadata={"description": "A media id (contributors: their own), or null for none."},
    )

    @validates("tags")
    def _at_most_ten(self, value: list[str], **_kwargs: Any) -> None:
        if len(merge_tags(value)) > TAGS_MAX:
            raise ValidationError(f"At most {TAGS_MAX} different tags.")

    @post_load
    def _merge_tags(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        if "tags" in data:
            data["tags"] = merge_tags(data["tags"])
        return data


class PublishSchema(StrictSchema):
    """POST /posts/{id}/publish: when it goes live (default now; a future time schedules)."""

    publish_at = UTCDateTimeField()


class UnpublishSchema(StrictSchema):
    """POST /posts/{id}/unpublish takes no fields."""


class PostListQuerySchema(PageQuerySchema):
    """GET /posts: filters, sort and paging; bad values are 422, never 500."""

    author = TrimmedString(validate=USERNAME)
    tag = TrimmedString(validate=[validate.Length(max=TAG_MAX_LENGTH), query_slug])
    q = TrimmedString(
        validate=validate.Length(max=Q_MAX),
        metadata={
            "description": 'Full-text search: words (all must match), "a phrase", -excluded, '
            "`or` between alternatives. Orders by relevance unless `sort` is given."
        },
    )
    status = fields.String(load_default="published", validate=validate.OneOf(STATUSES))
    sort = fields.String(
        validate=validate.OneOf(list(SORTS)),
        metadata={"description": f"Default `{DEFAULT_SORT}`; `{RELEVANCE}` with `q`."},
    )
    cursor = fields.String(validate=validate.Length(min=1))

    @validates_schema
    def _relevance_needs_q(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("sort") == RELEVANCE and "q" not in data:
            raise ValidationError("Sorting by relevance needs a search: add q.", "sort")

    @post_load
    def _decode_cursor(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        if "tag" in data:
            data["tag"] = data["tag"].lower()
        if "q" in data:
            data["q"] = data["q"].replace("\x00", " ")  # any text is a query; NUL separates
        data.setdefault("sort", RELEVANCE if "q" in data else DEFAULT_SORT)
        if "cursor" in data:
            order = SORTS[data["sort"]]
            try:
                data["cursor"] = decode_cursor(data["cursor"], order.name, order.key_kind)
            except CursorError as exc:
                raise ValidationError(str(exc), "cursor") from None
        return data


class AuthorSchema(StrictSchema):
    """The author as a post shows them."""

    username = fields.String(dump_only=True, required=True)
    display_name = fields.String(dump_only=True, required=True)


class PostSchema(StrictSchema):
    """A post as clients see it; status is derived from published_at at this request's now."""

    id = fields.Integer(dump_only=True, required=True)
    slug = fields.String(dump_only=True, required=True)
    title = fields.String(dump_only=True, required=True)
    summary = fields.String(dump_only=True, required=True)
    body = fields.String(dump_only=True, required=True, metadata={"description": "Markdown."})
    body_html = fields.String(
        dump_only=True, required=True, metadata={"description": "Rendered and sanitized."}
    )
    status = fields.Function(
        lambda post: post.status_at(request_now()),
        dump_only=True,
        required=True,
        metadata={"type": "string", "enum": ["draft", "scheduled", "published"]},
    )
    tags = fields.Function(
        lambda post: [tag.slug for tag in post.tags],
        dump_only=True,
        required=True,
        metadata={"type": "array", "items": {"type": "string"}},
    )
    author = fields.Nested(AuthorSchema, dump_only=True, required=True)
    feature_image = fields.Nested(
        FeatureImageSchema, dump_only=True, required=True, allow_none=True
    )
    created_at = UTCDateTimeField(dump_only=True, required=True)
    updated_at = UTCDateTimeField(dump_only=True, required=True)
    published_at = UTCDateTimeField(dump_only=True, required=True, allow_none=True)
    match = fields.Nested(
        "MatchSchema",
        dump_only=True,
        metadata={"description": "In search results (with `q`) only."},
    )


class MatchSchema(StrictSchema):
    """How a post matched a search."""

    rank = fields.Float(
        dump_only=True, required=True, metadata={"description": "Higher is a better match."}
    )
    snippet = fields.String(
        dump_only=True,
        required=True,
        metadata={
            "description": "Up to 300 characters of the body (or title) around the first "
            "match, as HTML: escaped text with matches in <mark>."
        },
    )


class TagSchema(StrictSchema):
    """A tag in GET /tags, with how many published posts carry it."""

    name = fields.String(dump_only=True, required=True)
    slug = fields.String(dump_only=True, required=True)
    post_count = fields.Integer(dump_only=True, required=True)


PostPageSchema = page_of(PostSchema, "PostPage")

post_schema = PostSchema()
tag_schema = TagSchema()
