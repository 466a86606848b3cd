"""Every HTTP request observed from the outside of the app: its request id set and returned,
its answer counted and timed in the metrics, and one access log line written. The work is kept
small, since a replayed read does little else: the process's chores (background.py) do what can
wait a second.

The layer wraps the whole WSGI chain, so the answers the replay layer gives before Flask
(blogapi/web/fast_reads.py) are seen like every other. Flask tells it, through the environ,
which route template a request matched and which user it was made by.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Request, request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule

from blogapi.observability.access_lines import (
    MAX_KINDS,
    Kind,
    Pieces,
    access_fields,
    direct_access_lines,
)
from blogapi.observability.background import CHORES
from blogapi.observability.metrics import HTTP_DURATION, HTTP_IN_FLIGHT, HistogramSeries
from blogapi.observability.request_ids import (
    CURRENT_REQUEST_ID,
    ENVIRON_KEY,
    HEADER,
    new_request_id,
    proxy_request_id,
)

EXTENSION_KEY = "blogapi.observed_requests"
ROUTE_KEY = "blogapi.route"  # the route template the request matched (UNMATCHED: none)
REPLAYED_KEY = "blogapi.replayed"  # set when the replay layer answered, before Flask
USER_KEY = "blogapi.user_id"
UNMATCHED = "unmatched"  # no route: 404s, 405s (a template always starts with "/")
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
MAX_PATHS = 2048
NO_PIECES = ("", "")  # a kind's access line text, when logging writes the lines
access_log = logging.getLogger("blogapi.access")

StartResponse = Callable[..., Any]


class InFlight:
    """Requests this process is answering now (one count for every app in it). The gauge is
    published by the process's chores (a second apart) and by each scrape for its own process,
    not at every request: two writes to the shared file per request were a twentieth of a
    replayed read."""

    def __init__(self) -> None:
        # Each request's own start_response wrapper, added and discarded: a set's add and
        # discard are atomic, so threads need no lock.
        self.answering: set[object] = set()
        self.published: int | None = None
        CHORES.add(self.publish)

    def publish(self) -> None:
        """Write the count to the gauge, if it changed since the last time."""
        count = len(self.answering)
        if count != self.published:
            HTTP_IN_FLIGHT.set(count)
            self.published = count


IN_FLIGHT = InFlight()


class ObservedRequests:
    """The outermost WSGI layer: request ids, request metrics and the access log."""

    def __init__(
        self, wsgi_app: Callable[..., Iterable[bytes]], *, trust_request_id: bool, log: bool
    ) -> None:
        self.wsgi_app = wsgi_app
        self.trust_request_id = trust_request_id
        self.log = log
        self.lines = direct_access_lines() if log else None
        self.in_flight = IN_FLIGHT
        # The route each GET path matched when Flask answered it: a replayed answer never
        # reaches Flask, and it only ever replays a path this process has routed.
        self.routes: dict[str, str] = {}
        self.series: dict[tuple[str, str, str], HistogramSeries] = {}
        # Per kind of answer (the series, its client, user and whether replayed): its series
        # and the fixed text of its access lines, found with one lookup a request.
        self.kinds: dict[Kind, tuple[HistogramSeries, Pieces]] = {}

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        if not CHORES.running:
            CHORES.start()
        request_id = proxy_request_id(environ) if self.trust_request_id else new_request_id()
        environ[ENVIRON_KEY] = request_id
        token = CURRENT_REQUEST_ID.set(request_id)
        sent = "500"  # the status line the app sent, if it sent one

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            nonlocal sent
            sent = status
            # A new list: a layer inside may keep the one it passed (the replay layer does).
            return start_response(status, [*headers, (HEADER, request_id)], exc_info)

        answering = self.in_flight.answering
        answering.add(start)
        try:
            result = self.wsgi_app(environ, start)
        except BaseException:
            sent = "500 Internal Server Error"  # the server answers it
            raise
        finally:
            answering.discard(start)
            ended = time.perf_counter()
            self.observe(environ, sent, ended, ended - started)
            CURRENT_REQUEST_ID.reset(token)
        return result

    def observe(
        self, environ: dict[str, Any], status_line: str, ended: float, seconds: float
    ) -> None:
        """Count and time one answer (`ended` is its time.perf_counter()), and log it."""
        method = environ.get("REQUEST_METHOD", "")
        method = method if method in METHODS else "other"
        status = status_line[:3]
        route = self.route_of(environ)
        client = environ.get("REMOTE_ADDR")
        user_id = environ.get(USER_KEY)
        replayed = REPLAYED_KEY in environ
        kind = (route, method, status, client, user_id, replayed)
        series, pieces = self.kinds.get(kind) or self.kind_of(kind)
        series.observe(seconds)
        if self.lines is not None:  # which check the access log's level as they write
            self.lines.add(ended, environ[ENVIRON_KEY], seconds, pieces)
            return
        if not self.log or not access_log.isEnabledFor(logging.INFO):
            return
        fields = access_fields(*kind)
        fields["duration_ms"] = round(seconds * 1000, 2)
        # makeRecord and handle, as Logger.info would, less its search of the stack for
        # the caller's file and line, which no line of ours shows.
        record = access_log.makeRecord(
            access_log.name, logging.INFO, "", 0, "%s %s %s", (method, route, status), None,
            extra={"fields": fields},
        )  # fmt: skip
        access_log.handle(record)

    def kind_of(self, kind: Kind) -> tuple[HistogramSeries, Pieces]:
        """A new kind of answer's series (made if new too) and access line text, kept."""
        route, method, status = kind[:3]
        series = self.series.get((route, method, status))
        if series is None:
            series = self.series[(route, method, status)] = HistogramSeries(
                HTTP_DURATION.labels(route, method, status)
            )
        if len(self.kinds) >= MAX_KINDS:
            self.kinds.clear()
        pieces = self.lines.pieces_of(kind) if self.lines is not None else NO_PIECES
        known = self.kinds[kind] = series, pieces
        return known

    def route_of(self, environ: dict[str, Any]) -> str:
        """The route template Flask matched, or the one it matched for this GET path before
        (left in the environ for the layers outside this one: the trace's span)."""
        route = environ.get(ROUTE_KEY)
        path = environ.get("PATH_INFO", "")
        if route is not None:
            if environ.get("REQUEST_METHOD") == "GET" and path not in self.routes:
                if len(self.routes) >= MAX_PATHS:
                    self.routes.clear()
                self.routes[path] = route
            return str(route)
        route = environ[ROUTE_KEY] = self.routes.get(path, UNMATCHED)
        return route


