"""Webhooks as a deployment runs them: gunicorn in production mode, two `manage.py worker`
processes on one database and one job queue (the SQLite file in the instance folder), and
receivers on loopback that check every delivery with the Standard Webhooks reference library."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Request, Response

from devtools.live import (
    OPEN_REGISTRATION,
    LiveServer,
    LiveWorker,
    fresh_database_url,
    migrate,
)
from devtools.live import production_env as base_env
from devtools.webhooks import create_admin, log_in, register_webhook
from tests.support.live import eventually, sign_up_over_http
from tests.support.webhooks import Receiver, start_receiver

# What these stories prove is the worker's (queue, retries, time limit, address checks); the
# PostgreSQL + Redis deployment is proven under faults by tests/test_webhooks_faults.py.
pytestmark = [pytest.mark.slow, pytest.mark.database_agnostic]

TIMEOUT = 30  # seconds for any one HTTP call to the API
SETTLE = 2.0  # seconds a duplicate would have had to show up (the relay looks 5 times a second)


def production_env(workdir: Path, **settings: str) -> dict[str, str]:
    """A production instance with its own instance folder (so its own queue file), short
    retries and no rate limits; `settings` win."""
    instance = workdir / "instance"
    instance.mkdir(exist_ok=True)
    defaults = {
        "BLOGAPI_INSTANCE_DIR": str(instance),
        "RATELIMIT_ENABLED": "false",
        "WEBHOOK_ALLOW_PRIVATE": "true",
        "WEBHOOK_RETRY_DELAYS": "1,1,1",
        **OPEN_REGISTRATION,
    }
    return base_env(fresh_database_url(workdir), **{**defaults, **settings})


@dataclass
class Site:
    """One deployment as its admin and a writer meet it over HTTP."""

    api: str
    admin: dict[str, str]
    writer: dict[str, str]
    env: dict[str, str]
    workdir: Path
    workers: list[LiveWorker]
    receivers: list[Receiver] = field(default_factory=list)

    def receiver(self, **settings: Any) -> Receiver:
        """A new receiver, stopped with the site."""
        receiver = start_receiver(**settings)
        self.receivers.append(receiver)
        return receiver

    def register(self, receiver: Receiver, events: list[str]) -> dict[str, Any]:
        """The admin registers a webhook for the receiver, which learns its secret."""
        webhook = register_webhook(self.api, self.admin, receiver.url, events, "a test receiver")
        assert webhook["secret"].startswith("whsec_") and webhook["active"] is True
        receiver.secret = webhook["secret"]
        return webhook

    def webhook(self, webhook_id: int) -> dict[str, Any]:
        """GET /webhooks/{id}."""
        shown = requests.get(
            f"{self.api}/webhooks/{webhook_id}", headers=self.admin, timeout=TIMEOUT
        )
        assert shown.status_code == 200, shown.text
        return dict(shown.json())

    def attempts(self, webhook_id: int) -> list[dict[str, Any]]:
        """The webhook's delivery log, oldest attempt first."""
        page = requests.get(
            f"{self.api}/webhooks/{webhook_id}/deliveries",
            params={"per_page": 100},
            headers=self.admin,
            timeout=TIMEOUT,
        )
        assert page.status_code == 200, page.text
        return sorted(page.json()["items"], key=lambda item: (item["created_at"], item["id"]))

    def finished_attempts(
        self, webhook_id: int, count: int, timeout: float
    ) -> list[dict[str, Any]]:
        """Wait until the log holds `count` attempts that have an outcome; the log."""

        def done() -> list[dict[str, Any]]:
            log = self.attempts(webhook_id)
            finished = [a for a in log if a["status_code"] is not None or a["error"]]
            return log if len(finished) >= count else []

        return list(eventually(done, timeout, f"{count} finished attempts of {webhook_id}"))

    def ping(self, webhook_id: int) -> str:
        """POST /webhooks/{id}/ping; the event's id."""
        sent = requests.post(
            f"{self.api}/webhooks/{webhook_id}/ping", headers=self.admin, timeout=TIMEOUT
        )
        assert sent.status_code == 202, sent.text
        return str(sent.json()["event_id"])

    def delete(self, webhook_id: int) -> None:
        """The admin deletes the webhook (its pending retries go with it)."""
        gone = requests.delete(
            f"{self.api}/webhooks/{webhook_id}", headers=self.admin, timeout=TIMEOUT
        )
        assert gone.status_code == 204, gone.text

    def publish(self, title: str, publish_at: datetime | None = None) -> dict[str, Any]:
        """The writer drafts a post and publishes it (at `publish_at`, when given)."""
        draft = requests.post(
            f"{self.api}/posts",
            json={"title": title, "body": f"All about {title}."},
            headers=self.writer,
            timeout=TIMEOUT,
        )
        assert draft.status_code == 201, draft.text
        when = {"publish_at": publish_at.isoformat().replace("+00:00", "Z")} if publish_at else {}
        published = requests.post(
            f"{self.api}/posts/{draft.json()['id']}/publish",
            json=when,
            headers=self.writer,
            timeout=TIMEOUT,
        )
        assert published.status_code == 200, published.text
        return dict(published.json())

    def post(self, post_id: int) -> dict[str, Any]:
        """The post as a reader fetches it."""
        shown = requests.get(f"{self.api}/posts/{post_id}", timeout=TIMEOUT)
        assert shown.status_code == 200, shown.text
        return dict(shown.json())


