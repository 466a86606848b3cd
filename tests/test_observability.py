"""Stories about what an operator sees: request ids on every answer and log line, one JSON
object per log line with no secret in it, and metrics Prometheus can parse."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine

import config
from blogapi.db.webhook_models import WebhookEvent
from blogapi.extensions import db, limiter
from blogapi.observability.http_requests import EXTENSION_KEY as OBSERVED_KEY
from blogapi.observability.logs import TextFormatter
from blogapi.observability.pool import watch_pool
from config import ConfigError
from tests.support.accounts import PASSWORD, bearer, login, sign_up
from tests.support.apps import dispose, make_app
from tests.support.logs import json_line
from tests.support.media import image_bytes, upload
from tests.support.metrics import Samples, delta, labels_of, parse, value
from tests.support.personal_tokens import make_token
from tests.support.posts import new_post, publish, published_post
from tests.support.webhooks import run_worker_round, start_receiver, subscribe

API = "/api/v1"
HEX_ID = re.compile(r"[0-9a-f]{32}\Z")
TOKEN = "metrics-scraper-token-0123456789abcdef"
REQUESTS = "blogapi_http_request_duration_seconds_count"


@pytest.fixture
def logged(app: Flask, caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every log line of the app, with the access log on."""
    app.config["ACCESS_LOG"] = True
    app.extensions[OBSERVED_KEY].log = True
    caplog.set_level(logging.INFO, logger="blogapi")
    yield caplog


def scrape(client: FlaskClient, **environ: Any) -> Samples:
    """GET /metrics from loopback, parsed."""
    response = client.get("/metrics", environ_base=environ)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    assert response.headers["Cache-Control"] == "no-store"
    return parse(response.get_data(as_text=True))


def lines(caplog: pytest.LogCaptureFixture, logger: str | None = None) -> list[dict[str, Any]]:
    """The captured lines as production writes them, optionally of one logger."""
    found = [json_line(r) for r in caplog.records if r.name.startswith(("blogapi", "flask-"))]
    return [line for line in found if logger is None or line["logger"] == logger]


# Request ids


def test_every_answer_carries_a_request_id_and_a_problem_names_it(client, author):
    ok = client.get(f"{API}/posts")
    missing = client.get(f"{API}/posts/no-such-post")
    signed_in = client.get(f"{API}/auth/me", headers=author.headers)
    ids = [r.headers["X-Request-Id"] for r in (ok, missing, signed_in)]
    assert all(HEX_ID.match(i) for i in ids) and len(set(ids)) == 3
    assert missing.status_code == 404
    assert missing.get_json()["request_id"] == missing.headers["X-Request-Id"]


def test_a_replayed_read_gets_its_own_request_id_and_access_line(client, author, logged):
    post = published_post(client, author, title="Read twice")
    first = client.get(f"{API}/posts/{post['slug']}")
    second = client.get(f"{API}/posts/{post['slug']}")
    assert first.get_data() == second.get_data()
    assert first.headers["X-Request-Id"] != second.headers["X-Request-Id"]
    access = {line["request_id"]: line for line in lines(logged, "blogapi.access")}
    replayed = access[second.headers["X-Request-Id"]]
    assert replayed["replayed"] is True and replayed["path"] == f"{API}/posts/<string:ident>"
    assert "replayed" not in access[first.headers["X-Request-Id"]]


def test_a_clients_own_request_id_is_not_trusted_without_a_proxy(client):
    response = client.get(f"{API}/health", headers={"X-Request-Id": "i-pick-my-own-id"})
    assert response.headers["X-Request-Id"] != "i-pick-my-own-id"
    assert HEX_ID.match(response.headers["X-Request-Id"])


def test_a_trusted_proxys_request_id_is_kept_and_a_malformed_one_replaced():
    app = make_app(TRUSTED_PROXIES=1)
    try:
        client = app.test_client()
        kept = client.get(f"{API}/health", headers={"X-Request-Id": "nginx-7f3a9c:01"})
        assert kept.headers["X-Request-Id"] == "nginx-7f3a9c:01"
        for forged in ('a"b', "x" * 129, "two words", "€uro"):
            response = client.get(f"{API}/health", headers={"X-Request-Id": forged})
            assert HEX_ID.match(response.headers["X-Request-Id"]), forged
    finally:
        dispose(app)


# Log lines


