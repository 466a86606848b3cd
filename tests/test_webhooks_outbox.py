"""The outbox: each change an integration hears about is one event row, written in the same
transaction as the change (so a change that fails leaves none), whichever path made it."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select

from blogapi.db.webhook_models import WebhookDelivery, WebhookEvent
from blogapi.extensions import db
from blogapi.timeutil import utcnow
from blogapi.webhooks.outbox import event_row
from blogapi.webhooks.relay import dispatch_due
from tests.support.apps import dispose, file_database_app, make_app
from tests.support.media import image_bytes, upload
from tests.support.micropub import personal_token
from tests.support.posts import API, new_post, publish, published_post
from tests.support.webhooks import events_of, run_worker_round, subscribe


@pytest.fixture
def app():
    """The app, allowed to deliver to the loopback receivers these tests start."""
    app = make_app(WEBHOOK_ALLOW_PRIVATE=True)
    yield app
    dispose(app)


def test_each_change_of_a_post_is_one_event(app, client, author, make_account):
    editor = make_account("editor")
    draft = new_post(client, author, title="Story")
    client.patch(f"{API}/posts/{draft['id']}", json={"title": "Draft edit"}, headers=author.headers)
    assert events_of(app) == []  # a draft is nobody's business

    post_id = draft["id"]
    assert publish(client, author, post_id).status_code == 200
    edit = client.patch(f"{API}/posts/{post_id}", json={"body": "New"}, headers=author.headers)
    assert edit.status_code == 200
    assert (
        client.post(f"{API}/posts/{post_id}/unpublish", headers=editor.headers).status_code == 200
    )
    assert publish(client, author, post_id).status_code == 200
    assert client.delete(f"{API}/posts/{post_id}", headers=author.headers).status_code == 204
    assert client.post(f"{API}/posts/{post_id}/restore", headers=author.headers).status_code == 200
    assert events_of(app) == [
        ("post.published", post_id),
        ("post.updated", post_id),
        ("post.unpublished", post_id),
        ("post.published", post_id),
        ("post.deleted", post_id),
        ("post.restored", post_id),
    ]


def test_a_change_that_fails_leaves_no_event(app, client, author):
    post = published_post(client, author, title="First")
    other = published_post(client, author, title="Second")
    before = events_of(app)
    stale = client.patch(
        f"{API}/posts/{post['id']}",
        json={"title": "Lost"},
        headers=author.headers | {"If-Match": '"stale"'},
    )
    assert stale.status_code == 412
    taken = client.patch(
        f"{API}/posts/{post['id']}", json={"slug": other["slug"]}, headers=author.headers
    )
    assert taken.status_code == 409
    assert events_of(app) == before


def test_uploads_and_micropub_posts_make_events_too(app, client, author):
    media = upload(client, author, image_bytes())
    assert media.status_code == 201
    token, _ = personal_token(client, author)
    made = client.post(
        "/micropub",
        data={"h": "entry", "content": "Hello"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert made.status_code == 201
    kinds = [kind for kind, _ in events_of(app)]
    assert kinds == ["media.created", "post.published"]


def test_a_scheduled_post_is_announced_once_when_it_goes_live(app, client, author, receiver):
    _, receiver.secret = subscribe(app, receiver.url)
    post = new_post(client, author)
    soon = datetime.now(UTC) + timedelta(seconds=1.5)
    assert publish(client, author, post["id"], at=soon).status_code == 200
    run_worker_round(app)
    assert receiver.received == []  # not yet
    time.sleep(max(0.0, (soon - datetime.now(UTC)).total_seconds()) + 0.1)
    run_worker_round(app)
    run_worker_round(app)
    [arrived] = receiver.wait_for(1, timeout=5)
    assert arrived.verified and arrived.body["type"] == "post.published"
    assert arrived.body["data"]["id"] == post["id"]
    assert arrived.body["data"]["status"] == "published"


def test_a_moved_or_undone_schedule_announces_only_what_happens(app, client, author, receiver):
    _, receiver.secret = subscribe(app, receiver.url)
    moved, undone, trashed = (
        new_post(client, author, title=t) for t in ("Moved", "Undone", "Trashed")
    )
    now = datetime.now(UTC)
    for post in (moved, undone, trashed):
        assert publish(client, author, post["id"], at=now + timedelta(seconds=1)).status_code == 200
    # Moved earlier: one announcement, at the new time, not a second at the old one.
    assert publish(client, author, moved["id"], at=now + timedelta(seconds=0.5)).status_code == 200
    assert (
        client.post(f"{API}/posts/{undone['id']}/unpublish", headers=author.headers).status_code
        == 200
    )
    assert client.delete(f"{API}/posts/{trashed['id']}", headers=author.headers).status_code == 204
    time.sleep(max(0.0, (now + timedelta(seconds=1.2) - datetime.now(UTC)).total_seconds()))
    run_worker_round(app)
    run_worker_round(app)
    announced = [r.body["data"]["id"] for r in receiver.received]
    assert announced == [moved["id"]]


def test_an_event_is_fanned_out_once_however_many_relays_race(tmp_path, receiver):
    """Four relays claim the same 40 due events at once: each makes exactly one delivery,
    and no relay fails."""
    app = file_database_app(tmp_path, WEBHOOK_ALLOW_PRIVATE=True)
    try:
        webhook_id, receiver.secret = subscribe(app, receiver.url)
        with app.app_context():
            rows = [event_row("ping", None, utcnow(), webhook_id=webhook_id) for _ in range(40)]
            db.session.execute(insert(WebhookEvent.__table__), rows)
            db.session.commit()
        start = threading.Barrier(4)
        failures: list[BaseException] = []

        def relay() -> None:
            with app.app_context():
                start.wait(timeout=10)
                try:
                    dispatch_due(utcnow())
                except BaseException as error:
                    failures.append(error)

        threads = [threading.Thread(target=relay) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert failures == []
        with app.app_context():
            undispatched = db.session.scalar(
                select(func.count())
                .select_from(WebhookEvent)
                .where(WebhookEvent.dispatched_at.is_(None))
            )
            per_event = db.session.execute(
                select(WebhookDelivery.event_id, func.count()).group_by(WebhookDelivery.event_id)
            ).all()
        assert undispatched == 0
        assert len(per_event) == 40 and {count for _, count in per_event} == {1}
    finally:
        dispose(app)