def of_post(receiver: Receiver, post_id: int, kind: str = "post.published") -> list[Any]:
    """What the receiver got about one post."""
    with receiver.lock:
        return [
            r
            for r in receiver.received
            if r.body["type"] == kind and r.body["data"]["id"] == post_id
        ]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """gunicorn and two workers sharing one database and one queue file; an admin and a writer."""
    workdir = tmp_path_factory.mktemp("webhooks-live")
    env = production_env(workdir)
    migrate(env)
    with ExitStack() as stack:
        # Workers need no warm-up wait: they start up while the admin and gunicorn are made.
        workers = [
            stack.enter_context(LiveWorker(env, log_path=workdir / f"worker{number}.log"))
            for number in (1, 2)
        ]
        with ThreadPoolExecutor(max_workers=1) as pool:
            admin = pool.submit(create_admin, env)
            server = stack.enter_context(
                LiveServer(env, workers=1, log_path=workdir / "gunicorn.log")
            )
        site = Site(
            server.api,
            log_in(server.api, admin.result()),
            sign_up_over_http(server.api, "ada"),
            env,
            workdir,
            workers,
        )
        stack.callback(lambda: [receiver.server.stop() for receiver in site.receivers])
        yield site


@pytest.fixture(scope="module")
def slow_ping(site: Site) -> tuple[Receiver, dict[str, Any]]:
    """A ping to a receiver that takes 15 s to answer, sent early so that its 10 s pass while
    another story waits too: the receiver and its webhook."""
    receiver = site.receiver(sleep=15)
    webhook = site.register(receiver, ["media.created"])
    site.ping(webhook["id"])
    return receiver, webhook


def test_a_published_post_is_delivered_once_signed_and_whole(site):
    receiver = site.receiver()
    webhook = site.register(receiver, ["post.published", "post.unpublished"])

    post = site.publish("Hello, integrations")

    eventually(lambda: of_post(receiver, post["id"]), 30, "the post.published delivery")
    time.sleep(SETTLE)
    arrived = of_post(receiver, post["id"])
    assert len(arrived) == 1, arrived
    delivery = arrived[0]
    assert delivery.verified, delivery.headers
    assert delivery.msg_id.startswith("msg_")
    assert delivery.body["data"] == {**site.post(post["id"]), "deleted": False}
    (attempt,) = site.finished_attempts(webhook["id"], 1, 10)
    assert attempt["event_id"] == delivery.msg_id and attempt["event"] == "post.published"
    assert attempt["status_code"] == 200 and attempt["next_attempt_at"] is None
    site.delete(webhook["id"])


def test_a_scheduled_post_is_delivered_after_it_goes_live_exactly_once(site, slow_ping):
    receiver = site.receiver()
    site.register(receiver, ["post.published"])
    publish_at = (datetime.now(UTC) + timedelta(seconds=3)).replace(microsecond=0)

    post = site.publish("Tomorrow's news, today", publish_at=publish_at)

    assert post["status"] == "scheduled"
    eventually(lambda: of_post(receiver, post["id"]), 60, "the go-live's delivery")
    time.sleep(2 * SETTLE)  # two relays, each looking at the due event several times a second
    arrived = of_post(receiver, post["id"])
    assert len(arrived) == 1, arrived
    delivery = arrived[0]
    assert delivery.verified
    assert delivery.at >= publish_at.timestamp()
    assert delivery.body["timestamp"] == post["published_at"]
    assert delivery.body["data"]["status"] == "published"


