"""An admin manages webhooks over the API: registers one (its secret shown once), lists,
changes and deletes them, pings one and reads its delivery log, and sends a failed delivery
again. Nobody else may, and targets inside the network are refused."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from blogapi.db.webhook_models import Webhook, WebhookAttempt, WebhookDelivery, WebhookEvent
from blogapi.extensions import db
from blogapi.security.webhook_secrets import unseal
from blogapi.webhooks.delivery import deliver
from blogapi.webhooks.relay import relay_round
from tests.support.accounts import Account, sign_up
from tests.support.apps import dispose, make_app
from tests.support.contract import ContractClient
from tests.support.logs import audit_lines
from tests.support.personal_tokens import as_app
from tests.support.posts import published_post
from tests.support.problems import assert_problem
from tests.support.webhooks import Receiver

WEBHOOKS = "/api/v1/webhooks"
# A literal public address: a name would need DNS, which a test must not depend on.
PUBLIC_URL = "https://93.184.215.14/hooks/blog"


def register(client: FlaskClient, admin: Account, **fields: Any) -> Any:
    """POST /webhooks as `admin` (a public target and one event unless given)."""
    payload = {"url": PUBLIC_URL, "events": ["post.published"]} | fields
    return client.post(WEBHOOKS, json=payload, headers=admin.headers)


def new_webhook(client: FlaskClient, admin: Account, **fields: Any) -> dict[str, Any]:
    """Register a webhook; its JSON, secret included."""
    response = register(client, admin, **fields)
    assert response.status_code == 201, response.get_json()
    made: dict[str, Any] = response.get_json()
    return made


def deliver_now(app: Flask) -> None:
    """One relay round with in-process delivery: what a worker does, synchronously."""
    with app.app_context():
        relay_round(lambda delivery_id, _when: deliver(delivery_id))


def deliveries(client: FlaskClient, admin: Account, webhook_id: int) -> dict[str, Any]:
    """GET /webhooks/{id}/deliveries, the first page."""
    response = client.get(f"{WEBHOOKS}/{webhook_id}/deliveries", headers=admin.headers)
    assert response.status_code == 200, response.get_json()
    page: dict[str, Any] = response.get_json()
    return page


@pytest.fixture
def loopback_targets(app: Flask) -> Flask:
    """The app, letting webhooks reach the loopback receiver (as the tests' receivers need)."""
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    return app


def hook_on(client: FlaskClient, admin: Account, receiver: Receiver, **fields: Any) -> int:
    """Point a new webhook at the receiver, which learns its secret; the webhook's id."""
    made = new_webhook(client, admin, url=receiver.url, **fields)
    receiver.secret = made["secret"]
    return int(made["id"])


def test_an_admin_registers_a_webhook_and_its_secret_is_shown_once(app, client, admin):
    response = register(
        client, admin, events=["post.updated", "post.published"], description="Rebuild the site"
    )
    assert response.status_code == 201
    made = response.get_json()
    assert response.headers["Location"].endswith(f"{WEBHOOKS}/{made['id']}")
    assert made["url"] == PUBLIC_URL and made["description"] == "Rebuild the site"
    assert made["events"] == ["post.published", "post.updated"]
    assert made["active"] is True and made["failing_since"] is None
    assert made["disabled_reason"] is None and made["created_at"].endswith("Z")
    secret = made["secret"]
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) >= 32

    shown = client.get(f"{WEBHOOKS}/{made['id']}", headers=admin.headers).get_json()
    assert "secret" not in shown and shown == {k: v for k, v in made.items() if k != "secret"}
    listed = client.get(WEBHOOKS, headers=admin.headers).get_json()
    assert listed == [shown]
    assert secret not in orjson.dumps(listed).decode()

    with app.app_context():
        stored = db.session.scalar(select(Webhook.secret))
    assert secret.removeprefix("whsec_") not in stored
    with app.app_context():
        assert unseal(stored) == secret  # sealed, so that the worker can sign


