"""An admin moves a site whose webhooks have work left: the webhooks, the events still to be
sent and their pending deliveries move with it, and are sent from the new site with the ids
and secrets they had."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import insert

from blogapi.extensions import db
from blogapi.timeutil import utcnow
from blogapi.webhooks.outbox import EVENTS, event_row
from tests.support.accounts import sign_up
from tests.support.apps import app_on, dispose, make_app
from tests.support.backup import assert_import_refused
from tests.support.cli import cli
from tests.support.databases import all_rows, fresh_database, suite_admin_url, upgrade
from tests.support.posts import API, new_post, publish, published_post
from tests.support.webhooks import outbox, run_worker_round, start_receiver, subscribe
from tests.test_backup_validation import drop, edit, line_of

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
    hook_id, secret = subscribe(
        app, receiver.url, ["post.published", "post.updated"], description="Site rebuild"
    )
    off_id, _ = subscribe(
        app, NOWHERE, ["post.published"], active=False, disabled_reason="Turned off by hand."
    )
    receiver.secret = secret
    writer = sign_up(client, app, "writer", "author")
    live = published_post(client, writer, title="Out now", body="Hello.")
    also = published_post(client, writer, title="Also out", body="Hi.")
    later = new_post(client, writer, title="Tomorrow", body="Soon.")
    assert publish(client, writer, later["id"], at=utcnow() + timedelta(days=1)).status_code == 200

    run_worker_round(app)  # the receiver is down for the first go-live, which waits for its retry
    first, done = receiver.wait_for(2)
    assert first.verified and first.body["data"]["id"] == live["id"]
    assert done.verified and done.body["data"]["id"] == also["id"]
    edited = client.patch(
        f"{API}/posts/{live['id']}", json={"body": "Hello again."}, headers=writer.headers
    )
    assert edited.status_code == 200  # a post.updated, not fanned out yet
    before = outbox(app)
    waiting, delivered = before["webhook_deliveries"]
    assert (waiting["webhook_id"], waiting["state"], waiting["attempts"]) == (hook_id, "pending", 1)
    assert delivered["state"] == "delivered"  # history: it stays behind

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
    assert first.msg_id in events and done.msg_id not in events

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
            assert all_rows(moved)["webhook_attempts"] == []  # the log stays behind too

            time.sleep(max(0.0, (waiting["next_attempt_at"] - utcnow()).total_seconds()))
            run_worker_round(moved)
            arrived = receiver.wait_for(4)[2:]
            assert [r.msg_id for r in arrived] == [first.msg_id, uid_of(events, "post.updated")]
            assert all(r.verified for r in arrived)  # checked with the original secret
            assert arrived[0].body == first.body  # the same payload, sent again
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
            assert subscribe(moved, receiver.url, ["post.deleted"])[0] == off_id + 1
            run_worker_round(moved)
            assert receiver.wait_for(5)[4].msg_id == newest["uid"]
        finally:
            dispose(moved)


def uid_of(events: dict[str, dict], kind: str) -> str:
    """The webhook-id of the one exported event of a type."""
    [uid] = [uid for uid, event in events.items() if event["event"] == kind]
    return uid


@pytest.fixture(scope="module")
def webhook_lines() -> list[dict]:
    """An export with two webhooks (the second turned off), four events and two pending
    deliveries, as parsed records: a go-live and a ping fanned out to the first webhook, each
    waiting for its retry (nobody listens), then a scheduled go-live and an edit not
    yet fanned out."""
    source = make_app(WEBHOOK_ALLOW_PRIVATE=True)
    try:
        hook, _ = subscribe(source, NOWHERE, ["post.published", "post.updated"])
        off, _ = subscribe(source, NOWHERE, ["media.created"], active=False)
        client = source.test_client()
        writer = sign_up(client, source, "writer", "author")
        live = published_post(client, writer, title="Out now", body="Hello.")
        with source.app_context():
            db.session.execute(insert(EVENTS), [event_row("ping", None, utcnow(), webhook_id=hook)])
            db.session.commit()
        run_worker_round(source)
        later = new_post(client, writer, title="Tomorrow", body="Soon.")
        assert publish(client, writer, later["id"], at=utcnow() + timedelta(days=1)).status_code
        changed = client.patch(
            f"{API}/posts/{live['id']}", json={"body": "Hi."}, headers=writer.headers
        )
        assert changed.status_code == 200
        result = source.test_cli_runner().invoke(args=["export", "-"])
        assert result.exit_code == 0
        lines = [json.loads(line) for line in result.stdout_bytes.splitlines()]
    finally:
        dispose(source)
    assert [(e["event"], e["dispatched_at"] is None) for e in kind_of(lines, "webhook_event")] == [
        ("post.published", False),
        ("ping", False),
        ("post.published", True),
        ("post.updated", True),
    ]
    deliveries = kind_of(lines, "webhook_delivery")
    assert [(d["webhook_id"], d["event_id"], d["attempts"]) for d in deliveries] == [
        (hook, 1, 1),
        (hook, 2, 1),
    ]
    assert [w["id"] for w in kind_of(lines, "webhook")] == [hook, off]
    return lines


def kind_of(lines: list[dict], kind: str) -> list[dict]:
    """The records of one kind."""
    return [record for record in lines if record["type"] == kind]


def same(kind: str, field: str, source_nth: int, nth: int) -> Callable[[list[dict]], int]:
    """A corruption: one record given an earlier one's value of `field`, exactly."""

    def corrupt(lines: list[dict]) -> int:
        number = line_of(lines, kind, nth)
        lines[number - 1][field] = lines[line_of(lines, kind, source_nth) - 1][field]
        return number

    return corrupt


