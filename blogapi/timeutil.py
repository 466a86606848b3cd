"""UTC time helpers shared by models, schemas and tokens, and a request's one idea of now."""

from datetime import UTC, datetime
from typing import overload

from flask import g, has_request_context


def utcnow() -> datetime:
    """The current time, timezone-aware UTC, to the microsecond."""
    return datetime.now(UTC)


@overload
def isoformat_z(value: datetime, timespec: str = "auto") -> str: ...
@overload
def isoformat_z(value: None, timespec: str = "auto") -> None: ...
def isoformat_z(value: datetime | None, timespec: str = "auto") -> str | None:
    """ISO 8601 UTC with a `Z`, as the contract writes timestamps (RFC 3339; `timespec` as
    datetime.isoformat takes it, "seconds" for sitemaps and HTML)."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec=timespec).replace("+00:00", "Z")


def request_now() -> datetime:
    """The request's single idea of "now", so filters and each post's status agree."""
    if not has_request_context():
        return utcnow()  # the CLI and scripts: a long-lived app context must not freeze time
    if "posts_now" not in g:
        g.posts_now = utcnow()
    now: datetime = g.posts_now
    return now
