"""Traces with OpenTelemetry, sent over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set.

Off (the default), nothing of OpenTelemetry is imported and nothing is wrapped: a web worker
pays nothing for it. On, each request is one trace: a server span around the whole WSGI
chain (so answers the replay layer gives before Flask runs have one too), named after the
route, with a client span for every SQL statement and every outbound HTTP exchange below it;
each queue task is a span of its own, with its statements and its delivery attempt below it.

Everything OpenTelemetry is imported inside the functions that run once tracing is on. Each
traced app keeps its own tracer (in app.extensions), so tests trace an app into an in-memory
exporter through `trace_into` without touching the process-wide provider.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Flask, current_app, has_app_context

from blogapi.db.engine import db
from blogapi.observability.http_requests import REPLAYED_KEY, ROUTE_KEY, UNMATCHED
from config import ConfigError

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
    from opentelemetry.trace import Span, Tracer
    from sqlalchemy import Engine

EXTENSION_KEY = "blogapi.tracing"
INSTRUMENTATION = "blogapi"
DEFAULT_SERVICE_NAME = "blogapi"
TRACES_PATH = "v1/traces"
# HTTP methods a span may be named after; any other is "HTTP", as OpenTelemetry's own do.
KNOWN_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"}
)
DEFAULT_PORTS = {"http": 80, "https": 443}

StartResponse = Callable[..., Any]

# The provider exporting to the collector, once made (OpenTelemetry's global is set once).
exporting: list[TracerProvider] = []


def init_tracing(app: Flask) -> None:
    """Trace the app when OTEL_EXPORTER_OTLP_ENDPOINT is set: requests, SQL, outbound HTTP and
    queue tasks, exported in batches over OTLP/HTTP (the OTEL_* variables tune the exporter)."""
    if not app.config.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return
    instrument(app, exporting_provider(app))


def trace_into(app: Flask, processor: SpanProcessor) -> None:
    """Trace the app into `processor` rather than a collector (tests: an in-memory exporter);
    call it before the app serves its first request."""
    instrument(app, new_provider(app, processor))


def exporting_provider(app: Flask) -> TracerProvider:
    """The process's tracer provider, exporting to the collector: made by the first app to
    ask, and made global (a gunicorn worker or `manage.py` builds one app). The SDK flushes
    it at exit, and starts its export thread anew in a forked child."""
    if exporting:
        return exporting[0]
    try:
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        raise ConfigError(
            "OTEL_EXPORTER_OTLP_ENDPOINT is set but OpenTelemetry is not installed: "
            "install the otel extra (pip install '.[otel]')"
        ) from None
    # A base URL, as the standard variable is: the traces' own path follows, unless
    # OTEL_EXPORTER_OTLP_TRACES_ENDPOINT names the full URL.
    endpoint: str = app.config["OTEL_EXPORTER_OTLP_ENDPOINT"]
    url = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or (
        f"{endpoint.removesuffix('/')}/{TRACES_PATH}"
    )
    provider = new_provider(app, BatchSpanProcessor(OTLPSpanExporter(endpoint=url)))
    trace.set_tracer_provider(provider)
    exporting.append(provider)
    return provider


def new_provider(app: Flask, processor: SpanProcessor) -> TracerProvider:
    """A tracer provider naming this service (OTEL_SERVICE_NAME), its spans going to
    `processor`; sampling follows OTEL_TRACES_SAMPLER, always on by default."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider

    name = app.config.get("OTEL_SERVICE_NAME") or DEFAULT_SERVICE_NAME
    # Resource.create adds OTEL_RESOURCE_ATTRIBUTES (deployment.environment, host.name, ...).
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    provider.add_span_processor(processor)
    return provider


def instrument(app: Flask, provider: TracerProvider) -> None:
    """Trace the app's requests (its whole WSGI chain as built so far), its engines'
    statements, and the outbound HTTP and queue tasks run in its context."""
    if EXTENSION_KEY in app.extensions:
        return
    from opentelemetry.instrumentation.wsgi import OpenTelemetryMiddleware

    app.extensions[EXTENSION_KEY] = provider.get_tracer(INSTRUMENTATION)
    with app.app_context():
        engines = list(db.engines.values())
    for engine in engines:
        trace_statements(engine, provider)
    # Flask's documented way to add WSGI middleware; its stubs declare wsgi_app a method.
    app.wsgi_app = OpenTelemetryMiddleware(  # type: ignore[method-assign]
        NamedAfterRoute(app.wsgi_app), tracer_provider=provider
    )