def delivered_twice(lines: list[dict]) -> int:
    """A corruption: the first delivery once more under a new id (the header agreeing)."""
    twin = {**lines[line_of(lines, "webhook_delivery", 0) - 1], "id": 9}
    lines.append(twin)
    counts = lines[0]["counts"]
    lines[0]["counts"] = {**counts, "webhook_delivery": counts["webhook_delivery"] + 1}
    return len(lines)


def webhook_in_format_7(lines: list[dict]) -> int:
    """A corruption: a file that says it is format 7 (before webhooks) but holds one."""
    for record in lines:
        record["format"] = 7
    return line_of(lines, "webhook")


LONG_URL = "https://example.com/" + "a" * 2029  # 2049 characters
CASES = {
    "a URL over 2048 characters": (
        edit("webhook", 0, url=LONG_URL),
        "url: Length must be between 1 and 2048.",
    ),
    "a URL that is not http(s)": (
        edit("webhook", 1, url="ftp://example.com/hook"),
        "url: Not an absolute http(s) URL",
    ),
    "a URL with a password": (
        edit("webhook", 0, url="https://user:pw@example.com/hook"),
        "url: A URL with a user name or password is not fetched",
    ),
    "an unknown event type": (
        edit("webhook", 0, events="post.published comment.created"),
        "events: Not space-separated event types of post.published",
    ),
    "a subscription to pings": (edit("webhook", 1, events="ping"), "events: Not space-separated"),
    "an event type twice": (
        edit("webhook", 0, events="post.updated post.updated"),
        "events: Not space-separated event types",
    ),
    "events as a list": (
        edit("webhook", 0, events=["post.published"]),
        "events: Not a valid string.",
    ),
    "a secret in the clear": (
        edit("webhook", 0, secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw+N/tDUvTfQg="),
        "secret: Not a sealed secret.",
    ),
    "active as text": (edit("webhook", 1, active="false"), "active: Not a valid boolean."),
    "a webhook with an unknown field": (
        edit("webhook", 0, signing_key="k"),
        "signing_key: Unknown field.",
    ),
    "a disabled reason too long": (
        edit("webhook", 1, disabled_reason="r" * 201),
        "disabled_reason: Longer than maximum length 200.",
    ),
    "a webhook id given twice": (same("webhook", "id", 0, 1), "webhook 1 is already on line"),
    "an event of an unknown type": (
        edit("webhook_event", 2, event="post.liked"),
        "event: Must be one of",
    ),
    "an event id that is not msg_": (
        edit("webhook_event", 3, uid="evt_1"),
        "uid: Not an event id (msg_…).",
    ),
    "an event id given twice": (same("webhook_event", "uid", 0, 3), "is already used on line"),
    "a ping for a missing webhook": (
        edit("webhook_event", 1, webhook_id=99),
        "webhook_id refers to webhook 99, which no earlier line defines",
    ),
    "a go-live that names a webhook": (
        edit("webhook_event", 0, webhook_id=1),
        "webhook_id: A ping, and only a ping, names its webhook.",
    ),
    "a go-live about nothing": (
        edit("webhook_event", 2, subject_id=None),
        "subject_id: Every event but a ping names its subject.",
    ),
    "a payload before the fan-out": (
        edit("webhook_event", 2, payload='{"type": "post.published"}'),
        "payload: An event not yet fanned out has no payload.",
    ),
    "a payload of another event": (
        edit("webhook_event", 0, payload='{"type": "post.deleted", "data": {}}'),
        "payload: Not a JSON object of the event's type.",
    ),
    "a payload that is not JSON": (edit("webhook_event", 0, payload="{"), "payload: Not JSON."),
    "a due time without its zone": (
        edit("webhook_event", 2, due_at="2026-01-01T10:00:00"),
        "due_at: Give a timezone",
    ),
    "a delivery to a missing event": (
        edit("webhook_delivery", 0, event_id=99),
        "event_id refers to webhook_event 99, which no earlier line defines",
    ),
    "a delivery to a missing webhook": (
        edit("webhook_delivery", 0, webhook_id=99),
        "webhook_id refers to webhook 99",
    ),
    "a delivered delivery": (
        edit("webhook_delivery", 0, state="delivered"),
        "state: Only pending deliveries are carried.",
    ),
    "a bad state": (edit("webhook_delivery", 1, state="lost"), "state: Only pending deliveries"),
    "attempts below zero": (
        edit("webhook_delivery", 0, attempts=-1),
        "attempts: Must be greater than or equal to 0",
    ),
    "attempts given as text": (
        edit("webhook_delivery", 0, attempts="1"),
        "attempts: Not a valid integer.",
    ),
    "a delivery in its stored form": (
        edit("webhook_delivery", 0, enqueued=True, leased_until=None),
        "enqueued: Unknown field.",
    ),
    "a delivery of an event not fanned out": (
        edit("webhook_delivery", 0, event_id=3),
        "a delivery of webhook event 3 (line",
    ),
    "a ping delivered to another webhook": (
        edit("webhook_delivery", 1, webhook_id=2),
        "a delivery to webhook 2 of a ping for webhook 1",
    ),
    "a delivery twice": (
        delivered_twice,
        "webhook event 1 is already delivered to webhook 1 on line",
    ),
    "a lost delivery": (
        drop("webhook_delivery", 0),
        "the file has 1 webhook_delivery records but its header says 2",
    ),
    "a webhook in a file from before webhooks": (
        webhook_in_format_7,
        "a format 7 file has no webhook records (they came with format 8)",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_a_bad_webhook_record_is_named_by_its_line_and_nothing_is_imported(
    app, runner, tmp_path, webhook_lines, case
):
    corrupt, complaint = CASES[case]
    lines = copy.deepcopy(webhook_lines)
    number = corrupt(lines)
    assert_import_refused(app, runner, tmp_path / "broken.jsonl", lines, complaint, number)


def test_the_same_records_import(app, runner, tmp_path, webhook_lines):
    path = tmp_path / "blog.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in webhook_lines))
    result = cli(runner, "import", str(path))
    assert result.exit_code == 0, result.output
    assert "2 webhooks, 4 pending webhook events and 2 pending webhook deliveries" in result.stdout


def test_a_format_7_file_imports_without_webhooks(app, runner, tmp_path, webhook_lines):
    old = []
    for record in copy.deepcopy(webhook_lines):
        if record["type"].startswith("webhook"):
            continue
        record["format"] = 7
        if record["type"] == "header":
            for kind in ("webhook", "webhook_event", "webhook_delivery"):
                del record["counts"][kind]
        old.append(record)
    path = tmp_path / "old.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in old))
    result = cli(runner, "import", str(path))
    assert result.exit_code == 0, result.output
    assert "personal access tokens from " in result.stdout  # no word of webhooks it has none of
    assert outbox(app) == {"webhooks": [], "webhook_events": [], "webhook_deliveries": []}


def test_secrets_another_secret_key_sealed_are_named_in_one_line(tmp_path, webhook_lines):
    other = make_app(SECRET_KEY="another-secret-key-that-is-long-enough-9876543210")
    try:
        path = tmp_path / "blog.jsonl"
        path.write_text("".join(json.dumps(record) + "\n" for record in webhook_lines))
        result = cli(other.test_cli_runner(), "import", str(path))
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith("Imported ")
        assert result.stderr == (
            "Warning: 2 webhook secrets cannot be read with this SECRET_KEY (not the exporting "
            "instance's): recreate those webhooks.\n"
        )
        assert len(outbox(other)["webhooks"]) == 2  # imported all the same
    finally:
        dispose(other)
