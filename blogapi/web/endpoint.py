"""`@endpoint`: one declaration per operation that guards it, loads its input and documents it.

The same arguments drive the request (auth, rate limits, body and query loaded through the
marshmallow schemas) and the OpenAPI document (docs/openapi.py reads the Doc kept on the
method), so what is documented is what runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, Literal, Protocol, TypeVar, cast

from flask import request
from marshmallow import Schema

from blogapi.web.body import json_body

Auth = Literal["none", "optional", "access", "fresh", "refresh"]
View = TypeVar("View", bound=Callable[..., Any])
SchemaLike = Schema | type[Schema]


class Guard(Protocol):
    """What an operation checks before anything else: raises (401/403) or returns."""

    @property
    def kind(self) -> Auth:
        """How the OpenAPI document describes the guard's security."""
        ...

    def __call__(self) -> None:
        """Check the request; raise to refuse it."""
        ...


@dataclass(frozen=True)
class Public:
    """No credentials needed."""

    kind: Auth = "none"

    def __call__(self) -> None:
        """Anyone may call."""


PUBLIC = Public()


@dataclass(frozen=True)
class Reply:
    """One documented response: body schema (None: no body), description, headers it always has."""

    schema: SchemaLike | dict[str, Any] | None
    description: str
    headers: tuple[str, ...] = ()
    media_type: str | None = None  # default: JSON, or problem+json for errors


@dataclass(frozen=True)
class Doc:
    """What the OpenAPI document says about one operation."""

    summary: str
    description: str
    tag: str
    responses: Mapping[int, Reply | str]
    body: SchemaLike | None = None
    body_optional: bool = False
    query: SchemaLike | None = None
    auth: Auth = "none"
    token_scope: str | None = None  # the personal access token scope it takes, if it takes one
    rate_limited: bool = False
    request_headers: tuple[str, ...] = ()
    example: Mapping[str, Any] | None = None
    uses_database: bool = True  # whether it can answer 503 when the database is away
    extra: Mapping[str, Any] = field(default_factory=dict)


def schema_instance(schema: SchemaLike | None) -> Schema | None:
    """A schema object to load with (classes are instantiated once, here)."""
    return schema() if isinstance(schema, type) else schema


def endpoint(
    *,
    summary: str,
    description: str,
    tag: str,
    responses: Mapping[int, Reply | str],
    auth: Guard = PUBLIC,
    body: SchemaLike | None = None,
    body_optional: bool = False,
    query: SchemaLike | None = None,
    limits: Sequence[Callable[[Any], Any]] = (),
    request_headers: tuple[str, ...] = (),
    example: Mapping[str, Any] | None = None,
    uses_database: bool = True,
    extra: Mapping[str, Any] | None = None,
) -> Callable[[View], View]:
    """Declare an operation once: rate limits, then `auth`, then the JSON body loaded through
    `body` (passed as `body=`) and the query string through `query` (passed as `query=`)."""
    body_schema, query_schema = schema_instance(body), schema_instance(query)
    doc = Doc(
        summary=summary,
        description=description,
        tag=tag,
        responses=responses,
        body=body,
        body_optional=body_optional,
        query=query,
        auth=auth.kind,
        token_scope=getattr(auth, "scope", None),
        rate_limited=bool(limits),
        request_headers=request_headers,
        example=example,
        uses_database=uses_database,
        extra=dict(extra or {}),
    )

    def decorator(method: View) -> View:
        @wraps(method)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            auth()
            if body_schema is not None:
                kwargs["body"] = body_schema.load(json_body(optional=body_optional))
            if query_schema is not None:
                kwargs["query"] = query_schema.load(request.args)
            return method(*args, **kwargs)

        wrapped: Any = guarded
        for limit in limits:  # the last one listed is checked first, as Flask decorators stack
            wrapped = limit(wrapped)
        wrapped.__apidoc__ = doc
        # Called as the view was, less `body` and `query`: the guard passes those itself.
        return cast(View, wrapped)

    return decorator


def doc_of(handler: Callable[..., Any]) -> Doc | None:
    """The Doc an @endpoint attached to a handler (decorators that wrap it keep it)."""
    return getattr(handler, "__apidoc__", None)
