"""GET /.well-known/jwks.json: the public keys that verify our tokens, for other services."""

from __future__ import annotations

import orjson
from flask import Response
from flask_restful import Resource
from marshmallow import fields

from blogapi.security.keys import key_ring
from blogapi.web.endpoint import Reply, endpoint
from blogapi.web.errors import ApiError
from blogapi.web.fields import StrictSchema

JWKS_PATH = "/.well-known/jwks.json"


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


class Jwks(Resource):
    """The JSON Web Key Set, at the site root."""

    @endpoint(
        summary="Public keys that verify our tokens",
        description="The JSON Web Key Set other services use to verify blogapi's tokens, at the "
        "site root (not under the API prefix). Present when tokens are signed with EdDSA or "
        "RS256 (JWT_PRIVATE_KEY_FILE); a retired key stays listed until its tokens have "
        "expired. Cacheable for five minutes; refetch when a token names an unknown kid.",
        tag="service",
        responses={
            200: Reply(JwksSchema, "The current signing key and any retired keys."),
            404: "Tokens are signed with a shared secret: there are no public keys.",
        },
    )
    def get(self) -> Response:
        """The public keys, or 404 when tokens are signed with a shared secret."""
        ring = key_ring()
        if not ring.asymmetric:
            raise ApiError(404, "Tokens are signed with a shared secret; there are no public keys.")
        body = {"keys": [key.jwk for key in ring.verifying.values()]}
        response = Response(orjson.dumps(body), mimetype="application/json")
        # Public keys are not secret; verifiers may cache them briefly (they refetch on a new kid).
        response.headers["Cache-Control"] = "public, max-age=300"
        return response
