"""A webhook receiver on 127.0.0.1 that checks every delivery with the Standard Webhooks
reference library (`standardwebhooks`), and can misbehave on purpose: fail the first N
attempts, answer 410, or sleep."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from pytest_httpserver import HTTPServer
from sqlalchemy import select
from standardwebhooks import Webhook as Verifier
from werkzeug.wrappers import Request, Response

from blogapi.db.webhook_models import Webhook, WebhookDelivery, WebhookEvent
from blogapi.extensions import db
from blogapi.security.webhook_secrets import new_secret, seal
from blogapi.webhooks.delivery import deliver
from blogapi.webhooks.relay import relay_round


@dataclass
class Received:
    """One delivery as it arrived: its id, whether the signature held, and its body."""

    msg_id: str
    verified: bool
    body: dict[str, Any]
    headers: dict[str, str]
    at: float


@dataclass
class Receiver:
    """A receiver at `url`; set `secret` (from the webhook's creation) before deliveries come."""

    server: HTTPServer
    path: str = "/hook"
    secret: str | None = None
    fail_first: int = 0  # answer 500 to this many requests first
    status: int = 200  # what it answers once it stops failing
    sleep: float = 0.0  # seconds to wait before answering
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        """Where to point a webhook."""
        return self.server.url_for(self.path)

    def handle(self, request: Request) -> Response:
        """Verify, record, and answer as configured."""
        body = request.get_data()
        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            Verifier(self.secret or "").verify(body, headers)
            verified = True
        except Exception:  # the reference library's verification failure, whichever kind
            verified = False
        with self.lock:
            self.received.append(
                Received(
                    headers.get("webhook-id", ""),
                    verified,
                    orjson.loads(body),
                    headers,
                    time.time(),
                )
            )
            failing = len(self.received) <= self.fail_first
        if self.sleep:
            time.sleep(self.sleep)
        if failing:
            return Response("try again", status=500)
        return Response("ok", status=self.status)

    def ids(self, kind: str | None = None) -> list[str]:
        """The webhook-ids received (of one event type, when given), in order."""
        with self.lock:
            return [r.msg_id for r in self.received if kind is None or r.body["type"] == kind]

    def wait_for(
        self, count: int, timeout: float = 30.0, kind: str | None = None
    ) -> list[Received]:
        """Wait until `count` deliveries (of `kind`) arrived; the deliveries so far."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                found = [r for r in self.received if kind is None or r.body["type"] == kind]
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"{len(found)} of {count} deliveries arrived in {timeout} s: {found}")


def start_receiver(**settings: Any) -> Receiver:
    """A receiver on a free loopback port; stop it with `receiver.server.stop()`."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    receiver = Receiver(server, **settings)
    server.expect_request(receiver.path, method="POST").respond_with_handler(receiver.handle)
    return receiver


def subscribe(
    app: Any, url: str, events: str | Sequence[str] = "post.published post.updated", **fields: Any
) -> tuple[int, str]:
    """A webhook stored as POST /webhooks stores one (the API's own tests create theirs over
    HTTP): its id and its secret (whsec_…)."""
    secret = new_secret()
    kinds = events if isinstance(events, str) else " ".join(events)
    with app.app_context():
        webhook = Webhook(url=url, events=kinds, secret=seal(secret), **fields)
        db.session.add(webhook)
        db.session.commit()
        return webhook.id, secret


def run_worker_round(app: Any) -> int:
    """One relay round in this process, delivering synchronously what it queues: what a
    worker does, minus the queue; how many deliveries it queued."""

    def send_now(delivery_id: int, _when: Any) -> None:
        deliver(delivery_id)

    with app.app_context():
        return relay_round(send_now)


def events_of(app: Any) -> list[tuple[str, int | None]]:
    """The outbox as (type, subject id), oldest first."""
    with app.app_context():
        rows = db.session.query(WebhookEvent.type, WebhookEvent.subject_id).order_by(
            WebhookEvent.id
        )
        return [(kind, subject) for kind, subject in rows]


def outbox(app: Any) -> dict[str, list[dict[str, Any]]]:
    """The webhooks, events and deliveries tables, row by row, in id order."""
    with app.app_context():
        found = {
            model.__tablename__: [
                dict(row)
                for row in db.session.execute(
                    select(model.__table__).order_by(model.__table__.c.id)
                ).mappings()
            ]
            for model in (Webhook, WebhookEvent, WebhookDelivery)
        }
        db.session.rollback()
    return found
