"""TokenList and TokenItem: a writer's personal access tokens for apps and scripts."""

from __future__ import annotations

from typing import Any

from flask import Response, url_for
from flask_restful import Resource

from blogapi.accounts.personal_tokens import create_token, live_tokens, revoke_token, token_of
from blogapi.accounts.schemas import (
    NewPersonalTokenSchema,
    PersonalTokenSchema,
    TokenRequestSchema,
    token_json,
)
from blogapi.db.models import PersonalToken
from blogapi.security.guards import ACCESS, signed_in
from blogapi.security.ratelimit import per_user, post_write_limit
from blogapi.web.api import no_content
from blogapi.web.endpoint import Reply, endpoint
from blogapi.web.errors import ApiError

NOT_YOURS = "No such token among yours."


class TokenList(Resource):
    """The caller's personal access tokens."""

    @endpoint(
        summary="List my personal access tokens",
        description="Newest first; expired ones stay listed until revoked. Never the secrets.",
        tag="auth",
        auth=ACCESS,
        responses={200: Reply(PersonalTokenSchema(many=True), "The caller's tokens.")},
    )
    def get(self) -> list[dict[str, Any]]:
        """The caller's tokens."""
        return [token_json(token) for token in live_tokens(signed_in())]

    @endpoint(
        summary="Make a personal access token",
        description="For an app or script: used as `Authorization: Bearer blogapi_pat_…` on the "
        "posts and media endpoints and on Micropub, never on /auth (but GET /auth/me), /users or "
        "/auth/tokens. It may do what its scopes name, within the user's role at each request. "
        "The secret is in this reply only. 409 at 50 tokens.",
        tag="auth",
        auth=ACCESS,
        body=TokenRequestSchema,
        example={"name": "iA Writer", "scopes": ["create", "update", "media"]},
        limits=per_user(post_write_limit, "token-create"),
        responses={
            201: Reply(NewPersonalTokenSchema, "The token, with its secret.", ("Location",)),
            409: "The caller has 50 tokens already.",
        },
    )
    def post(self, body: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
        """Make a token and show its secret once."""
        token, secret = create_token(
            signed_in(), body["name"], body["scopes"], body["expires_in_days"]
        )
        location = url_for("auth_token_item", token_id=token.id)
        return token_json(token, secret), 201, {"Location": location}


def own_token(token_id: int) -> PersonalToken:
    """One of the caller's live tokens, else 404."""
    token = token_of(signed_in(), token_id)
    if token is None:
        raise ApiError(404, NOT_YOURS)
    return token


class TokenItem(Resource):
    """One of the caller's personal access tokens."""

    @endpoint(
        summary="Show a personal access token",
        description="Its name, scopes and dates; never the secret.",
        tag="auth",
        auth=ACCESS,
        responses={200: Reply(PersonalTokenSchema, "The token."), 404: NOT_YOURS},
    )
    def get(self, token_id: int) -> dict[str, Any]:
        """The token."""
        return token_json(own_token(token_id))

    @endpoint(
        summary="Revoke a personal access token",
        description="It stops working at once, on every instance.",
        tag="auth",
        auth=ACCESS,
        responses={204: Reply(None, "Revoked."), 404: NOT_YOURS},
    )
    def delete(self, token_id: int) -> Response:
        """Revoke the token."""
        revoke_token(own_token(token_id))
        return no_content()