def test_every_log_line_of_a_story_is_json_with_its_request_id_and_no_secret(app, client, logged):
    """Register, log in, write, publish, read, make a token, change the password, log out:
    every line parses, access lines name the route template, and no secret appears."""
    ada = sign_up(client, app, "ada")
    client.post(f"{API}/auth/login", json={"username": "ada", "password": "not her password"})
    post = published_post(client, ada, title="Private thoughts", body="The body text itself")
    client.get(f"{API}/posts/{post['slug']}")
    token = make_token(client, ada, ["create"])
    client.get(f"{API}/auth/me", headers=bearer(token["token"]))
    new_password = "a second long passphrase"
    changed = client.put(
        f"{API}/auth/password",
        json={"current_password": PASSWORD, "new_password": new_password},
        headers=ada.headers,
    )
    assert changed.status_code in (200, 204), changed.get_json()
    relogged = login(client, "ada", new_password).get_json()
    client.post(f"{API}/auth/logout", headers=bearer(relogged["access_token"]))

    found = lines(logged)
    access = [line for line in found if line["logger"] == "blogapi.access"]
    assert len(access) >= 9
    for line in found:
        assert {"time", "level", "logger", "message"} <= set(line)
    for line in access:
        assert HEX_ID.match(line["request_id"])
        assert {"method", "path", "status", "duration_ms"} <= set(line)
    read = [line for line in access if line["method"] == "GET" and line["status"] == 200]
    assert any(line["path"] == f"{API}/posts/<string:ident>" for line in read)
    me = [line for line in access if line["path"] == f"{API}/auth/me"]
    assert me and me[0]["user_id"] == ada.user["id"]
    failed = [line for line in found if line.get("event") == "login_failed"]
    assert len(failed) == 1 and failed[0]["request_id"]

    text = "\n".join(orjson.dumps(line).decode() for line in found)
    secrets = [
        PASSWORD, new_password, "not her password", ada.access_token, ada.refresh_token,
        relogged["access_token"], relogged["refresh_token"], token["token"], ada.email,
        "The body text itself", post["slug"],
    ]  # fmt: skip
    for secret in secrets:
        assert secret not in text, secret


def test_the_text_format_is_one_readable_line():
    record = logging.LogRecord("blogapi.access", logging.INFO, "", 0, "GET /x 200", (), None)
    record.fields = {"status": 200, "duration_ms": 1.5}
    line = TextFormatter().format(record)
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO blogapi\.access GET /x 200 "
        r"status=200 duration_ms=1\.5",
        line,
    )


