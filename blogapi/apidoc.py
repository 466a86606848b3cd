"""`@document`: the OpenAPI description of an operation, kept on the method it describes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from marshmallow import Schema

Auth = Literal["none", "optional", "access", "fresh", "refresh"]


@dataclass(frozen=True)
class Reply:
    """One documented response: body schema (None: no body), description, headers it always has."""

    schema: Schema | type[Schema] | None
    description: str
    headers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Doc:
    """What the OpenAPI document says about one operation."""

    summary: str
    description: str
    tag: str
    responses: Mapping[int, Reply | str]
    body: Schema | type[Schema] | None = None
    body_optional: bool = False
    query: Schema | type[Schema] | None = None
    auth: Auth = "none"
    rate_limited: bool = False
    request_headers: tuple[str, ...] = ()
    example: Mapping[str, Any] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


def document(**kwargs: Any) -> Callable[[Callable], Callable]:
    """Attach a Doc to a resource method; the OpenAPI builder reads it from there."""
    doc = Doc(**kwargs)

    def decorator(method: Callable) -> Callable:
        method.__apidoc__ = doc  # type: ignore[attr-defined]
        return method

    return decorator