class RoutedRequest(Request):
    """Flask's request, which tells the layer which route template it matched, as Flask
    matches it (Flask pops its request before the layer sees the answer). A hook of Flask's own
    (a URL value preprocessor) cost about 30,000 instructions a request through Flask."""

    _url_rule: Rule | None = None
    _routing_exception: HTTPException | None = None

    @property
    def url_rule(self) -> Rule | None:
        """The rule the request matched."""
        return self._url_rule

    @url_rule.setter
    def url_rule(self, rule: Rule | None) -> None:
        self._url_rule = rule
        self.environ[ROUTE_KEY] = rule.rule if rule is not None else UNMATCHED

    @property
    def routing_exception(self) -> HTTPException | None:
        """Why no rule matched (a 404, a 405, a redirect)."""
        return self._routing_exception

    @routing_exception.setter
    def routing_exception(self, error: HTTPException | None) -> None:
        self._routing_exception = error
        self.environ[ROUTE_KEY] = UNMATCHED


def note_user(user_id: int) -> None:
    """Tell the layer (and the access log) which user this request is made by."""
    request.environ[USER_KEY] = user_id


def init_request_observation(app: Flask) -> None:
    """Wrap the app's whole WSGI chain; call last, after every other layer is in place."""
    app.request_class = RoutedRequest
    layer = ObservedRequests(
        app.wsgi_app,
        trust_request_id=bool(app.config.get("TRUSTED_PROXIES", 0)),
        log=bool(app.config.get("ACCESS_LOG", True)),
    )
    app.extensions[EXTENSION_KEY] = layer
    app.wsgi_app = layer  # type: ignore[method-assign]
