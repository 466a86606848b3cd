"""Delivering an event: signed as Standard Webhooks (checked by the reference library), retried
with the same webhook-id, logged attempt by attempt, one worker at a time, and a webhook that
keeps failing (or answers 410) turned off."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from blogapi.db.webhook_models import Webhook, WebhookAttempt, WebhookDelivery, WebhookEvent
from blogapi.extensions import db
from blogapi.security.webhook_secrets import UnreadableSecret, new_secret, seal, unseal
from blogapi.timeutil import utcnow
from blogapi.webhooks.delivery import DIED, claim, deliver
from blogapi.webhooks.maintenance import prune
from blogapi.webhooks.relay import dispatch_due, enqueue_ready, sweep_lost
from tests.support.accounts import sign_up
from tests.support.apps import dispose, make_app
from tests.support.posts import published_post
from tests.support.webhooks import run_worker_round, subscribe

DELAYS = (0.2, 0.2)


@pytest.fixture
def app():
    """The app, allowed to deliver to loopback receivers, retrying after 0.2 s, twice."""
    app = make_app(WEBHOOK_ALLOW_PRIVATE=True, WEBHOOK_RETRY_DELAYS=DELAYS)
    yield app
    dispose(app)


def attempts_of(app, webhook_id):
    """The log of a webhook, oldest first, as (attempt, status, error, next_attempt_at)."""
    with app.app_context():
        rows = db.session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.webhook_id == webhook_id)
            .order_by(WebhookAttempt.id)
        )
        return [(a.attempt, a.status_code, a.error, a.next_attempt_at) for a in rows]


def delivery_states(app):
    """Every delivery's state and attempt count."""
    with app.app_context():
        return [(d.state, d.attempts) for d in db.session.scalars(select(WebhookDelivery))]


def rounds_until_quiet(app, limit=20):
    """Relay rounds, waiting out the retry delays, until nothing is pending."""
    for _ in range(limit):
        run_worker_round(app)
        if all(state != "pending" for state, _ in delivery_states(app)):
            return
        time.sleep(max(DELAYS) * 1.25)
    raise AssertionError(f"still pending: {delivery_states(app)}")


def webhook(app, webhook_id):
    """The webhook row as stored now."""
    with app.app_context():
        return db.session.get_one(Webhook, webhook_id, populate_existing=True)


def test_a_delivery_is_signed_and_carries_the_post(app, client, author, receiver):
    _, receiver.secret = subscribe(app, receiver.url)
    post = published_post(client, author, title="Signed", tags=["news"])
    assert run_worker_round(app) == 1
    [arrived] = receiver.received
    assert arrived.verified
    with app.app_context():
        event = db.session.scalars(select(WebhookEvent)).one()
    assert arrived.msg_id == event.uid and arrived.msg_id.startswith("msg_")
    assert abs(int(arrived.headers["webhook-timestamp"]) - time.time()) < 60
    assert arrived.headers["content-type"] == "application/json"
    assert arrived.body["type"] == "post.published"
    assert arrived.body["data"] | {"deleted": False} == post | {"deleted": False}


def test_failures_are_retried_with_the_same_id_and_each_attempt_is_logged(
    app, client, author, receiver
):
    receiver.fail_first = 2
    webhook_id, receiver.secret = subscribe(app, receiver.url)
    published_post(client, author)
    rounds_until_quiet(app)
    assert len(set(receiver.ids())) == 1 and len(receiver.ids()) == 3
    log = attempts_of(app, webhook_id)
    assert [(n, status) for n, status, _, _ in log] == [(1, 500), (2, 500), (3, 200)]
    assert all(next_at is not None for _, _, _, next_at in log[:2]) and log[2][3] is None
    assert log[0][2] == "The receiver answered 500."
    assert delivery_states(app) == [("delivered", 3)]
    assert webhook(app, webhook_id).failing_since is None


def test_a_delivery_fails_for_good_after_the_last_retry(app, client, author, receiver):
    receiver.status = 503
    webhook_id, receiver.secret = subscribe(app, receiver.url)
    published_post(client, author)
    rounds_until_quiet(app)
    assert delivery_states(app) == [("failed", len(DELAYS) + 1)]
    assert len(receiver.received) == len(DELAYS) + 1
    hook = webhook(app, webhook_id)
    assert hook.active and hook.failing_since is not None  # days, not attempts, turn it off


def test_410_gone_turns_the_webhook_off(app, client, author, receiver):
    receiver.status = 410
    webhook_id, receiver.secret = subscribe(app, receiver.url)
    published_post(client, author)
    rounds_until_quiet(app)
    hook = webhook(app, webhook_id)
    assert not hook.active and "410" in (hook.disabled_reason or "")
    assert len(receiver.received) == 1
    published_post(client, author, title="Later")
    rounds_until_quiet(app)
    assert len(receiver.received) == 1  # nothing more is sent to it