def test_an_admin_lists_changes_and_deletes_webhooks(client, admin):
    first = new_webhook(client, admin, description="first")
    second = new_webhook(client, admin, events=["media.created"], description="second")
    listed = client.get(WEBHOOKS, headers=admin.headers).get_json()
    assert [hook["description"] for hook in listed] == ["first", "second"]  # oldest first

    url = f"{WEBHOOKS}/{first['id']}"
    change = {"events": ["post.deleted", "post.restored"], "description": "  trash  "}
    changed = client.patch(url, json=change, headers=admin.headers)
    assert changed.status_code == 200
    assert changed.get_json()["events"] == ["post.deleted", "post.restored"]
    assert changed.get_json()["description"] == "trash"
    assert changed.get_json()["updated_at"] >= first["updated_at"]
    assert client.get(url, headers=admin.headers).get_json()["events"] == change["events"]

    off = client.patch(url, json={"active": False}, headers=admin.headers).get_json()
    assert off["active"] is False and admin.username in off["disabled_reason"]

    assert client.delete(url, headers=admin.headers).status_code == 204
    assert_problem(client.get(url, headers=admin.headers), 404)
    remaining = client.get(WEBHOOKS, headers=admin.headers).get_json()
    assert [hook["id"] for hook in remaining] == [second["id"]]


def test_only_admins_signed_in_with_a_password_manage_webhooks(client, admin, make_account):
    made = new_webhook(client, admin)
    author = make_account("author")
    robot, _token = as_app(client, admin, ["create", "update", "delete", "media"])
    item = f"{WEBHOOKS}/{made['id']}"
    calls = [
        ("GET", WEBHOOKS, None),
        ("POST", WEBHOOKS, {"url": PUBLIC_URL, "events": ["post.published"]}),
        ("GET", item, None),
        ("PATCH", item, {"active": False}),
        ("DELETE", item, None),
        ("GET", f"{item}/deliveries", None),
        ("POST", f"{item}/ping", None),
        ("POST", f"{item}/deliveries/1/redeliver", None),
    ]
    for method, path, body in calls:
        where = f"{method} {path}"
        assert_problem(client.open(path, method=method, json=body), 401)
        refused = client.open(path, method=method, json=body, headers=author.headers)
        assert "admin" in assert_problem(refused, 403)["detail"], where
        by_token = client.open(path, method=method, json=body, headers=robot.headers)
        assert "Personal access tokens" in assert_problem(by_token, 403)["detail"], where
    still = client.get(item, headers=admin.headers).get_json()
    assert still["active"] is True  # nothing above changed it


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"events": ["post.published", "post.exploded"]}, "events"),
        ({"events": ["ping"]}, "events"),
        ({"events": []}, "events"),
        ({"events": ["post.updated", "post.updated"]}, "events"),
        ({"events": "post.updated"}, "events"),
        ({"url": "not a url"}, "url"),
        ({"url": "/hooks/relative"}, "url"),
        ({"url": "ftp://93.184.215.14/hook"}, "url"),
        ({"url": "https://user:pass@93.184.215.14/hook"}, "url"),
        ({"url": "https://93.184.215.14/" + "a" * 2048}, "url"),
        ({"url": "http://127.0.0.1:8080/hook"}, "url"),
        ({"url": "http://10.0.0.1/hook"}, "url"),
        ({"url": "http://[::1]/hook"}, "url"),
        ({"url": "http://[::ffff:127.0.0.1]/hook"}, "url"),
        ({"url": "http://169.254.169.254/latest/meta-data/"}, "url"),
        ({"url": "http://0x7f000001/hook"}, "url"),
        ({"url": "http://2130706433/hook"}, "url"),
        ({"url": "http://localhost:5000/hook"}, "url"),
        ({"url": "https://hooks.example.invalid/blog"}, "url"),  # never resolves (RFC 6761)
        ({"description": "two\nlines"}, "description"),
        ({"secret": "whsec_mine"}, "secret"),
    ],
)
def test_bad_webhooks_are_refused_field_by_field(client, admin, fields, field):
    body = assert_problem(register(client, admin, **fields), 422)
    assert list(body["errors"]) == [field], body
    assert client.get(WEBHOOKS, headers=admin.headers).get_json() == []


