"""Traces: each request is one trace, its server span over the whole WSGI chain (so a replayed
read has one too) and a span for each SQL statement below it; a worker's delivery is a trace
of its own, with its HTTP attempt. Off, OpenTelemetry is not even imported.

Apps here trace into an in-memory exporter of their own (tracing.trace_into), so no test
touches OpenTelemetry's process-wide provider; the collector path runs in a process of its own.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from huey import MemoryHuey
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Request, Response

from blogapi.observability.tracing import shown_url, trace_into
from blogapi.security.webhook_secrets import new_secret
from blogapi.webhooks.queue import DELIVERY_ID, bind_tasks
from blogapi.webhooks.sending import attempt
from blogapi.webhooks.worker import Relay
from devtools.live import ROOT, production_env
from tests.support.accounts import sign_up
from tests.support.apps import dispose, file_database_app, make_app
from tests.support.posts import API, new_post, published_post
from tests.support.webhooks import subscribe


class WholeAnswers(FlaskClient):
    """A test client that reads and closes each answer at once, as a WSGI server does: the
    request's span ends (and its context is let go) when its answer is closed."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["buffered"] = True
        return super().open(*args, **kwargs)


def traced(app: Flask, spans: InMemorySpanExporter) -> Flask:
    """The app, traced into `spans`, its test clients reading answers whole."""
    trace_into(app, SimpleSpanProcessor(spans))
    app.test_client_class = WholeAnswers
    return app


@pytest.fixture
def spans() -> InMemorySpanExporter:
    """Where the traced app's spans go."""
    return InMemorySpanExporter()


@pytest.fixture
def app(spans):
    """The app under test, traced into `spans`."""
    app = traced(make_app(), spans)
    yield app
    dispose(app)


def server_spans(found):
    """The request spans among `found`."""
    return [span for span in found if span.kind == SpanKind.SERVER]


def statements(found):
    """The SQL statement spans among `found`."""
    return [span for span in found if span.attributes.get("db.system")]


def children(found, parent):
    """The spans whose parent is `parent`."""
    return [s for s in found if s.parent is not None and s.parent.span_id == parent.context.span_id]


def test_a_request_is_one_trace_of_its_server_span_and_its_statements(client, author, spans):
    spans.clear()
    post = new_post(client, author, title="Traced")
    found = spans.get_finished_spans()
    [server] = server_spans(found)
    assert server.name == f"POST {API}/posts"
    assert server.attributes["http.route"] == f"{API}/posts"
    assert server.attributes["http.status_code"] == 201
    assert server.parent is None
    sql = statements(found)
    assert any(s.attributes["db.statement"].startswith("INSERT INTO posts") for s in sql)
    assert {s.context.trace_id for s in found} == {server.context.trace_id}
    assert children(found, server) == sql  # every statement directly below the request
    assert post["title"] == "Traced"


def test_a_replayed_read_still_has_its_server_span(client, author, spans):
    post = published_post(client, author, title="Read twice")
    url = f"{API}/posts/{post['id']}"
    spans.clear()
    first, replay = client.get(url), client.get(url)
    assert first.status_code == replay.status_code == 200 and first.data == replay.data
    found = spans.get_finished_spans()
    through_flask, replayed = server_spans(found)
    route = through_flask.attributes["http.route"]
    assert route.startswith(f"{API}/posts/<")  # the rule, never the post's own path
    assert "blogapi.replayed" not in through_flask.attributes
    assert replayed.attributes["blogapi.replayed"] is True
    assert replayed.name == f"GET {route}" and replayed.attributes["http.route"] == route
    assert replayed.attributes["http.status_code"] == 200
    assert replayed.context.trace_id != through_flask.context.trace_id
    # Flask read the post; the replay read at most the content version (on its own
    # connection, which no engine event sees, outside in-memory SQLite).
    assert any("FROM posts" in s.attributes["db.statement"] for s in children(found, through_flask))
    for statement in children(found, replayed):
        assert "FROM content_version" in statement.attributes["db.statement"]


@pytest.mark.database_agnostic
def test_a_request_that_matches_no_route_is_named_after_its_method(client, spans):
    spans.clear()
    assert client.get("/no/such/page").status_code == 404
    [server] = server_spans(spans.get_finished_spans())
    assert server.name == "GET"
    assert "http.route" not in server.attributes


@pytest.fixture
def worker_app(tmp_path, spans):
    """A traced app on a database threads can share, delivering to loopback receivers."""
    app = traced(file_database_app(tmp_path, WEBHOOK_ALLOW_PRIVATE=True), spans)
    yield app
    dispose(app)


@pytest.mark.parametrize("answer", [200, 500])
def test_a_workers_delivery_is_a_trace_of_its_task_its_statements_and_its_attempt(
    worker_app, spans, receiver, answer
):
    app, client = worker_app, worker_app.test_client()
    receiver.status = answer
    _, receiver.secret = subscribe(app, receiver.url)
    published_post(client, sign_up(client, app, "writer"), title="Delivered")
    huey = MemoryHuey("blogapi", immediate=False)
    queue = bind_tasks(app, huey)
    relay = Relay(app, queue, poll=0.05)
    spans.clear()
    relay.start()
    try:
        deadline = time.monotonic() + 10
        while huey.pending_count() == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        relay.stop()
        relay.join()
    # A consumer thread runs the job as this does (the writer's verification mail has its own).
    jobs = [huey.dequeue() for _ in range(huey.pending_count())]
    [job] = [job for job in jobs if job.name == "webhooks.deliver"]
    huey.execute(job)
    assert len(receiver.received) == 1

    found = spans.get_finished_spans()
    [task] = [s for s in found if s.parent is None]  # the relay's rounds are not traced
    assert task.name == "webhooks.deliver" and task.kind == SpanKind.CONSUMER
    assert task.attributes[DELIVERY_ID] == job.args[0]
    assert {s.context.trace_id for s in found} == {task.context.trace_id}
    [sent] = [s for s in found if s.kind == SpanKind.CLIENT and not s.attributes.get("db.system")]
    assert sent.parent.span_id == task.context.span_id
    assert sent.name == "POST"
    assert sent.attributes["url.full"] == receiver.url
    assert sent.attributes["server.address"] == "127.0.0.1"
    assert sent.attributes["server.port"] == receiver.server.port
    assert sent.attributes["http.response.status_code"] == answer
    assert sent.status.status_code == (StatusCode.ERROR if answer >= 400 else StatusCode.UNSET)
    assert statements(found) and all(
        s.parent.span_id == task.context.span_id for s in statements(found)
    )


