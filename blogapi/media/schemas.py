"""Schemas for media: what clients send (alt text, list queries) and what they get back."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from blogapi.media.service import ALT_MAX, media_url
from blogapi.web.fields import StrictSchema, TrimmedString, UTCDateTimeField, no_nul
from blogapi.web.paging import PageQuerySchema
from blogapi.web.schemas import page_of

Q_MAX = 200


def file_url(item: Any) -> str:
    """The URL of a media's (or a variant's) file."""
    return media_url(item["key"] if isinstance(item, dict) else item.key)


def url_field() -> fields.Function:
    """The `url` of a stored file: a media's own, or a variant's (a dict with its key)."""
    return fields.Function(
        file_url,
        dump_only=True,
        required=True,
        metadata={"type": "string"},
    )


class AltSchema(StrictSchema):
    """PATCH /media/{id}, and the `alt` field of an upload: the image described for those who
    cannot see it."""

    alt = TrimmedString(required=True, validate=[validate.Length(max=ALT_MAX), no_nul])


class UploadFieldsSchema(StrictSchema):
    """The form fields of a multipart upload besides `file`."""

    alt = TrimmedString(load_default="", validate=[validate.Length(max=ALT_MAX), no_nul])


class MediaQuerySchema(PageQuerySchema):
    """GET /media: paging, and `q` on file name and alt text."""

    q = TrimmedString(
        validate=[validate.Length(max=Q_MAX), no_nul],
        metadata={"description": "Text the file name or alt text contains (any case)."},
    )


class VariantSchema(StrictSchema):
    """A smaller copy of the image."""

    width = fields.Integer(dump_only=True, required=True)
    height = fields.Integer(dump_only=True, required=True)
    url = url_field()


class UploaderSchema(StrictSchema):
    """Who uploaded the media."""

    username = fields.String(dump_only=True, required=True)


class MediaSchema(StrictSchema):
    """An uploaded image as clients see it."""

    id = fields.Integer(dump_only=True, required=True)
    url = url_field()
    content_type = fields.String(
        dump_only=True,
        required=True,
        metadata={"enum": ["image/jpeg", "image/png", "image/gif", "image/webp"]},
    )
    width = fields.Integer(dump_only=True, required=True)
    height = fields.Integer(dump_only=True, required=True)
    bytes = fields.Integer(dump_only=True, required=True, metadata={"description": "File size."})
    sha256 = fields.String(
        dump_only=True, required=True, metadata={"description": "SHA-256 of the file at `url`."}
    )
    alt = fields.String(dump_only=True, required=True)
    filename = fields.String(
        dump_only=True, required=True, metadata={"description": "The name it was uploaded as."}
    )
    variants = fields.List(
        fields.Nested(VariantSchema), attribute="variant_files", dump_only=True, required=True
    )
    uploaded_by = fields.Nested(UploaderSchema, attribute="uploader", dump_only=True, required=True)
    created_at = UTCDateTimeField(dump_only=True, required=True)


class FeatureImageSchema(StrictSchema):
    """A post's feature image."""

    id = fields.Integer(dump_only=True, required=True)
    url = url_field()
    alt = fields.String(dump_only=True, required=True)
    width = fields.Integer(dump_only=True, required=True)
    height = fields.Integer(dump_only=True, required=True)


MediaPageSchema = page_of(MediaSchema, "MediaPage")
media_schema = MediaSchema()
alt_schema = AltSchema()
upload_fields_schema = UploadFieldsSchema()
