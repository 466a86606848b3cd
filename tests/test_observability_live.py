"""What an operator sees of a production deployment: gunicorn with two workers and a webhook
worker sharing one metrics folder, scraped over HTTP and parsed as Prometheus parses it, and
their log files read line by line as a log shipper reads them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
import requests

from devtools.live import (
    OPEN_REGISTRATION,
    LiveServer,
    LiveWorker,
    fresh_database_url,
    migrate,
    production_env,
)
from devtools.server import HOST, free_port
from devtools.webhooks import ADMIN_PASSWORD, create_admin, log_in, register_webhook
from tests.support.accounts import PASSWORD
from tests.support.live import sign_up_over_http
from tests.support.metrics import Samples, delta, parse, value
from tests.support.webhooks import Receiver, start_receiver

pytestmark = [pytest.mark.slow, pytest.mark.database_agnostic]

TIMEOUT = 30
REQUESTS = "blogapi_http_request_duration_seconds_count"


@dataclass
class Deployment:
    """One instance and one webhook worker, their logs, and the shared metrics folder."""

    server: LiveServer
    worker: LiveWorker
    workdir: Path
    metrics_dir: Path
    admin: dict[str, str]
    receiver: Receiver
    worker_metrics: str

    def scrape(self) -> Samples:
        """GET /metrics over HTTP from loopback, parsed."""
        response = requests.get(f"{self.server.url}/metrics", timeout=TIMEOUT)
        assert response.status_code == 200, response.text
        return parse(response.text)

    def log_lines(self, name: str) -> list[str]:
        """A log file's lines."""
        return (self.workdir / name).read_text().splitlines()

    def access_line(self, request_id: str) -> dict[str, Any]:
        """The access line of one request: workers write theirs out within a second."""
        deadline = time.monotonic() + 5
        while True:
            found = [
                line
                for line in app_lines(self.log_lines("gunicorn.log"))
                if line["logger"] == "blogapi.access" and line["request_id"] == request_id
            ]
            if found or time.monotonic() > deadline:
                [line] = found
                return line
            time.sleep(0.1)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """gunicorn (two workers) and `manage.py worker`, on one database and metrics folder."""
    workdir = tmp_path_factory.mktemp("observability-live")
    metrics_dir = workdir / "metrics"
    metrics_dir.mkdir()
    instance = workdir / "instance"
    instance.mkdir()
    env = production_env(
        fresh_database_url(workdir),
        BLOGAPI_INSTANCE_DIR=str(instance),
        RATELIMIT_ENABLED="false",
        WEBHOOK_ALLOW_PRIVATE="true",
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
        **OPEN_REGISTRATION,
    )
    migrate(env)
    with ExitStack() as stack:
        worker_port = free_port()
        worker = stack.enter_context(
            LiveWorker(
                env,
                log_path=workdir / "worker.log",
                extra_args=("--metrics-port", str(worker_port)),
            )
        )
        with ThreadPoolExecutor(max_workers=1) as pool:
            admin = pool.submit(create_admin, env)
            server = stack.enter_context(
                LiveServer(env, workers=2, log_path=workdir / "gunicorn.log")
            )
        receiver = start_receiver()
        stack.callback(receiver.server.stop)
        yield Deployment(
            server,
            worker,
            workdir,
            metrics_dir,
            log_in(server.api, admin.result()),
            receiver,
            f"http://{HOST}:{worker_port}/metrics",
        )


def test_one_scrape_counts_what_both_workers_answered(deployment):
    before = deployment.scrape()
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(
            pool.map(
                lambda _: requests.get(f"{deployment.server.api}/posts", timeout=TIMEOUT),
                range(200),
            )
        )
    assert {response.status_code for response in statuses} == {200}
    after = deployment.scrape()
    route = "/api/v1/posts"
    assert delta(after, before, REQUESTS, route=route, method="GET", status="200") == 200
    # Each gunicorn worker wrote its own samples; the scrape above summed both.
    writers = {path.stem.rsplit("_", 1)[1] for path in deployment.metrics_dir.glob("counter_*")}
    assert {str(pid) for pid in deployment.server.worker_pids()} <= writers
    # Only the scrape being answered, once the other worker's count is brought up to date
    # (a second apart).
    deadline = time.monotonic() + 5
    while value(after, "blogapi_http_requests_in_flight") != 1 and time.monotonic() < deadline:
        time.sleep(0.2)
        after = deployment.scrape()
    assert value(after, "blogapi_http_requests_in_flight") == 1


