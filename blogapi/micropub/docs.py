"""What the OpenAPI document says of Micropub's operations (their errors are Micropub's body,
not problem+json)."""

from __future__ import annotations

from typing import Any

from blogapi.web.endpoint import Reply
from blogapi.web.schemas import oauth_error_schema

ERROR_BODY = oauth_error_schema(
    ["invalid_request", "unauthorized", "forbidden", "insufficient_scope", "server_error"]
)


def error(description: str, *headers: str) -> Reply:
    """A Micropub error reply."""
    return Reply(ERROR_BODY, description, headers, media_type="application/json")


ERRORS: dict[int, Reply | str] = {
    400: error("Malformed, unsupported, two tokens, or no post at `url`."),
    401: error("No personal access token, one that does not hold, or without the scope.",
               "WWW-Authenticate"),
    403: error("The token's user may not do this (role, or not their post)."),
    405: error("Only GET and POST."),
    413: error("The body (or a file, over MEDIA_MAX_BYTES) is too large."),
    414: error("The URL is too long."),
    415: error("Not a form, multipart or JSON body (media: not an image)."),
    422: error("An image that cannot be read, or too many pixels."),
    429: error("Too many writes; retry after Retry-After seconds.", "Retry-After"),
    503: error("The database is unavailable; retry shortly.", "Retry-After"),
}  # fmt: skip
FORM_BODY = {"type": "object", "additionalProperties": True}
QUERY_PARAMETERS = [
    {"in": "query", "name": "q", "required": True,
     "schema": {"type": "string", "enum": ["config", "syndicate-to", "source"]}},
    {"in": "query", "name": "url", "required": False, "schema": {"type": "string"},
     "description": "With q=source: the post's public URL."},
    {"in": "query", "name": "properties[]", "required": False,
     "schema": {"type": "array", "items": {"type": "string"}},
     "description": "With q=source: only these properties."},
]  # fmt: skip
JSON_OBJECT: dict[str, Any] = {"type": "object"}
QUERY_DOC: dict[str, Any] = {
    "summary": "Micropub queries",
    "description": "W3C Micropub: q=config (media endpoint, post types), q=syndicate-to, and "
    "q=source&url=… (a post's properties as mf2 JSON; properties[] narrows them). Needs a "
    "personal access token (any scope) in the Authorization header.",
    "tag": "micropub",
    "uses_database": True,
    "responses": {**ERRORS, 200: Reply(JSON_OBJECT, "The answer to the query.")},
    "extra": {"parameters": QUERY_PARAMETERS, "servers": [{"url": "/"}]},
}
POST_DOC: dict[str, Any] = {
    "summary": "Micropub: create, update, delete, undelete",
    "description": "W3C Micropub. Create an h-entry (form-encoded, multipart with photos, or "
    "JSON `type`/`properties`) with scope `create`; `action=update` (JSON: replace, add, "
    "delete) with `update`; `action=delete` and `action=undelete` with `delete`. The token "
    "goes in the Authorization header or the `access_token` field, not both.",
    "tag": "micropub",
    "responses": {
        **ERRORS,
        201: Reply(None, "Created (or moved by an update): the post's public URL.", ("Location",)),
        204: Reply(None, "Updated, deleted or undeleted."),
    },
    "extra": {
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {"schema": FORM_BODY},
                "multipart/form-data": {"schema": FORM_BODY},
                "application/json": {"schema": JSON_OBJECT},
            },
        }
    },
}
MEDIA_DOC: dict[str, Any] = {
    "summary": "Micropub media endpoint",
    "description": "One image as multipart `file` (scope `media`): stored as POST /media "
    "stores it; 201 with the file's URL in Location.",
    "tag": "micropub",
    "responses": {**ERRORS, 201: Reply(None, "The file's URL.", ("Location",))},
    "extra": {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {
                            "file": {"type": "string", "format": "binary"},
                            "access_token": {"type": "string"},
                        },
                    }
                }
            },
        }
    },
}