def test_a_change_to_a_private_target_is_refused_and_changes_nothing(client, admin):
    made = new_webhook(client, admin)
    url = f"{WEBHOOKS}/{made['id']}"
    inside = {"url": "http://192.168.1.10/hook", "description": "moved"}
    body = assert_problem(client.patch(url, json=inside, headers=admin.headers), 422)
    assert list(body["errors"]) == ["url"]
    assert client.get(url, headers=admin.headers).get_json() == {
        k: v for k, v in made.items() if k != "secret"
    }


def test_unknown_webhooks_and_deliveries_are_404(client, admin):
    made = new_webhook(client, admin)
    for method, path in [
        ("GET", f"{WEBHOOKS}/999"),
        ("PATCH", f"{WEBHOOKS}/999"),
        ("DELETE", f"{WEBHOOKS}/999"),
        ("GET", f"{WEBHOOKS}/999/deliveries"),
        ("POST", f"{WEBHOOKS}/999/ping"),
        ("POST", f"{WEBHOOKS}/999/deliveries/1/redeliver"),
        ("POST", f"{WEBHOOKS}/{made['id']}/deliveries/1/redeliver"),
        ("GET", f"{WEBHOOKS}/0"),
        ("GET", f"{WEBHOOKS}/abc"),
    ]:
        body = {} if method == "PATCH" else None
        response = client.open(path, method=method, json=body, headers=admin.headers)
        assert response.status_code == 404, f"{method} {path}"
        assert_problem(response)


def test_fifty_webhooks_are_enough(client, admin):
    for n in range(50):
        new_webhook(client, admin, description=f"hook {n}")
    body = assert_problem(register(client, admin), 409)
    assert "50" in body["detail"]


def test_a_ping_reaches_the_receiver_signed(loopback_targets, client, admin, receiver):
    webhook_id = hook_on(client, admin, receiver)
    sent = client.post(f"{WEBHOOKS}/{webhook_id}/ping", headers=admin.headers)
    assert sent.status_code == 202
    assert sent.get_json()["webhook_id"] == webhook_id
    event_id = sent.get_json()["event_id"]
    assert event_id.startswith("msg_")
    deliver_now(loopback_targets)
    [ping] = receiver.wait_for(1, timeout=10)
    assert ping.verified and ping.msg_id == event_id
    assert ping.body["type"] == "ping" and ping.body["data"]["webhook_id"] == webhook_id


def test_a_delivery_is_redelivered_only_through_its_own_webhook(
    loopback_targets, client, admin, receiver
):
    pinged = hook_on(client, admin, receiver)
    other = new_webhook(client, admin, url=receiver.url)["id"]
    client.post(f"{WEBHOOKS}/{pinged}/ping", headers=admin.headers)
    deliver_now(loopback_targets)
    receiver.wait_for(1, timeout=10)
    [logged] = deliveries(client, admin, pinged)["items"]
    assert deliveries(client, admin, other)["items"] == []
    elsewhere = f"{WEBHOOKS}/{other}/deliveries/{logged['id']}/redeliver"
    assert_problem(client.post(elsewhere, headers=admin.headers), 404)
    own = f"{WEBHOOKS}/{pinged}/deliveries/{logged['id']}/redeliver"
    assert client.post(own, headers=admin.headers).status_code == 202


def test_a_published_post_is_delivered_and_logged(loopback_targets, client, admin, receiver):
    webhook_id = hook_on(client, admin, receiver, events=["post.published"])
    post = published_post(client, admin, title="Hello, hooks")
    deliver_now(loopback_targets)
    [delivery] = receiver.wait_for(1, timeout=10)
    assert delivery.verified and delivery.body["type"] == "post.published"
    assert delivery.body["data"]["id"] == post["id"]
    assert delivery.body["data"]["title"] == "Hello, hooks"

    page = deliveries(client, admin, webhook_id)
    assert page["meta"]["total"] == 1
    [logged] = page["items"]
    assert logged["event_id"] == delivery.msg_id and logged["event"] == "post.published"
    assert logged["attempt"] == 1 and logged["status_code"] == 200 and logged["error"] is None
    assert isinstance(logged["duration_ms"], int) and logged["duration_ms"] >= 0
    assert logged["next_attempt_at"] is None and logged["created_at"].endswith("Z")


