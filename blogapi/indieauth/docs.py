"""What the OpenAPI document says of IndieAuth's operations (their errors are OAuth 2.0's
body, and the authorization endpoint answers a browser with pages)."""

from __future__ import annotations

from typing import Any

from blogapi.web.endpoint import Reply
from blogapi.web.schemas import oauth_error_schema

ROOT = {"servers": [{"url": "/"}]}
ERROR_BODY = oauth_error_schema(
    ["invalid_request", "invalid_grant", "unsupported_grant_type", "invalid_token", "server_error"]
)
HTML = "text/html"
PAGE = {"type": "string"}


def error(description: str, *headers: str) -> Reply:
    """An OAuth error reply."""
    return Reply(ERROR_BODY, description, headers, media_type="application/json")


def form_body(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    """A form-encoded request body."""
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:  # OpenAPI 3.0 wants a non-empty list or none
        schema["required"] = required
    return {
        "requestBody": {
            "required": True,
            "content": {"application/x-www-form-urlencoded": {"schema": schema}},
        }
    }


STRING = {"type": "string"}
TOKEN_ERRORS: dict[int, Reply | str] = {
    400: error("Missing or malformed parameters, an unsupported grant_type, or a code that "
               "cannot be spent (invalid_grant: unknown, used, expired, another client's, or "
               "a wrong code_verifier)."),
    404: error("The site serves no pages (PUBLIC_SITE is off): no IndieAuth."),
    405: error("Only POST."),
    413: error("The body is too large."),
    414: error("The URL is too long."),
    422: error("A parameter holds a NUL character."),
    429: error("Too many requests; retry after Retry-After seconds.", "Retry-After"),
    503: error("The database is unavailable; retry shortly.", "Retry-After"),
}  # fmt: skip
EXCHANGE = {
    "grant_type": {"type": "string", "enum": ["authorization_code"]},
    "code": STRING,
    "client_id": STRING,
    "redirect_uri": STRING,
    "code_verifier": STRING,
}
PROFILE = {
    "type": "object",
    "required": ["me"],
    "properties": {
        "me": STRING,
        "profile": {
            "type": "object",
            "properties": {"name": STRING, "url": STRING, "email": STRING},
        },
    },
}
TOKEN_REPLY = {
    "type": "object",
    "required": ["access_token", "token_type", "scope", "me"],
    "properties": {
        "access_token": STRING,
        "token_type": {"type": "string", "enum": ["Bearer"]},
        "scope": STRING,
        **PROFILE["properties"],  # type: ignore[dict-item]
    },
}
METADATA_DOC: dict[str, Any] = {
    "summary": "IndieAuth server metadata",
    "description": "RFC 8414 metadata of the IndieAuth server: its issuer, endpoints, scopes, "
    "and S256 as the only PKCE method. 404 when PUBLIC_SITE is off (IndieAuth needs the "
    "author pages).",
    "tag": "indieauth",
    "uses_database": False,
    "responses": {
        200: Reply({"type": "object"}, "The metadata."),
        404: "The site serves no pages.",
    },
    "extra": ROOT,
}
AUTHORIZE_DOC: dict[str, Any] = {
    "summary": "IndieAuth sign-in and consent page",
    "description": "The authorization request of IndieAuth (OAuth 2.0 authorization code with "
    "PKCE, S256 only). A browser gets the sign-in and consent page; a request that cannot be "
    "trusted to go back (bad client_id or redirect_uri) is a 400 page; other faults go back to "
    "the client's redirect_uri as `error`, with `state` and `iss`.",
    "tag": "indieauth",
    "responses": {
        200: Reply(PAGE, "The sign-in and consent page.", media_type=HTML),
        302: Reply(None, "Back to the client with an OAuth error.", ("Location",)),
        400: "A client_id or redirect_uri that cannot be used.",
        422: "A parameter holds a NUL character.",
        404: "The site serves no pages.",
    },
    "extra": {
        "parameters": [
            {"in": "query", "name": name, "required": name in ("client_id", "redirect_uri"),
             "schema": {"type": "string"}}
            for name in ("response_type", "client_id", "redirect_uri", "state", "code_challenge",
                         "code_challenge_method", "scope", "me")
        ],
        **ROOT,
    },
}  # fmt: skip
AUTHORIZE_POST_DOC: dict[str, Any] = {
    "summary": "IndieAuth: consent, or a profile-only code exchange",
    "description": "From the consent page (csrf_token, username, password, the scopes kept, "
    "decision): the writer's answer, sent back to the client's redirect_uri with `code`, "
    "`state` and `iss` (or `error=access_denied`); a wrong password shows the form again, and "
    "a browser sees its errors as pages. From a client (grant_type, code, client_id, "
    "redirect_uri, code_verifier): the profile-only exchange, answering `me` (and `profile` "
    "when granted) without a token; errors in OAuth's body. Rate-limited as login is, in the "
    "same per-account bucket.",
    "tag": "indieauth",
    "responses": {
        **TOKEN_ERRORS,
        200: Reply(PROFILE, "The signed-in writer (exchange)."),
        302: Reply(None, "Back to the client with the code or the refusal.", ("Location",)),
        403: error("A consent form that is stale or not from this site's page, or a "
                   "deactivated account."),
    },
    "extra": form_body({**EXCHANGE, "csrf_token": STRING, "username": STRING,
                        "password": STRING, "scope": STRING, "decision": STRING}, []) | ROOT,
}  # fmt: skip
TOKEN_DOC: dict[str, Any] = {
    "summary": "IndieAuth token endpoint",
    "description": "Trade an authorization code (with its PKCE code_verifier) for a personal "
    "access token named after the client, with the scopes the writer granted. A code works "
    "once, for 60 seconds; using it again revokes the token it gave.",
    "tag": "indieauth",
    "responses": {**TOKEN_ERRORS, 200: Reply(TOKEN_REPLY, "The token.")},
    "extra": form_body(EXCHANGE, list(EXCHANGE)) | ROOT,
}
INTROSPECT_DOC: dict[str, Any] = {
    "summary": "IndieAuth token introspection",
    "description": "RFC 7662 for personal access tokens: `active`, and for an active token "
    "`me`, `client_id`, `scope`, `iat` and `exp`. The caller authenticates with a bearer token "
    "(a session's access token or a personal access token); tokens of other users are "
    "reported inactive unless the caller is an admin.",
    "tag": "indieauth",
    "responses": {
        **TOKEN_ERRORS,
        200: Reply({"type": "object", "required": ["active"],
                    "properties": {"active": {"type": "boolean"}}}, "What the token is."),
        401: error("No bearer token, or one that does not hold.", "WWW-Authenticate"),
    },
    "extra": form_body({"token": STRING, "token_type_hint": STRING}, ["token"]) | ROOT,
}  # fmt: skip
REVOKE_DOC: dict[str, Any] = {
    "summary": "IndieAuth token revocation",
    "description": "RFC 7009: revoke a personal access token; 200 whether or not it was one.",
    "tag": "indieauth",
    "responses": {**TOKEN_ERRORS, 200: Reply({"type": "object"}, "Revoked (or never valid).")},
    "extra": form_body({"token": STRING, "token_type_hint": STRING}, ["token"]) | ROOT,
}