def trace_statements(engine: Engine, provider: TracerProvider) -> None:
    """A client span for each statement the engine runs, below whatever span is current."""
    from opentelemetry import metrics, trace
    from opentelemetry.instrumentation.sqlalchemy import engine as sqlalchemy_tracing
    from opentelemetry.instrumentation.sqlalchemy.version import __version__

    # The instrumentor itself instruments one engine per process (it is a singleton that
    # also patches create_engine); its EngineTracer instruments exactly the engine given.
    name = "opentelemetry.instrumentation.sqlalchemy"
    tracer = trace.get_tracer(name, __version__, provider)
    connections = metrics.get_meter(name, __version__).create_up_down_counter(
        "db.client.connections.usage", unit="connections"
    )
    sqlalchemy_tracing.EngineTracer(tracer, engine, connections)  # type: ignore[no-untyped-call]


class NamedAfterRoute:
    """Names the request's span after its route, which the request layer inside leaves in
    the environ (Flask's rule, or for a replayed answer the rule its path matched before)."""

    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]]) -> None:
        from opentelemetry import trace

        self.wsgi_app = wsgi_app
        self.current_span = trace.get_current_span

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        result = self.wsgi_app(environ, start_response)
        span = self.current_span()
        if span.is_recording():
            self.name(span, environ)
        return result

    def name(self, span: Span, environ: dict[str, Any]) -> None:
        """Set the span's name and http.route (and whether the answer was a replay)."""
        method = environ.get("REQUEST_METHOD", "")
        if environ.get(REPLAYED_KEY):  # Flask never ran: the replay layer answered
            span.set_attribute("blogapi.replayed", True)
        route = environ.get(ROUTE_KEY, UNMATCHED)
        if route == UNMATCHED:
            span.update_name(method if method in KNOWN_METHODS else "HTTP")
            return
        span.update_name(f"{method} {route}")
        span.set_attribute("http.route", route)


def app_tracer() -> Tracer | None:
    """The tracer of the app in context, when that app is traced."""
    if not has_app_context():
        return None
    tracer: Tracer | None = current_app.extensions.get(EXTENSION_KEY)
    return tracer


@contextmanager
def task_span(name: str, **attributes: str | int) -> Iterator[None]:
    """A span around one queue task run in the app's context (when the app is traced)."""
    tracer = app_tracer()
    if tracer is None:
        yield
        return
    from opentelemetry.trace import SpanKind

    attributes = {"messaging.system": "huey", "messaging.operation.type": "process", **attributes}
    with tracer.start_as_current_span(name, kind=SpanKind.CONSUMER, attributes=attributes):
        yield


@contextmanager
def untraced() -> Iterator[None]:
    """Record nothing inside (the relay's rounds, a few a second, would each be a trace)."""
    if app_tracer() is None:
        yield
        return
    from opentelemetry.instrumentation.utils import suppress_instrumentation

    with suppress_instrumentation():
        yield


def no_answer(status: int) -> None:
    """What records an answer's status when nothing is traced."""


@contextmanager
def outbound_span(method: str, url: str) -> Iterator[Callable[[int], None]]:
    """A client span around one outbound HTTP exchange (when the app is traced); call what it
    gives with the answer's status. An exception leaving it is recorded as the error."""
    tracer = app_tracer()
    if tracer is None:
        yield no_answer
        return
    from opentelemetry.trace import SpanKind, Status, StatusCode

    attributes: dict[str, str | int] = {"http.request.method": method, "url.full": shown_url(url)}
    try:
        parts = urlsplit(url)
        attributes["server.address"] = parts.hostname or ""
        attributes["server.port"] = parts.port or DEFAULT_PORTS[parts.scheme]
    except (ValueError, KeyError):  # not a URL fetch accepts: it says so, in the span too
        pass
    name = method if method in KNOWN_METHODS else "HTTP"
    # Not record_exception: its message and stack trace may quote the URL whole.
    with tracer.start_as_current_span(
        name,
        kind=SpanKind.CLIENT,
        attributes=attributes,
        record_exception=False,
        set_status_on_exception=False,
    ) as span:

        def answered(status: int) -> None:
            span.set_attribute("http.response.status_code", status)
            if status >= 400:
                span.set_attribute("error.type", str(status))
                span.set_status(Status(StatusCode.ERROR))

        try:
            yield answered
        except Exception as error:
            shown = shown_url(url)
            why = str(error).replace(url, shown).replace(url[:100], shown)
            span.set_attribute("error.type", type(error).__qualname__)
            span.set_status(Status(StatusCode.ERROR, why))
            raise


def shown_url(url: str) -> str:
    """A URL as a span shows it: query values (often tokens) replaced by REDACTED."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "REDACTED"
    query = urlencode([(key, "REDACTED") for key, _ in parse_qsl(parts.query, True)])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
