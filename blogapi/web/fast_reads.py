"""Repeated reads answered before Flask: a WSGI layer that replays the exact bytes of an earlier
200 while what it depended on is unchanged, checked against the database on every request.

A view opts in through `public_cache` (or `reusable`), which marks its 200 as storable. Before
Flask runs, the layer reads in one statement everything such an answer depends on:

* anonymous requests: the content version (database triggers bump it in every transaction
  that changes what readers see);
* requests with a bearer token this process has verified: the content version, the token's
  user row and whether the token is revoked, so a revocation, a deactivation, a role or
  profile change is seen at once on every process, as on the path through Flask.

An entry is replayed only while that state is the one it was made at, no scheduled post has gone
live since, and the token (part of the key) is unexpired. So nothing is ever stale, and a write
is visible to the next read anywhere. Conditional and non-GET requests, personal access tokens,
and apps with default rate limits (which must count every request) always go through Flask.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from blogapi.db.content_version import QUERY, as_version, read_row
from blogapi.db.models import RevokedToken, User
from blogapi.extensions import VERIFIED_TOKENS_KEY, db, limiter
from blogapi.observability.http_requests import REPLAYED_KEY, USER_KEY
from blogapi.observability.metrics import CACHE_LOOKUPS, CounterSeries
from blogapi.timeutil import utcnow
from blogapi.web.public_cache import OFFERS_REPLAY, STORABLE, VERSION, VersionedCache

EXTENSION_KEY = "blogapi.fast_reads"
MAX_ENTRIES = 2048
MAX_BYTES = 16 * 1024 * 1024
BEARER = "Bearer "
# What makes a request's answer depend on more than its URL, its token and the database.
CONDITIONAL = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_RANGE", "HTTP_IF_RANGE")

# Headers that belong to one request: a cookie set, a rate limit counted (a replay would skip it).
PER_REQUEST = {"set-cookie", "x-ratelimit-limit", "retry-after"}

StartResponse = Callable[..., Any]
REPLAYED, NOT_REPLAYED = (
    CounterSeries(CACHE_LOOKUPS.labels("replay", "hit")),
    CounterSeries(CACHE_LOOKUPS.labels("replay", "miss")),
)


@dataclass(frozen=True)
class Replay:
    """A stored 200: the status line, the headers as Flask sent them, the body."""

    status: str
    headers: tuple[tuple[str, str], ...]
    body: bytes


@functools.lru_cache(maxsize=4)
def signed_in_state_query(paramstyle: str) -> str:
    """The content version, the token's revocation and its user's row, in one statement."""
    mark = "?" if paramstyle == "qmark" else "%s"
    columns = ", ".join(f"u.{column.name}" for column in User.__table__.columns)
    revoked = f"SELECT 1 FROM {RevokedToken.__tablename__} WHERE jti = {mark}"
    return (
        f"SELECT cv.value, cv.changed_at, EXISTS ({revoked}), {columns} "
        f"FROM content_version cv LEFT JOIN {User.__tablename__} u ON u.id = {mark} "
        "WHERE cv.id = 1"
    )


class FastReads:
    """The WSGI layer in front of the Flask app (inside any proxy fix)."""

    def __init__(self, app: Flask, wsgi_app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self.entries = VersionedCache(MAX_ENTRIES, max_bytes=MAX_BYTES)
        self.offers: dict[str, bool] = {}

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if not self.may_answer(environ) or not self.offers_replay(environ.get("PATH_INFO", "")):
            return self.wsgi_app(environ, start_response)
        authorization = environ.get("HTTP_AUTHORIZATION")
        try:
            state = self.read_state(authorization, environ)
        except SQLAlchemyError:  # the database is unwell: Flask answers, with its own 503
            return self.wsgi_app(environ, start_response)
        if state is None:  # a credential this layer cannot vouch for
            return self.wsgi_app(environ, start_response)
        key = (
            authorization,
            environ.get("PATH_INFO"),
            environ.get("QUERY_STRING"),
            environ.get("HTTP_HOST"),
            environ.get("wsgi.url_scheme"),
            environ.get("SCRIPT_NAME"),
            environ.get("HTTP_ORIGIN"),  # CORS headers answer the Origin
        )
        replay: Replay | None = self.entries.get(key, state, utcnow())
        if replay is not None:
            REPLAYED.inc()
            environ[REPLAYED_KEY] = True
            start_response(replay.status, list(replay.headers))
            return [replay.body]
        NOT_REPLAYED.inc()
        environ[VERSION] = as_version(state[:2])  # Flask reads content at this version
        return self.through_flask(environ, start_response, key, state)

    def may_answer(self, environ: dict[str, Any]) -> bool:
        """Whether a stored answer could stand for this request at all."""
        if environ.get("REQUEST_METHOD") != "GET":
            return False
        if any(name in environ for name in CONDITIONAL):
            return False
        return not self.counts_every_request()

    def offers_replay(self, path: str) -> bool:
        """Whether the view a GET of `path` reaches may offer its answer for replay (a media
        file, a 404 or the docs never do: no state is read for them). Remembered per path."""
        offers = self.offers.get(path)
        if offers is None:
            offers = view_offers_replay(self.app, path)
            if len(self.offers) >= MAX_ENTRIES:
                self.offers.clear()
            self.offers[path] = offers
        return offers

    def counts_every_request(self) -> bool:
        """Whether rate limits apply to every request (a replay would escape them)."""
        manager = limiter.limit_manager
        enabled = self.app.config.get("RATELIMIT_ENABLED", True)
        return bool(enabled and (manager.default_limits or manager.application_limits))

    def read_state(
        self, authorization: str | None, environ: dict[str, Any]
    ) -> tuple[Any, ...] | None:
        """What a stored answer for this caller depends on, read now; None when the request
        carries a credential other than an access token this process has verified."""
        engine = self.engine()
        if authorization is None:
            return tuple(as_version(read_row(engine, QUERY, ())))
        if not authorization.startswith(BEARER):
            return None
        verified = self.app.extensions[VERIFIED_TOKENS_KEY]
        claims = verified.get(authorization[len(BEARER) :], leeway=self.leeway)
        if claims is None or claims.get("type") != "access":
            return None
        environ[USER_KEY] = int(claims["sub"])
        query = signed_in_state_query(engine.dialect.paramstyle)
        return tuple(read_row(engine, query, (claims["jti"], int(claims["sub"]))))

    @functools.cached_property
    def leeway(self) -> float:
        """Seconds a token is still accepted past its expiry (JWT_DECODE_LEEWAY)."""
        leeway = self.app.config.get("JWT_DECODE_LEEWAY", 0)
        return leeway.total_seconds() if isinstance(leeway, timedelta) else float(leeway)

    @functools.cached_property
    def engine_holder(self) -> list[Any]:
        """The app's engine, looked up once (it lives as long as the app)."""
        with self.app.app_context():
            return [db.engine]

    def engine(self) -> Any:
        """The app's database engine."""
        return self.engine_holder[0]

    def through_flask(
        self,
        environ: dict[str, Any],
        start_response: StartResponse,
        key: tuple[Any, ...],
        state: tuple[Any, ...],
    ) -> Iterable[bytes]:
        """Let Flask answer; keep its answer when the view marked it storable."""
        sent: list[Any] = []

        def recording(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            sent[:] = [status, headers]
            return start_response(status, headers, exc_info)

        result = self.wsgi_app(environ, recording)
        if STORABLE not in environ or not sent or not sent[0].startswith("200 "):
            return result
        status, headers = sent
        if any(name.lower() in PER_REQUEST for name, _ in headers):
            return result
        body = drained(result)
        replay = Replay(status, tuple(headers), body)
        self.entries.put(key, state, environ[STORABLE], replay, size=len(body))
        return [body]


def drained(result: Iterable[bytes]) -> bytes:
    """A WSGI app's whole answer body, its iterable closed as WSGI asks."""
    try:
        return b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()


def view_offers_replay(app: Flask, path: str) -> bool:
    """Whether GET `path` is routed to a view marked by `public_cache` or `reusable`."""
    try:
        endpoint, _ = app.url_map.bind("localhost").match(path, method="GET")
    except HTTPException:  # no such page, another method, a redirect: Flask answers
        return False
    view = app.view_functions.get(endpoint)
    resource = getattr(view, "view_class", None)  # a Flask-RESTful resource's method view
    method = getattr(resource, "get", None) if resource is not None else view
    return bool(getattr(method, OFFERS_REPLAY, False))


def init_fast_reads(app: Flask) -> None:
    """Put the layer in front of the app's WSGI callable (before any proxy fix wraps it)."""
    layer = FastReads(app, app.wsgi_app)
    app.extensions[EXTENSION_KEY] = layer
    app.wsgi_app = layer  # type: ignore[method-assign]