def test_a_failed_delivery_is_sent_again_with_the_same_id(
    loopback_targets, client, admin, receiver
):
    receiver.fail_first = 1
    webhook_id = hook_on(client, admin, receiver)
    published_post(client, admin)
    deliver_now(loopback_targets)
    [failed] = receiver.wait_for(1, timeout=10)
    [logged] = deliveries(client, admin, webhook_id)["items"]
    assert logged["status_code"] == 500 and logged["next_attempt_at"] is not None

    url = f"{WEBHOOKS}/{webhook_id}/deliveries/{logged['id']}/redeliver"
    again = client.post(url, headers=admin.headers)
    assert again.status_code == 202
    assert again.get_json() == {
        "event_id": failed.msg_id,
        "webhook_id": webhook_id,
        "state": "pending",
    }
    deliver_now(loopback_targets)  # the retry itself is not due for seconds yet
    first, second = receiver.wait_for(2, timeout=10)
    assert first.msg_id == second.msg_id == failed.msg_id and second.verified
    log = deliveries(client, admin, webhook_id)["items"]
    assert [(d["attempt"], d["status_code"]) for d in log] == [(2, 200), (1, 500)]  # newest first
    assert {d["event_id"] for d in log} == {failed.msg_id}


def test_a_webhook_turned_off_by_410_must_be_turned_on_before_redelivery(
    loopback_targets, client, admin, receiver
):
    receiver.status = 410
    webhook_id = hook_on(client, admin, receiver)
    url = f"{WEBHOOKS}/{webhook_id}"
    client.post(f"{url}/ping", headers=admin.headers)
    deliver_now(loopback_targets)
    receiver.wait_for(1, timeout=10)
    gone = client.get(url, headers=admin.headers).get_json()
    assert gone["active"] is False and "410" in gone["disabled_reason"]
    assert gone["failing_since"] is not None

    [logged] = deliveries(client, admin, webhook_id)["items"]
    redeliver = f"{url}/deliveries/{logged['id']}/redeliver"
    body = assert_problem(client.post(redeliver, headers=admin.headers), 409)
    assert "turn it on first" in body["detail"]

    back = client.patch(url, json={"active": True}, headers=admin.headers).get_json()
    assert back["active"] is True
    assert back["failing_since"] is None and back["disabled_reason"] is None
    receiver.status = 200
    assert client.post(redeliver, headers=admin.headers).status_code == 202
    deliver_now(loopback_targets)
    receiver.wait_for(2, timeout=10)
    assert client.get(url, headers=admin.headers).get_json()["active"] is True


def test_deleting_a_webhook_takes_its_deliveries_and_log(loopback_targets, client, admin, receiver):
    webhook_id = hook_on(client, admin, receiver)
    client.post(f"{WEBHOOKS}/{webhook_id}/ping", headers=admin.headers)
    deliver_now(loopback_targets)
    receiver.wait_for(1, timeout=10)
    assert client.delete(f"{WEBHOOKS}/{webhook_id}", headers=admin.headers).status_code == 204
    with loopback_targets.app_context():
        for model in (WebhookAttempt, WebhookDelivery, WebhookEvent):
            left = select(func.count()).select_from(model)
            assert db.session.scalar(left) == 0, model.__name__


