"""An admin moves a site whose webhooks have work left: the webhooks, the events still to be
sent and their pending deliveries move with it, and are sent from the new site with the ids
and secrets they had."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest

from blogapi.timeutil import utcnow
from tests.support.accounts import sign_up
from tests.support.apps import app_on, dispose
from tests.support.cli import cli
from tests.support.databases import fresh_database, suite_admin_url, upgrade
from tests.support.posts import API, new_post, publish, published_post
from tests.support.webhook_store import add_webhook, outbox, run_relay
from tests.support.webhooks import start_receiver

RETRIES = (0.2, 0.2, 0.2)
# Where nobody listens: the turned-off webhook's target.
NOWHERE = "http://127.0.0.1:9/hook"


@pytest.fixture
def receiver():
    """A receiver that is down for the first attempt (500), then answers 200."""
    receiver = start_receiver(fail_first=1)
    yield receiver
    receiver.server.stop()


def records(path, kind: str) -> list[dict]:
    """The records of a kind in an export file."""
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    return [record for record in lines if record["type"] == kind]


def test_pending_webhook_work_moves_and_is_sent_with_its_ids_and_secret(
    app, client, tmp_path, receiver
):
    app.config.update(WEBHOOK_ALLOW_PRIVATE=True, WEBHOOK_RETRY_DELAYS=RETRIES)
    hook_id, secret = add_webhook(
        app, receiver.url, ["post.published", "post.updated"], description="Site rebuild"
    )
    off_id, _ = add_webhook(
        app, NOWHERE, ["post.published"], active=False, disabled_reason="Turned off by hand."
    )
    receiver.secret = secret
    writer = sign_up(client, app, "writer", "author")
    live = published_post(client, writer, title="Out now", body="Hello.")
    later = new_post(client, writer, title="Tomorrow", body="Soon.")
    assert publish(client, writer, later["id"], at=utcnow() + timedelta(days=1)).status_code == 200

    run_relay(app)  # the receiver is down: the go-live's delivery waits for its retry
    first = receiver.wait_for(1)[0]
    assert first.verified and first.body["data"]["id"] == live["id"]
    edited = client.patch(
        f"{API}/posts/{live['id']}", json={"body": "Hello again."}, headers=writer.headers
    )
    assert edited.status_code == 200  # a post.updated, not fanned out yet
    before = outbox(app)
    [waiting] = before["webhook_deliveries"]
    assert (waiting["webhook_id"], waiting["state"], waiting["attempts"]) == (hook_id, "pending", 1)

    path = tmp_path / "blog.jsonl"
    exported = cli(app.test_cli_runner(), "export", str(path))
    assert exported.exit_code == 0, exported.output
    assert "2 webhooks, 3 pending webhook events and 1 pending webhook deliveries" in (
        exported.stdout
    )
    assert [w["id"] for w in records(path, "webhook")] == [hook_id, off_id]
    assert {w["secret"] for w in records(path, "webhook")} == {
        w["secret"] for w in before["webhooks"]
    }  # sealed as stored, never the whsec_ itself
    assert secret not in path.read_text()
    events = {e["uid"]: e for e in records(path, "webhook_event")}
    assert [e["event"] for e in events.values()] == [
        "post.published",  # fanned out, its delivery pending
        "post.published",  # tomorrow's go-live
        "post.updated",  # not yet fanned out
    ]
    assert first.msg_id in events

    with fresh_database(tmp_path, suite_admin_url()) as url:
        upgrade(url)
        moved = app_on(url, WEBHOOK_ALLOW_PRIVATE=True, WEBHOOK_RETRY_DELAYS=RETRIES)
        try:
            imported = cli(moved.test_cli_runner(), "import", str(path))
            assert imported.exit_code == 0, imported.output
            assert imported.stderr == ""  # the same SECRET_KEY reads every secret
            after = outbox(moved)
            assert after["webhooks"] == before["webhooks"]
            assert after["webhook_events"] == [
                row for row in before["webhook_events"] if row["uid"] in events
            ]
            assert after["webhook_deliveries"] == [{**waiting, "enqueued": False}]
            assert waiting["leased_until"] is None

            time.sleep(max(0.0, (waiting["next_attempt_at"] - utcnow()).total_seconds()))
            run_relay(moved)
            arrived = receiver.wait_for(3)
            assert [r.msg_id for r in arrived[1:]] == [first.msg_id, uid_of(events, "post.updated")]
            assert all(r.verified for r in arrived)  # checked with the original secret
            assert arrived[1].body == first.body  # the same payload, sent again
            sent = outbox(moved)
            assert [(d["webhook_id"], d["state"]) for d in sent["webhook_deliveries"]] == [
                (hook_id, "delivered"),
                (hook_id, "delivered"),
            ]  # none to the turned-off webhook
            tomorrow = next(e for e in sent["webhook_events"] if e["subject_id"] == later["id"])
            assert tomorrow["dispatched_at"] is None and tomorrow["due_at"] > utcnow()

            # New rows take ids past the imported ones (sequences moved on, on PostgreSQL).
            again = moved.test_client().patch(
                f"{API}/posts/{live['id']}", json={"body": "Third."}, headers=writer.headers
            )
            assert again.status_code == 200
            newest = outbox(moved)["webhook_events"][-1]
            assert newest["type"] == "post.updated"
            assert newest["id"] > max(e["id"] for e in events.values())
            assert add_webhook(moved, receiver.url, ["post.deleted"])[0] == off_id + 1
            run_relay(moved)
            assert receiver.wait_for(4)[3].msg_id == newest["uid"]
        finally:
            dispose(moved)


def uid_of(events: dict[str, dict], kind: str) -> str:
    """The webhook-id of the one exported event of a type."""
    [uid] = [uid for uid, event in events.items() if event["event"] == kind]
    return uid
