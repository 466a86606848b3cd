"""An admin sees the webhooks from the shell, with what waits to be delivered, and runs the
worker (its whole life under gunicorn is in tests/test_webhooks_live.py)."""

from __future__ import annotations

import json

from blogapi.timeutil import utcnow
from blogapi.webhooks.relay import dispatch_due
from tests.support.cli import cli
from tests.support.posts import published_post
from tests.support.webhooks import subscribe

HOOK = "https://hooks.example.com/blog"


def test_webhooks_list_shows_each_webhook_and_its_pending_deliveries(app, runner, client, author):
    assert cli(runner, "webhooks", "list").stdout == "No webhooks.\n"
    subscribe(app, HOOK, "post.published")
    subscribe(
        app,
        "https://chat.example.com/x",
        "media.created",
        active=False,
        disabled_reason="The receiver answered 410 Gone.",
    )
    published_post(client, author)
    with app.app_context():
        dispatch_due(utcnow())  # fanned out, not yet sent
    listed = cli(runner, "webhooks", "list")
    assert listed.exit_code == 0
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["ID", "URL", "EVENTS", "ACTIVE", "PENDING", "FAILING", "SINCE"]
    assert lines[1].split()[:5] == ["1", HOOK, "post.published", "yes", "1"]
    assert "no (The receiver answered 410 Gone.)" in lines[2]

    rows = [
        json.loads(line) for line in cli(runner, "webhooks", "list", "--json").stdout.splitlines()
    ]
    assert [(r["id"], r["active"], r["pending"]) for r in rows] == [(1, True, 1), (2, False, 0)]
    assert rows[0]["failing_since"] is None and "secret" not in rows[0]


def test_worker_refuses_bad_arguments_with_a_usage_error(runner):
    assert cli(runner, "worker", "--workers", "0").exit_code == 2
    assert cli(runner, "worker", "--poll", "0").exit_code == 2
    assert "Deliver webhooks" in cli(runner, "worker", "--help").stdout