def test_webhook_changes_are_audited_without_the_secret(client, admin, caplog):
    caplog.set_level("INFO", logger="blogapi.audit")
    made = new_webhook(client, admin, url="https://93.184.215.14/hooks/T0/B0/credential")
    url = f"{WEBHOOKS}/{made['id']}"
    client.patch(url, json={"description": "renamed"}, headers=admin.headers)
    client.delete(url, headers=admin.headers)
    lines = audit_lines(caplog)
    names = [line["event"] for line in lines if line["event"].startswith("webhook_")]
    assert names == ["webhook_created", "webhook_changed", "webhook_deleted"]
    for line in lines:
        if line["event"].startswith("webhook_"):
            assert line["webhook_id"] == made["id"] and line["user"] == admin.username
    logged = caplog.text
    assert made["secret"] not in logged and made["secret"].removeprefix("whsec_") not in logged
    assert "credential" not in logged  # a receiver's URL may hold its own secret


def test_webhook_writes_are_rate_limited_per_admin():
    app = make_app(RATELIMIT_ENABLED=True, POST_WRITE_RATE_LIMIT="3 per minute")
    try:
        client = app.test_client()
        admin = sign_up(client, app, "ratedadmin", "admin")
        for _ in range(3):
            assert register(client, admin).status_code == 201
        limited = register(client, admin)
        assert_problem(limited, 429)
        assert int(limited.headers["Retry-After"]) >= 1
        assert client.get(WEBHOOKS, headers=admin.headers).status_code == 200  # reads are not
    finally:
        dispose(app)


def test_with_testing_off_webhook_errors_are_still_problems():
    app = make_app(testing=False)
    try:
        assert not app.testing
        client = app.test_client()
        admin = sign_up(client, app, "prodadmin", "admin")
        author = sign_up(client, app, "prodauthor", "author")
        assert_problem(client.get(WEBHOOKS), 401)
        assert_problem(client.get(WEBHOOKS, headers=author.headers), 403)
        assert_problem(register(client, admin, events=["nope"]), 422)
        assert_problem(register(client, admin, url="http://127.0.0.1/"), 422)
        raw = {**admin.headers, "Content-Type": "application/json"}
        bad = client.post(WEBHOOKS, data="{", headers=raw)
        assert_problem(bad, 400)
        assert_problem(client.get(f"{WEBHOOKS}/5", headers=admin.headers), 404)
        made = new_webhook(client, admin)
        assert made["secret"].startswith("whsec_")
        ping = client.post(f"{WEBHOOKS}/{made['id']}/ping", headers=admin.headers)
        assert ping.status_code == 202
    finally:
        dispose(app)


def test_every_webhook_reply_matches_the_document(
    loopback_targets, client, admin, make_account, receiver
):
    document = client.get("/api/v1/openapi.json").get_json()
    api = ContractClient(loopback_targets, client, document)
    author = make_account("author")
    as_admin = {"headers": admin.headers}
    made = api.call(
        "POST", WEBHOOKS, json={"url": receiver.url, "events": ["post.updated"]}, **as_admin
    )
    receiver.secret = made.get_json()["secret"]
    item = f"{WEBHOOKS}/{made.get_json()['id']}"
    api.call("GET", WEBHOOKS, **as_admin)
    api.call("GET", item, **as_admin)
    api.call("PATCH", item, json={"description": "checked"}, **as_admin)
    api.call("POST", f"{item}/ping", **as_admin)
    deliver_now(loopback_targets)
    receiver.wait_for(1, timeout=10)
    attempt_id = api.call("GET", f"{item}/deliveries", **as_admin).get_json()["items"][0]["id"]
    api.call("POST", f"{item}/deliveries/{attempt_id}/redeliver", **as_admin)
    api.call("POST", WEBHOOKS, json={"url": "http://[::1]/", "events": ["x"]}, **as_admin)
    api.call("GET", WEBHOOKS)
    api.call("GET", WEBHOOKS, headers=author.headers)
    api.call("PATCH", item, json={"active": False}, **as_admin)
    api.call("POST", f"{item}/deliveries/{attempt_id}/redeliver", **as_admin)
    api.call("DELETE", item, **as_admin)
    api.call("GET", f"{item}/deliveries", **as_admin)
    statuses = {status for _operation, _method, status in api.checked}
    assert statuses == {200, 201, 202, 204, 401, 403, 404, 409, 422}