def test_failing_for_days_turns_the_webhook_off(app, client, author, receiver):
    receiver.status = 500
    webhook_id, receiver.secret = subscribe(app, receiver.url)
    with app.app_context():
        days = app.config["WEBHOOK_DISABLE_AFTER_DAYS"]
        db.session.execute(
            update(Webhook)
            .where(Webhook.id == webhook_id)
            .values(failing_since=utcnow() - timedelta(days=days, minutes=1))
        )
        db.session.commit()
    published_post(client, author)
    run_worker_round(app)
    hook = webhook(app, webhook_id)
    assert not hook.active and f"{days} days" in (hook.disabled_reason or "")
    assert delivery_states(app) == [("failed", 1)]


def test_one_worker_at_a_time_sends_a_delivery(app, client, author, receiver):
    """A second job for the same delivery (a duplicate from the sweeper) sends nothing."""
    _, receiver.secret = subscribe(app, receiver.url)
    published_post(client, author)
    with app.app_context():
        dispatch_due(utcnow())
        delivery_id = db.session.scalars(select(WebhookDelivery.id)).one()
        assert claim(delivery_id, utcnow())  # a worker holds it…
        db.session.commit()
        assert deliver(delivery_id) is None  # …so another one backs off
        db.session.execute(
            update(WebhookDelivery).values(leased_until=None, attempts=0)
        )  # (as if the first finished its attempt without sending)
        db.session.commit()
        assert deliver(delivery_id) is not None
        assert deliver(delivery_id) is None  # delivered: a late duplicate job does nothing
    assert len(receiver.received) == 1


def test_a_worker_that_dies_mid_attempt_is_replaced_and_the_log_says_so(
    app, client, author, receiver
):
    webhook_id, receiver.secret = subscribe(app, receiver.url)
    published_post(client, author)
    with app.app_context():
        dispatch_due(utcnow())
        enqueue_ready(lambda _id, _when: None)  # queued, and the job is then lost
        delivery_id = db.session.scalars(select(WebhookDelivery.id)).one()
        # A worker claimed it and logged its attempt, then died (SIGKILL) before sending.
        assert claim(delivery_id, utcnow())
        db.session.add(
            WebhookAttempt(
                delivery_id=delivery_id,
                webhook_id=webhook_id,
                event_uid="msg_x",
                event_type="post.published",
                attempt=1,
            )
        )
        db.session.commit()
        assert sweep_lost(utcnow()) == 0  # the lease still holds
        later = utcnow() + timedelta(minutes=2)
        assert sweep_lost(later) == 1  # lease and grace both passed: the job is lost
        db.session.execute(
            update(WebhookDelivery).values(
                leased_until=utcnow() - timedelta(seconds=1),
                next_attempt_at=utcnow() - timedelta(minutes=2),
            )
        )
        db.session.commit()
    run_worker_round(app)
    assert len(receiver.received) == 1 and receiver.received[0].verified
    log = attempts_of(app, webhook_id)
    assert [(n, status, error) for n, status, error, _ in log] == [
        (1, None, DIED),
        (2, 200, None),
    ]


def test_a_secret_sealed_with_another_key_is_an_error_not_a_crash(app, client, author, receiver):
    webhook_id, _ = subscribe(app, receiver.url)
    with app.app_context():
        sealed = seal(new_secret(), "another-secret-key-that-is-long-enough-0123456789")
        db.session.execute(update(Webhook).values(secret=sealed))
        db.session.commit()
    published_post(client, author)
    run_worker_round(app)
    assert receiver.received == []
    [(_, status, error, next_at)] = attempts_of(app, webhook_id)
    assert status is None and "SECRET_KEY" in (error or "") and next_at is not None


def test_secrets_are_256_bits_and_sealed_at_rest(app):
    secret = new_secret()
    assert secret.startswith("whsec_") and len(secret) >= len("whsec_") + 43
    with app.app_context():
        stored = seal(secret)
        assert secret.removeprefix("whsec_") not in stored and unseal(stored) == secret
        with pytest.raises(UnreadableSecret):
            unseal(stored, "another-secret-key-that-is-long-enough-0123456789")


def test_delivery_refuses_private_addresses_unless_allowed(receiver):
    app = make_app(WEBHOOK_ALLOW_PRIVATE=False)
    try:
        webhook_id, receiver.secret = subscribe(app, receiver.url)
        client = app.test_client()
        writer = sign_up(client, app, "guarded")
        published_post(client, writer)
        run_worker_round(app)
        assert receiver.received == []
        [(_, status, error, _)] = attempts_of(app, webhook_id)
        assert status is None and "not a public address" in (error or "")
    finally:
        dispose(app)


def test_redirects_are_not_followed(app, client, author, receiver):
    receiver.status = 302
    webhook_id, receiver.secret = subscribe(app, receiver.url)
    published_post(client, author)
    run_worker_round(app)
    [(_, status, error, _)] = attempts_of(app, webhook_id)
    assert status == 302 and "Redirects are not followed" in (error or "")
    assert len(receiver.received) == 1


def test_the_log_and_finished_events_are_pruned_after_30_days(app, client, author, receiver):
    _, receiver.secret = subscribe(app, receiver.url)
    published_post(client, author)
    run_worker_round(app)
    with app.app_context():
        assert prune(utcnow()) == (0, 0)
        assert prune(utcnow() + timedelta(days=31)) == (1, 1)
        assert db.session.scalars(select(WebhookDelivery)).all() == []
