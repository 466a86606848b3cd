"""Schemas of what the API sends back that no request shares: problems, token pairs, pages."""

from __future__ import annotations

from marshmallow import Schema, fields

from blogapi.schemas.common import StrictSchema
from blogapi.schemas.posts import PostSchema
from blogapi.schemas.users import PrivateUserSchema


class ProblemSchema(Schema):
    """RFC 9457 problem details; `errors` only on validation failures."""

    type = fields.String(dump_only=True, metadata={"example": "about:blank"})
    title = fields.String(dump_only=True, metadata={"example": "Unprocessable Content"})
    status = fields.Integer(dump_only=True, metadata={"example": 422})
    detail = fields.String(dump_only=True, metadata={"example": "The request has invalid fields."})
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        dump_only=True,
        metadata={"example": {"title": ["Field may not be blank."]}},
    )


class JwkSchema(StrictSchema):
    """One public key (RFC 7517): Ed25519 keys carry crv and x, RSA keys n and e."""

    kty = fields.String(dump_only=True, required=True, metadata={"example": "OKP"})
    kid = fields.String(
        dump_only=True, required=True, metadata={"description": "RFC 7638 thumbprint."}
    )
    alg = fields.String(dump_only=True, required=True, metadata={"example": "EdDSA"})
    use = fields.String(dump_only=True, required=True, metadata={"example": "sig"})
    crv = fields.String(dump_only=True, metadata={"example": "Ed25519"})
    x = fields.String(dump_only=True)
    n = fields.String(dump_only=True)
    e = fields.String(dump_only=True)


class JwksSchema(StrictSchema):
    """A JSON Web Key Set: the signing key and any retired keys still verifying."""

    keys = fields.List(fields.Nested(JwkSchema), dump_only=True, required=True)


class TokenPairSchema(StrictSchema):
    """An access and a refresh token, and who they belong to."""

    access_token = fields.String(dump_only=True, required=True)
    refresh_token = fields.String(dump_only=True, required=True)
    token_type = fields.String(dump_only=True, required=True, metadata={"example": "Bearer"})
    expires_in = fields.Integer(
        dump_only=True, required=True, metadata={"description": "Access token life in seconds."}
    )
    user = fields.Nested(PrivateUserSchema, dump_only=True, required=True)


class PageMetaSchema(StrictSchema):
    """Where a page sits in the whole list."""

    page = fields.Integer(dump_only=True, required=True)
    per_page = fields.Integer(dump_only=True, required=True)
    total = fields.Integer(dump_only=True, required=True)
    pages = fields.Integer(dump_only=True, required=True)
    next_cursor = fields.String(
        dump_only=True,
        required=True,
        allow_none=True,
        metadata={"description": "Pass as `cursor` for the next page; null on the last page."},
    )


def page_of(item: type[Schema], name: str) -> type[Schema]:
    """A page envelope schema for a list of `item`."""
    return StrictSchema.from_dict(
        {
            "items": fields.List(fields.Nested(item), dump_only=True, required=True),
            "meta": fields.Nested(PageMetaSchema, dump_only=True, required=True),
        },
        name=name,
    )


class HealthSchema(StrictSchema):
    """The service's health."""

    status = fields.String(dump_only=True, required=True, metadata={"example": "ok"})
    database = fields.String(dump_only=True, required=True, metadata={"example": "ok"})


UserPageSchema = page_of(PrivateUserSchema, "UserPage")
PostPageSchema = page_of(PostSchema, "PostPage")