@pytest.mark.database_agnostic
@pytest.mark.parametrize(
    ("url", "failure", "quoted"),
    [
        ("http://127.0.0.1:9/hook?token=s3cret", "Could not connect", False),  # nothing listens
        ("ftp://127.0.0.1/hook?token=s3cret", "Not an absolute http(s) URL", True),
    ],
)
def test_an_attempt_that_gets_no_answer_is_an_error_span_that_keeps_the_urls_secrets(
    app, spans, url, failure, quoted
):
    spans.clear()
    with app.app_context():
        outcome = attempt(url, b"{}", new_secret(), "msg_1", allow_private=True, timeout=2)
    assert outcome.status_code is None
    assert ("s3cret" in outcome.error) is quoted  # the attempt log, which the webhook's owner sees
    [span] = spans.get_finished_spans()
    assert span.status.status_code == StatusCode.ERROR
    assert span.status.description.startswith(failure)
    assert span.attributes["error.type"] == "OutboundFailed"
    assert span.attributes["url.full"] == url.replace("s3cret", "REDACTED")
    assert "s3cret" not in span.to_json()


@pytest.mark.database_agnostic
def test_urls_in_spans_keep_no_query_values():
    assert shown_url("https://hooks.example/in?token=abc&x=1") == (
        "https://hooks.example/in?token=REDACTED&x=REDACTED"
    )
    assert shown_url("https://hooks.example/in") == "https://hooks.example/in"


# A fresh process builds the app as a web worker does, answers /api/v1/health, and exits (the
# SDK sending what it holds); it reports whether it had imported OpenTelemetry.
SCRIPT = """
import os, sys
from blogapi import create_app
from blogapi.extensions import db

app = create_app()
with app.app_context():
    db.create_all()
with app.test_client().get("/api/v1/health", base_url=os.environ["SITE_URL"]) as answer:
    assert answer.status_code == 200, answer.data
print(any(name.split(".")[0] == "opentelemetry" for name in sys.modules))
"""


def start_web_worker(tmp_path, script=SCRIPT, **env):
    """Run `script` in a fresh production process on SQLite."""
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=production_env(
            f"sqlite:///{tmp_path / 'traced.db'}", BLOGAPI_INSTANCE_DIR=str(tmp_path), **env
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )


def run_web_worker(tmp_path, **env):
    """Run SCRIPT in a fresh production process on SQLite; what it printed."""
    result = start_web_worker(tmp_path, **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.database_agnostic
def test_without_an_endpoint_nothing_of_opentelemetry_is_imported(tmp_path):
    assert run_web_worker(tmp_path) == "False"


@pytest.mark.database_agnostic
def test_an_endpoint_without_opentelemetry_installed_stops_the_start_with_one_line(tmp_path):
    hidden = "import sys; sys.modules['opentelemetry'] = None\n"  # as if not installed
    result = start_web_worker(
        tmp_path, hidden + SCRIPT, OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:4318"
    )
    assert result.returncode == 4  # gunicorn's "App failed to load": it stops
    assert result.stderr.strip().splitlines() == [
        "blogapi: configuration error: OTEL_EXPORTER_OTLP_ENDPOINT is set but OpenTelemetry "
        "is not installed: install the otel extra (pip install '.[otel]')"
    ]


@pytest.mark.database_agnostic
def test_with_an_endpoint_the_traces_reach_the_collector(tmp_path):
    exports: list[ExportTraceServiceRequest] = []
    lock = threading.Lock()

    def collect(request: Request) -> Response:
        with lock:
            exports.append(ExportTraceServiceRequest.FromString(request.get_data()))
        return Response(b"", content_type="application/x-protobuf")

    collector = HTTPServer(host="127.0.0.1", port=0)
    collector.expect_request("/v1/traces", method="POST").respond_with_handler(collect)
    collector.start()
    try:
        printed = run_web_worker(
            tmp_path,
            OTEL_EXPORTER_OTLP_ENDPOINT=collector.url_for("/"),
            OTEL_SERVICE_NAME="blog-eu-1",
        )
    finally:
        collector.stop()
    assert printed == "True"
    resources = [r for export in exports for r in export.resource_spans]
    names = {
        attribute.value.string_value
        for r in resources
        for attribute in r.resource.attributes
        if attribute.key == "service.name"
    }
    assert names == {"blog-eu-1"}
    found = [span for r in resources for scope in r.scope_spans for span in scope.spans]
    [health] = [span for span in found if span.name == "GET /api/v1/health"]
    [statement] = [span for span in found if span.parent_span_id == health.span_id]
    assert statement.trace_id == health.trace_id
    assert {a.key: a.value.string_value for a in statement.attributes}["db.statement"] == "SELECT 1"
