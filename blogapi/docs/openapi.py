"""The OpenAPI 3 document, generated from the routing table, @endpoint and the schemas.

It is built at its first request, and apispec is imported then, not by every worker."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Protocol

from flask import Flask, current_app

from blogapi.security.guards import ANY_SCOPE
from blogapi.web.endpoint import Doc, Reply, doc_of
from blogapi.web.schemas import ProblemSchema

EXTENSION_KEY = "blogapi.openapi"
ROUTES_KEY = "blogapi.openapi.routes"
PROBLEM = "application/problem+json"
ERRORS = {
    400: "Malformed: the body is not JSON, or not a JSON object.",
    401: "No token, or a token that is malformed, expired, revoked or of the wrong type; "
    "or bad credentials.",
    403: "Authenticated, but not allowed to do this.",
    404: "Not found, or not visible to the caller.",
    409: "Conflicts with existing data (a taken username, email or slug).",
    412: "If-Match does not match the current ETag: someone changed it meanwhile.",
    413: "The body is larger than MAX_CONTENT_LENGTH.",
    414: "The URL is longer than MAX_URL_LENGTH.",
    415: "The body is not sent as application/json.",
    422: "Validation failed; `errors` names each field.",
    429: "Rate limited; retry after Retry-After seconds.",
    503: "The database is unavailable; retry after Retry-After seconds.",
}
HEADERS = {
    "Location": {"description": "URL of the created resource.", "schema": {"type": "string"}},
    "ETag": {
        "description": "Strong validator of the representation.",
        "schema": {"type": "string"},
    },
    "Link": {
        "description": "RFC 8288 links: first, prev, next, last.",
        "schema": {"type": "string"},
    },
    "X-Total-Count": {"description": "Items in the whole list.", "schema": {"type": "integer"}},
    "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}},
    "WWW-Authenticate": {"description": "RFC 6750 Bearer challenge.", "schema": {"type": "string"}},
}
REQUEST_HEADERS = {
    "If-Match": "Only act if the resource still has this ETag (else 412).",
    "If-None-Match": "Answer 304 with no body if the ETag still matches.",
    "If-Modified-Since": "Without If-None-Match: 304 if nothing changed since (Last-Modified).",
    "Range": "Only these bytes of the file (RFC 9110), e.g. bytes=0-1023: 206, or 416.",
}
PATH_PARAMETERS = {
    "ident": {
        "description": "A post's id or slug.",
        "schema": {"type": "string", "pattern": "^[A-Za-z0-9]+(-[A-Za-z0-9]+)*$", "maxLength": 80},
    },
    "slug": {
        "description": "A post's or tag's slug.",
        "schema": {"type": "string", "pattern": "^[A-Za-z0-9]+(-[A-Za-z0-9]+)*$", "maxLength": 80},
    },
    "number": {
        "description": "A revision's number within its post (1, 2, …).",
        "schema": {"type": "integer", "minimum": 1, "maximum": 2147483647},
    },
    "media_id": {
        "description": "A media item's id.",
        "schema": {"type": "integer", "minimum": 1, "maximum": 2147483647},
    },
    "token_id": {
        "description": "A personal access token's id.",
        "schema": {"type": "integer", "minimum": 1, "maximum": 2147483647},
    },
    "webhook_id": {
        "description": "A webhook's id.",
        "schema": {"type": "integer", "minimum": 1, "maximum": 2147483647},
    },
    "delivery_id": {
        "description": "A delivery's id, from the webhook's deliveries.",
        "schema": {"type": "integer", "minimum": 1, "maximum": 2147483647},
    },
    "part": {
        "description": "A part's number in the sitemap index (1, 2, …).",
        "schema": {"type": "integer", "minimum": 1, "maximum": 2147483647},
    },
    "key": {
        "description": "A media file's key, from a media's `url` or `variants`.",
        "schema": {"type": "string", "pattern": "^[0-9a-f]{32}\\.(jpg|png|gif|webp)$"},
    },
    "username": {
        "description": "A username (compared without case).",
        "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{3,32}$"},
    },
}
# Anonymous, or with a bearer token: what an operation without `security` of its own accepts.
OPTIONAL_BEARER: list[dict[str, list[str]]] = [{}, {"bearerAuth": []}]
INFO = {
    "description": (
        "A JSON blog API. Log in with POST /auth/login, then send "
        "`Authorization: Bearer <access_token>`. Errors are RFC 9457 problem details "
        "(`application/problem+json`). Timestamps are ISO 8601 UTC with `Z`."
    ),
}


class RouteLike(Protocol):
    """What the document needs of a route: routes.Route has it."""

    @property
    def resource(self) -> Any:
        """The Resource class."""

    @property
    def rule(self) -> str:
        """The URL rule, without the API prefix."""

    @property
    def endpoint(self) -> str:
        """The endpoint name, the stem of each operationId."""

    @property
    def at_site_root(self) -> bool:
        """Whether the route is served outside the API prefix."""

    @property
    def documented(self) -> bool:
        """Whether the route is an operation of the document."""


def schema_name(schema: Any) -> str:
    """Component name of a schema: its class name without `Schema` (`…Patch` when partial)."""
    from apispec.ext.marshmallow.common import resolve_schema_cls

    cls = resolve_schema_cls(schema)
    if isinstance(cls, list):  # several registered classes share the name: none is meant
        raise LookupError(f"ambiguous schema name {schema!r}")
    name = cls.__name__
    name = name[: -len("Schema")] if name.endswith("Schema") and name != "Schema" else name
    return f"{name}Patch" if getattr(schema, "partial", False) else name


def openapi_path(rule: str) -> str:
    """`/users/<string:username>` -> `/users/{username}`."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def reply_object(status: int, reply: Reply | str) -> dict[str, Any]:
    """An OpenAPI response object for a documented reply or an error description."""
    if isinstance(reply, str):
        reply = Reply(ProblemSchema, reply, ("WWW-Authenticate",) if status == 401 else ())
        media = PROBLEM
    else:
        media = reply.media_type or (PROBLEM if status >= 400 else "application/json")
    result: dict[str, Any] = {"description": reply.description}
    if reply.schema is not None:
        result["content"] = {media: {"schema": reply.schema}}
    if reply.headers:
        result["headers"] = {
            name: {"$ref": f"#/components/headers/{name}"} for name in reply.headers
        }
    return result