def test_a_publish_is_followed_from_its_request_into_the_workers_log(deployment):
    """A writer publishes; the worker delivers the webhook. Every app line of both logs is
    one JSON object, the worker's attempt line carries the publish request's id, the metrics
    count the attempt and the task, and no password, token, address or secret is logged."""
    writer = sign_up_over_http(deployment.server.api, "ada")
    webhook = register_webhook(
        deployment.server.api, deployment.admin, deployment.receiver.url, ["post.published"]
    )
    deployment.receiver.secret = webhook["secret"]
    failed = requests.post(
        f"{deployment.server.api}/auth/login",
        json={"username": "ada", "password": "a wrong guess at it"},
        timeout=TIMEOUT,
    )
    assert failed.status_code == 401
    draft = requests.post(
        f"{deployment.server.api}/posts",
        json={"title": "Seen by operators", "body": "A body nobody logs."},
        headers=writer,
        timeout=TIMEOUT,
    )
    published = requests.post(
        f"{deployment.server.api}/posts/{draft.json()['id']}/publish",
        headers=writer,
        timeout=TIMEOUT,
    )
    assert published.status_code == 200, published.text
    caused_by = published.headers["X-Request-Id"]
    deployment.receiver.wait_for(1, timeout=20)

    attempts = "blogapi_webhook_delivery_attempts_total"
    samples = wait_for_sample(deployment, attempts, outcome="delivered")
    task = "blogapi_worker_task_duration_seconds_count"
    assert value(samples, task, task="webhooks.deliver", outcome="ok") >= 1
    assert value(samples, "blogapi_security_events_total", event="login_failed") >= 1
    # The worker's own endpoint (for a worker on a host of its own) reads the same folder.
    own = parse(requests.get(deployment.worker_metrics, timeout=TIMEOUT).text)
    assert value(own, task, task="webhooks.deliver", outcome="ok") == value(
        samples, task, task="webhooks.deliver", outcome="ok"
    )

    publish_line = deployment.access_line(caused_by)
    assert publish_line["path"] == "/api/v1/posts/<string:ident>/publish"
    me = requests.get(f"{deployment.server.api}/auth/me", headers=writer, timeout=TIMEOUT)
    assert publish_line["status"] == 200 and publish_line["user_id"] == me.json()["id"]
    worker_lines = app_lines(deployment.log_lines("worker.log"))
    delivered = [line for line in worker_lines if line.get("outcome") == "delivered"]
    assert [line["request_id"] for line in delivered] == [caused_by]

    everything = "\n".join(
        deployment.log_lines("gunicorn.log") + deployment.log_lines("worker.log")
    )
    secrets = [
        PASSWORD, ADMIN_PASSWORD, "a wrong guess at it", writer["Authorization"].split()[1],
        deployment.admin["Authorization"].split()[1], webhook["secret"], "ada@example.com",
        "root@example.com", "A body nobody logs.",
    ]  # fmt: skip
    for secret in secrets:
        assert secret not in everything, secret


def app_lines(lines: list[str]) -> list[dict[str, Any]]:
    """The app's lines of a log (gunicorn's own start and stop lines are its plain text), each
    checked to be one JSON object with the keys every line has."""
    parsed = [orjson.loads(line) for line in lines if line.startswith("{")]
    for line in parsed:
        assert {"time", "level", "logger", "message"} <= set(line), line
    assert parsed
    return parsed


def wait_for_sample(deployment: Deployment, name: str, **labels: str) -> Samples:
    """Scrape until a series is above zero (the worker records an attempt after sending it)."""
    deadline = time.monotonic() + 20
    while True:
        samples = deployment.scrape()
        if value(samples, name, **labels) > 0 or time.monotonic() > deadline:
            return samples
        time.sleep(0.1)
