"""In-process caches of public (anonymous) read responses and of list totals, checked against
the content version.

An entry is served only while the content version it was made at is still current and no
scheduled post has gone live since (its `valid_until`), so it is never stale, across processes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from typing import Any

from flask import Flask, Response, current_app, g, request
from sqlalchemy import func, select
from werkzeug.http import parse_date

from blogapi.db.content_version import Version, current_version
from blogapi.db.models import Post
from blogapi.extensions import db
from blogapi.observability.metrics import CACHE_LOOKUPS, CounterSeries
from blogapi.timeutil import request_now
from blogapi.web.api import output_json
from blogapi.web.etags import etag_of

# Between a view and the layer in front of Flask (web/fast_reads.py), in the request's environ:
STORABLE = "blogapi.fast_reads.storable"  # the 200 may be replayed, until this time (or None)
VERSION = "blogapi.fast_reads.version"  # the content version the layer read for this request
OFFERS_REPLAY = "offers_replay"  # on a view that may offer its 200s for replay
EXTENSION_KEY = "blogapi.public_cache"
PUBLIC_HIT, PUBLIC_MISS = (
    CounterSeries(CACHE_LOOKUPS.labels("public", "hit")),
    CounterSeries(CACHE_LOOKUPS.labels("public", "miss")),
)
COUNTS_KEY = "blogapi.list_counts"
MAX_ENTRIES = 2048
# Response bodies kept per process. Unknown query parameters make distinct URLs, so without a
# byte budget anyone could grow every worker by MAX_ENTRIES large list pages.
MAX_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class Entry:
    """A cached 200 response."""

    body: bytes
    headers: tuple[tuple[str, str], ...]


class VersionedCache:
    """A small per-process LRU whose values hold only while the content version is unchanged
    and no scheduled post has gone live since they were made."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int | None = None) -> None:
        self.entries: OrderedDict[Any, tuple[Hashable, datetime | None, Any, int]] = OrderedDict()
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.size = 0
        self.lock = threading.Lock()

    def get(self, key: Any, version: Hashable, now: datetime) -> Any | None:
        """The value for `key` if it is still current, else None."""
        with self.lock:
            found = self.entries.get(key)
            if found is None:
                return None
            made_at, valid_until, value, size = found
            if made_at != version or (valid_until is not None and now >= valid_until):
                del self.entries[key]
                self.size -= size
                return None
            self.entries.move_to_end(key)
            return value

    def clear(self) -> None:
        """Forget every entry."""
        with self.lock:
            self.entries.clear()
            self.size = 0

    def put(
        self, key: Any, version: Hashable, valid_until: datetime | None, value: Any, size: int = 0
    ) -> None:
        """Remember a value of `size` bytes, forgetting the least recently used past the limits."""
        if self.max_bytes is not None and size > self.max_bytes:
            return
        with self.lock:
            replaced = self.entries.pop(key, None)
            if replaced is not None:
                self.size -= replaced[3]
            self.entries[key] = (version, valid_until, value, size)
            self.size += size
            while len(self.entries) > self.max_entries or (
                self.max_bytes is not None and self.size > self.max_bytes
            ):
                self.size -= self.entries.popitem(last=False)[1][3]


def read_version() -> Version:
    """The content version and its time, read once per request (before any content is read),
    or as the layer in front of Flask read it just before."""
    if "content_version" not in g:
        g.content_version = request.environ.get(VERSION) or current_version()
    version: Version = g.content_version
    return version


def request_version() -> int:
    """The content version, read once per request (before any content is read)."""
    return read_version().value


def content_changed_at() -> datetime | None:
    """When what readers see last changed by a write (None: never), as of this request."""
    return read_version().changed_at


def request_go_live() -> datetime | None:
    """When the next scheduled post goes live, asked once per request."""
    if "next_go_live" not in g:
        g.next_go_live = next_go_live(request_now())
    go_live: datetime | None = g.next_go_live
    return go_live


def next_go_live(now: datetime) -> datetime | None:
    """When the next scheduled post goes live (public content changes then, with no write)."""
    upcoming = select(func.min(Post.published_at)).where(Post.published_at > now)
    return db.session.scalar(upcoming.where(Post.deleted_at.is_(None)))


def response_of(result: Any) -> Response:
    """A Flask-RESTful return value as a Response."""
    if isinstance(result, Response):
        return result
    body, status, headers = (
        (*result, {}, 200)[:3] if isinstance(result, tuple) else (result, 200, {})
    )
    return output_json(body, status, headers)