def standard_errors(doc: Doc) -> dict[int, Reply | str]:
    """The errors every operation of this kind can give, besides its own."""
    errors: dict[int, Reply | str] = {414: ERRORS[414]}
    if doc.uses_database:
        errors[503] = Reply(ProblemSchema, ERRORS[503], ("Retry-After",))
    if doc.body is not None:
        errors.update({code: ERRORS[code] for code in (400, 413, 415, 422)})
    if doc.query is not None:
        errors[422] = ERRORS[422]
    if doc.auth != "none":
        errors[401] = ERRORS[401]
    if doc.rate_limited:
        errors[429] = Reply(ProblemSchema, ERRORS[429], ("Retry-After",))
    return errors


def token_note(scope: str | None) -> str:
    """What an operation's description adds about personal access tokens."""
    if scope is None:
        return ""
    if scope == ANY_SCOPE:
        return " A personal access token may call it (any scope)."
    return f" A personal access token may call it with the `{scope}` scope."


def operation(doc: Doc, path_params: list[str], operation_id: str) -> dict[str, Any]:
    """The OpenAPI operation object for a Doc."""
    responses = standard_errors(doc)
    responses.update(doc.responses)
    op: dict[str, Any] = {
        "operationId": operation_id,
        "summary": doc.summary,
        "description": doc.description + token_note(doc.token_scope),
        "tags": [doc.tag],
        "responses": {str(code): reply_object(code, r) for code, r in sorted(responses.items())},
    }
    params: list[dict[str, Any]] = [
        {"in": "path", "name": name, "required": True, **PATH_PARAMETERS[name]}
        for name in path_params
    ]
    params += [
        {
            "in": "header",
            "name": name,
            "required": False,
            "schema": {"type": "string"},
            "description": REQUEST_HEADERS[name],
        }
        for name in doc.request_headers
    ]
    if doc.query is not None:
        params.append({"in": "query", "schema": doc.query})
    if params:
        op["parameters"] = params
    if doc.body is not None:
        content: dict[str, Any] = {"schema": doc.body}
        if doc.example:
            content["example"] = dict(doc.example)
        op["requestBody"] = {
            "required": not doc.body_optional,
            "content": {"application/json": content},
        }
    if doc.auth in ("access", "fresh", "refresh"):
        op["security"] = [{"bearerAuth": []}]
        if doc.token_scope is not None:
            op["security"].append({"personalToken": []})
    elif doc.auth == "none":
        op["security"] = []
    # An optional token is the document's default (OPTIONAL_BEARER), not said again here:
    # generators such as openapi-python-client read any operation-level `security` as "needs
    # an authenticated client", while the root default leaves a plain client welcome.
    op.update(doc.extra)
    return op


def build_document(routes: Sequence[RouteLike], prefix: str) -> dict[str, Any]:
    """Walk the routing table and describe every operation."""
    from apispec import APISpec
    from apispec.ext.marshmallow import MarshmallowPlugin

    spec = APISpec(
        title="blogapi",
        version="1.0.0",
        openapi_version="3.0.3",
        info=INFO,
        servers=[{"url": prefix}],
        security=OPTIONAL_BEARER,
        plugins=[MarshmallowPlugin(schema_name_resolver=schema_name)],
    )
    spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    )
    spec.components.security_scheme(
        "personalToken",
        {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "blogapi_pat_…",
            "description": "A personal access token (POST /auth/tokens), where an operation "
            "says it takes one: its scopes, within its user's role.",
        },
    )
    for name, header in HEADERS.items():
        spec.components.header(name, header)
    for route in routes:
        if route.documented:
            spec.path(path=openapi_path(route.rule), operations=operations_of(route))
    return spec.to_dict()


def operations_of(route: RouteLike) -> dict[str, Any]:
    """The operation objects of one route, one per method its resource has."""
    path_params = re.findall(r"<(?:[^:<>]+:)?([^<>]+)>", route.rule)
    operations = {}
    for method in sorted(route.resource.methods or ()):
        doc = doc_of(getattr(route.resource, method.lower()))
        if doc is None:
            raise LookupError(f"{route.resource.__name__}.{method.lower()} has no @endpoint")
        op = operation(doc, path_params, f"{route.endpoint}_{method.lower()}")
        if route.at_site_root:
            op["servers"] = [{"url": "/"}]
        operations[method.lower()] = op
    return operations


def init_openapi(app: Flask, routes: Sequence[RouteLike], prefix: str) -> None:
    """Hand the app's routing table to the document, which is built on first request."""
    app.extensions[ROUTES_KEY] = (tuple(routes), prefix)


def openapi_document() -> dict[str, Any]:
    """The current app's document, built once."""
    document: dict[str, Any] | None = current_app.extensions.get(EXTENSION_KEY)
    if document is None:
        routes, prefix = current_app.extensions[ROUTES_KEY]
        document = current_app.extensions[EXTENSION_KEY] = build_document(routes, prefix)
    return document