@pytest.mark.database_agnostic
@pytest.mark.parametrize(
    ("name", "value"),
    [("LOG_FORMAT", "xml"), ("LOG_LEVEL", "LOUD"), ("METRICS_ALLOW", "not-an-address"),
     ("METRICS_TOKEN", "short"), ("ACCESS_LOG", "maybe")],
)  # fmt: skip
def test_bad_observability_settings_are_refused_by_name(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        config.TestingConfig()


def test_production_logs_json_and_development_text(monkeypatch):
    monkeypatch.delenv("LOG_FORMAT", raising=False)
    assert config.DevelopmentConfig().LOG_FORMAT == "text"
    assert config.ProductionConfig().LOG_FORMAT == "json"


# Metrics


def test_requests_are_counted_by_route_template_and_status(client, author):
    before = scrape(client)
    post = published_post(client, author, title="Counted")
    for _ in range(3):
        client.get(f"{API}/posts/{post['slug']}")
    client.get(f"{API}/posts/nothing-here")
    after = scrape(client)
    route = f"{API}/posts/<string:ident>"
    assert delta(after, before, REQUESTS, route=route, method="GET", status="200") == 3
    assert delta(after, before, REQUESTS, route=route, method="GET", status="404") == 1
    inf = "blogapi_http_request_duration_seconds_bucket"
    assert delta(after, before, inf, route=route, method="GET", status="200", le="+Inf") == 3
    # The scrape itself is counted as it is answered: the first one is in the second scrape.
    assert value(after, REQUESTS, route="/metrics", method="GET", status="200") >= 1
    assert value(after, "blogapi_http_requests_in_flight") == 1  # the scrape being answered


def test_unknown_methods_and_paths_do_not_make_new_series(client):
    for n in range(5):
        client.open(f"/no/such/page/{n}", method="BREW")
        client.get(f"/no/such/page/{n}")
    samples = scrape(client)
    routes = {labels["route"] for labels in labels_of(samples, REQUESTS)}
    methods = {labels["method"] for labels in labels_of(samples, REQUESTS)}
    assert not any(route.startswith("/no/") for route in routes)
    assert "BREW" not in methods and "unmatched" in routes


def test_the_caches_count_hits_and_misses(client, author):
    post = published_post(client, author, title="Cached")
    before = scrape(client)
    for _ in range(3):
        client.get(f"{API}/posts/{post['slug']}")
    after = scrape(client)
    lookups = "blogapi_cache_lookups_total"
    replayed = delta(after, before, lookups, cache="replay", result="hit")
    assert replayed >= 2  # the first read may fill it, the next two are replayed
    assert delta(after, before, lookups, cache="replay", result="miss") == 3 - replayed


def test_failed_logins_and_rate_limit_refusals_are_counted():
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
    try:
        client = app.test_client()
        before = scrape(client)
        statuses = [
            client.post(
                f"{API}/auth/login", json={"username": "ghost", "password": "x"}
            ).status_code
            for _ in range(5)
        ]
        after = scrape(client)
    finally:
        limiter.reset()
        dispose(app)
    assert statuses.count(429) == 2
    events = "blogapi_security_events_total"
    assert delta(after, before, events, event="login_failed") == 3
    assert delta(after, before, events, event="rate_limited") == 2
    route = f"{API}/auth/login"
    assert delta(after, before, REQUESTS, route=route, method="POST", status="429") == 2


def test_webhook_attempts_queue_depth_and_the_request_that_caused_them(app, client, author, logged):
    receiver = start_receiver(fail_first=1)
    try:
        app.config["WEBHOOK_ALLOW_PRIVATE"] = True
        _id, receiver.secret = subscribe(app, receiver.url, "post.published")
        before = scrape(client)
        made = publish(client, author, new_post(client, author, title="Hooked")["id"])
        assert made.status_code == 200, made.get_json()
        caused_by = made.headers["X-Request-Id"]
        waiting = scrape(client)
        run_worker_round(app)  # fans out and fails the first attempt: a retry is scheduled
        retrying = scrape(client)
    finally:
        receiver.server.stop()
    depth = "blogapi_webhook_queue_depth"
    assert value(waiting, depth, stage="events", when="due") == 1
    assert value(retrying, depth, stage="events", when="due") == 0
    assert value(retrying, depth, stage="deliveries", when="later") == 1
    attempts = "blogapi_webhook_delivery_attempts_total"
    assert delta(retrying, before, attempts, outcome="retrying") == 1
    with app.app_context():
        assert db.session.scalar(db.select(WebhookEvent.request_id)) == caused_by
    [attempt] = [line for line in lines(logged, "blogapi.webhooks") if "attempt" in line]
    assert attempt["request_id"] == caused_by and attempt["outcome"] == "retrying"
    assert attempt["status_code"] == 500


def test_media_stored_is_read_from_the_database(client, author):
    before = scrape(client)
    data = image_bytes("PNG", (40, 30))
    assert upload(client, author, data, "dot.png", alt="a dot").status_code == 201
    after = scrape(client)
    assert delta(after, before, "blogapi_media_items") == 1
    assert delta(after, before, "blogapi_media_stored_bytes") > 0
    assert value(after, "blogapi_database_up") == 1


def test_the_pool_reports_connections_in_use(client, tmp_path):
    samples = scrape(client)
    assert {"in_use", "overflow"} <= {
        labels["state"] for labels in labels_of(samples, "blogapi_db_pool_connections")
    }
    # An engine with a sized pool (the suite's own SQLite pool has no size), watched as the
    # app watches its own.
    engine = create_engine(f"sqlite:///{tmp_path / 'pool.db'}", pool_size=2, max_overflow=2)
    watch_pool(engine)
    held = [engine.connect() for _ in range(3)]  # slow requests', say: one beyond the size
    try:
        busy = scrape(client)
    finally:
        for connection in held:
            connection.close()
    # Read from the pool at the scrape, not counted at each checkout and checkin.
    assert value(busy, "blogapi_db_pool_connections", state="in_use") == 3
    assert value(busy, "blogapi_db_pool_connections", state="overflow") == 1
    assert value(scrape(client), "blogapi_db_pool_connections", state="in_use") == 0
    engine.dispose()


# Who may read /metrics


def test_metrics_are_refused_to_other_addresses_and_through_an_untrusted_proxy(client):
    elsewhere = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert elsewhere.status_code == 403
    assert elsewhere.headers["Content-Type"] == "application/problem+json"
    relayed = client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert relayed.status_code == 403


def test_a_metrics_token_lets_a_scraper_in_from_anywhere():
    app = make_app(METRICS_TOKEN=TOKEN)
    try:
        client = app.test_client()
        away = {"REMOTE_ADDR": "203.0.113.9"}
        assert client.get("/metrics", environ_base=away, headers=bearer(TOKEN)).status_code == 200
        wrong = client.get("/metrics", environ_base=away, headers=bearer(TOKEN[:-1] + "X"))
        assert wrong.status_code == 401
        assert client.get("/metrics", environ_base=away).status_code == 403
    finally:
        dispose(app)


def test_metrics_turned_off_are_not_found_and_allow_lists_networks():
    off = make_app(METRICS_ENABLED=False)
    try:
        assert off.test_client().get("/metrics").status_code == 404
    finally:
        dispose(off)
    lan = make_app(METRICS_ALLOW=config.networks("METRICS_ALLOW", ["10.0.0.0/8"]))
    try:
        client = lan.test_client()
        assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200
        assert client.get("/metrics").status_code == 403  # loopback is no longer in the list
    finally:
        dispose(lan)


@pytest.mark.database_agnostic
def test_a_forked_worker_never_repeats_its_parents_request_ids_or_files_under_its_pid():
    """gunicorn forks its workers: each must draw its own ids and file its own samples."""
    from blogapi.observability.metrics import process_id
    from blogapi.observability.request_ids import new_request_id

    parents = new_request_id()
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (the child's own coverage is not collected)
        os.write(write, f"{new_request_id()} {process_id() == os.getpid()}".encode())
        os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    with os.fdopen(read) as answer:
        child_id, own_pid = answer.read().split()
    assert own_pid == "True"
    assert child_id != new_request_id() and HEX_ID.match(child_id)
    assert child_id[:16] != parents[:16]  # its own random part, not a continuation of ours