def test_a_receiver_that_does_not_answer_in_10_seconds_is_a_failed_attempt(site, slow_ping):
    receiver, webhook = slow_ping

    log = site.finished_attempts(webhook["id"], 1, 20)

    first = log[0]
    assert first["status_code"] is None and "within 10 s" in first["error"]
    assert 9_500 <= first["duration_ms"] <= 11_500
    assert first["next_attempt_at"] is not None  # a timeout is retried
    assert receiver.received and receiver.received[0].verified
    site.delete(webhook["id"])


def test_failed_attempts_are_retried_with_the_same_webhook_id(site):
    receiver = site.receiver(fail_first=2)
    webhook = site.register(receiver, ["post.published"])

    post = site.publish("Third time lucky")

    eventually(lambda: len(of_post(receiver, post["id"])) >= 3, 30, "three attempts")
    log = site.finished_attempts(webhook["id"], 3, 10)
    time.sleep(SETTLE)
    arrived = of_post(receiver, post["id"])
    assert len(arrived) == 3 and all(delivery.verified for delivery in arrived)
    assert len({delivery.msg_id for delivery in arrived}) == 1
    assert [a["status_code"] for a in log] == [500, 500, 200]
    assert [a["attempt"] for a in log] == [1, 2, 3]
    assert {a["event_id"] for a in log} == {arrived[0].msg_id}
    assert [a["next_attempt_at"] is not None for a in log] == [True, True, False]
    site.delete(webhook["id"])


def test_a_410_turns_the_webhook_off(site):
    gone = site.receiver(status=410)
    webhook = site.register(gone, ["post.published"])
    witness = site.receiver()
    site.register(witness, ["post.published"])

    first = site.publish("Anyone there?")
    eventually(lambda: of_post(gone, first["id"]), 30, "the delivery answered 410")
    eventually(lambda: not site.webhook(webhook["id"])["active"], 10, "the webhook turned off")
    shown = site.webhook(webhook["id"])
    assert "410" in shown["disabled_reason"]

    second = site.publish("Still nobody?")
    eventually(lambda: of_post(witness, second["id"]), 30, "the later post reaching others")
    time.sleep(SETTLE)
    assert of_post(gone, second["id"]) == []
    (attempt,) = site.attempts(webhook["id"])
    assert attempt["status_code"] == 410 and attempt["next_attempt_at"] is None


def test_a_redirect_is_not_followed_and_counts_as_a_failure(site):
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    receiver = Receiver(server, status=302)
    site.receivers.append(receiver)
    followed: list[Request] = []

    def redirect(request: Request) -> Response:
        answer = receiver.handle(request)
        answer.headers["Location"] = server.url_for("/elsewhere")
        return answer

    def elsewhere(request: Request) -> Response:
        followed.append(request)
        return Response("ok")

    server.expect_request(receiver.path, method="POST").respond_with_handler(redirect)
    server.expect_request("/elsewhere").respond_with_handler(elsewhere)
    webhook = site.register(receiver, ["media.created"])

    event_id = site.ping(webhook["id"])

    first = site.finished_attempts(webhook["id"], 1, 30)[0]
    assert first["event_id"] == event_id and first["event"] == "ping"
    assert first["status_code"] == 302 and "not followed" in first["error"]
    assert first["next_attempt_at"] is not None
    assert receiver.received[0].verified and receiver.received[0].body["type"] == "ping"
    assert followed == []
    site.delete(webhook["id"])


def test_private_targets_are_refused_at_delivery_and_at_registration(site):
    # Last in the module: the workers that allow private targets make way for one that does not.
    for worker in site.workers:
        worker.stop()
    strict = {**site.env, "WEBHOOK_ALLOW_PRIVATE": "false"}
    receiver = site.receiver()
    webhook = site.register(receiver, ["media.created"])  # the server allows private targets
    with (
        LiveWorker(strict, log_path=site.workdir / "strict-worker.log"),
        LiveServer(strict, workers=1, log_path=site.workdir / "strict.log") as refusing,
    ):
        event_id = site.ping(webhook["id"])

        first = site.finished_attempts(webhook["id"], 1, 30)[0]
        assert first["event_id"] == event_id and first["status_code"] is None
        assert "not a public address" in first["error"]
        refused = requests.post(
            f"{refusing.api}/webhooks",
            json={"url": receiver.url, "events": ["post.published"]},
            headers=site.admin,
            timeout=TIMEOUT,
        )
        assert refused.status_code == 422, refused.text
        assert "url" in refused.json()["errors"]
        assert receiver.received == []  # neither that attempt nor its retries reached it