def unchanged_for_client(headers: dict[str, str]) -> bool:
    """Whether the client's copy is current: If-None-Match names the ETag, or, when it sends
    no If-None-Match (RFC 9110 13.2.2), If-Modified-Since is no older than Last-Modified."""
    environ = request.environ
    if "HTTP_IF_NONE_MATCH" not in environ and "HTTP_IF_MODIFIED_SINCE" not in environ:
        return False  # most requests: nothing to parse
    etag = headers.get("ETag")
    if request.if_none_match:
        return bool(etag) and request.if_none_match.contains_weak(str(etag).strip('"'))
    since, modified = request.if_modified_since, headers.get("Last-Modified")
    if since is None or not modified:
        return False
    changed = parse_date(modified)
    return changed is not None and changed.replace(microsecond=0) <= since


def from_entry(entry: Entry) -> Response:
    """A response rebuilt from a cache entry (its own Content-Type kept); 304 when the
    client's copy is current."""
    headers = dict(entry.headers)
    if unchanged_for_client(headers):
        return Response(status=304, headers=headers)
    return Response(entry.body, status=200, headers=headers)


def cache_key(environ: dict[str, Any], site_url: str) -> str:
    """The request's URL as WSGI gives it. Link headers are built on SITE_URL when it is set,
    else on the request's scheme, host and mount point, which then belong to the key too."""
    names: tuple[str, ...] = ("PATH_INFO", "QUERY_STRING")
    if not site_url:
        names = ("wsgi.url_scheme", "HTTP_HOST", "SCRIPT_NAME", *names)
    return "|".join(str(environ.get(name, "")) for name in names)


def public_validators(response: Response) -> None:
    """An anonymous 200 may sit in shared caches, revalidated by its ETag each time."""
    if "ETag" not in response.headers:
        response.headers["ETag"] = etag_of(response.get_data())
    response.headers["Cache-Control"] = "public, no-cache"
    response.headers["Vary"] = "Authorization"


def offer_to_replay(until_go_live: bool = True) -> None:
    """Let the layer in front of Flask replay this request's 200 while the state it read is
    unchanged (and, if `until_go_live`, no scheduled post has gone live since): only when the
    layer read that state for this request, so that no other request pays for the go-live."""
    if VERSION in request.environ:
        request.environ[STORABLE] = request_go_live() if until_go_live else None


def reusable(view: Callable[..., Any]) -> Callable[..., Any]:
    """Let the layer in front of Flask replay this view's 200s: their content depends only on
    the URL, the caller's token and user row, and the content version."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = view(*args, **kwargs)
        offer_to_replay(until_go_live=False)
        return result

    setattr(wrapper, OFFERS_REPLAY, True)
    return wrapper


def public_cache(view: Callable[..., Any]) -> Callable[..., Any]:
    """Serve anonymous reads from the cache while the content version says they are current;
    let the layer in front of Flask replay them (and signed-in reads) the same way."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if request.method != "GET":
            return view(*args, **kwargs)
        if "Authorization" in request.headers:
            result = view(*args, **kwargs)
            offer_to_replay()
            return result
        cache: VersionedCache = current_app.extensions[EXTENSION_KEY]
        version = request_version()
        key = cache_key(request.environ, current_app.config.get("SITE_URL", ""))
        entry = cache.get(key, version, request_now())
        if entry is not None:  # not offered: knowing until when would cost a statement
            PUBLIC_HIT.inc()
            return from_entry(entry)
        PUBLIC_MISS.inc()
        response = response_of(view(*args, **kwargs))
        if response.status_code == 200:
            public_validators(response)
            headers = tuple((k, v) for k, v in response.headers.items() if k != "Content-Length")
            made = Entry(response.get_data(), headers)
            cache.put(key, version, request_go_live(), made, size=len(made.body))
            offer_to_replay()
            return from_entry(made)
        return response

    setattr(wrapper, OFFERS_REPLAY, True)
    return wrapper


def init_public_cache(app: Flask) -> None:
    """Give the app its (per-process) caches: public responses, and list totals."""
    app.extensions[EXTENSION_KEY] = VersionedCache(max_bytes=MAX_BYTES)
    app.extensions[COUNTS_KEY] = VersionedCache()


def cached_count(key: Any, count: Callable[[], int]) -> int:
    """A list total, counted once per content version and filter set, not on every page."""
    cache: VersionedCache = current_app.extensions[COUNTS_KEY]
    version = request_version()
    total = cache.get(key, version, request_now())
    if total is None:
        total = count()
        cache.put(key, version, request_go_live(), total)
    return total
