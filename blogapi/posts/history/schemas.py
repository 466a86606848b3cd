"""Schemas for revisions, their diffs and the trash."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from blogapi.posts.schemas import AuthorSchema, PostSchema
from blogapi.web.cursors import MAX_ID
from blogapi.web.fields import StrictSchema, UTCDateTimeField
from blogapi.web.schemas import page_of

REVISION_NUMBER = validate.Range(min=1, max=MAX_ID)


class RevisionSummarySchema(StrictSchema):
    """A revision in a list: who saved what, when; the body left out."""

    number = fields.Integer(dump_only=True, required=True)
    created_at = UTCDateTimeField(dump_only=True, required=True)
    author = fields.Nested(
        AuthorSchema,
        dump_only=True,
        required=True,
        metadata={"description": "Who saved this revision."},
    )
    title = fields.String(dump_only=True, required=True)
    slug = fields.String(dump_only=True, required=True)
    summary = fields.String(dump_only=True, required=True)
    tags = fields.List(
        fields.String(),
        dump_only=True,
        required=True,
        metadata={"description": "Tag slugs, as a post shows them."},
    )


class RevisionSchema(RevisionSummarySchema):
    """A revision whole: its body and the body rendered as a post's would be."""

    body = fields.String(dump_only=True, required=True, metadata={"description": "Markdown."})
    body_html = fields.String(
        dump_only=True,
        required=True,
        metadata={"description": "Rendered and sanitized, as it would be published now."},
    )


class DiffQuerySchema(Schema):
    """GET …/revisions/{n}/diff: which revision to compare with (other parameters ignored)."""

    class Meta:
        unknown = EXCLUDE

    against = fields.Integer(
        validate=REVISION_NUMBER,
        metadata={"description": "Another revision's number; default: the one before (n-1)."},
    )


class DiffSchema(StrictSchema):
    """What changed between two revisions."""

    from_ = fields.Integer(
        data_key="from",
        dump_only=True,
        required=True,
        metadata={"description": "The revision compared against; 0: nothing (n is the first)."},
    )
    to = fields.Integer(dump_only=True, required=True)
    diff = fields.String(
        dump_only=True, required=True, metadata={"description": "A unified diff of the bodies."}
    )
    changed = fields.List(
        fields.String(validate=validate.OneOf(("title", "slug", "summary", "body", "tags"))),
        dump_only=True,
        required=True,
        metadata={
            "description": "The fields that differ, in this order: title, slug, summary, "
            "body, tags."
        },
    )


class TrashedPostSchema(PostSchema):
    """A post in the trash: as it was, and when and by whom it was deleted."""

    class Meta(PostSchema.Meta):
        exclude = ("match",)

    deleted_at = UTCDateTimeField(dump_only=True, required=True)
    deleted_by = fields.Nested(AuthorSchema, dump_only=True, required=True, allow_none=True)


RevisionPageSchema = page_of(RevisionSummarySchema, "RevisionPage")
TrashPageSchema = page_of(TrashedPostSchema, "TrashPage")

revision_summary_schema = RevisionSummarySchema()
revision_schema = RevisionSchema()
diff_schema = DiffSchema()
trashed_post_schema = TrashedPostSchema()
