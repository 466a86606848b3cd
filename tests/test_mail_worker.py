"""Mail in `manage.py worker`: the relay thread claims due messages and the queue's jobs send
them; a job that comes late, after its lease ran out and another worker took the message,
sends nothing; and the real worker process retries a server that is down until it is back."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from huey import MemoryHuey

from blogapi.db.mail_models import OutgoingMail
from blogapi.extensions import db
from blogapi.mail.outbox import queue_mail
from blogapi.mail.sending import claim_due
from blogapi.mail.worker import send_job
from blogapi.observability.request_ids import request_id_bound
from blogapi.timeutil import utcnow
from blogapi.webhooks.queue import bind_tasks
from blogapi.webhooks.worker import Relay
from devtools.live import LiveWorker, fresh_database_url, migrate, production_env
from tests.support.apps import app_on, dispose, file_database_app

ADA = "ada@example.com"


def stage(app, count: int, request_id: str | None = None) -> None:
    """Stage `count` test messages, as a request with `request_id` would."""
    with app.app_context(), request_id_bound(request_id):
        for _ in range(count):
            queue_mail("test", ADA, context={"to_address": ADA})
        db.session.commit()


@pytest.fixture
def worker_app(tmp_path, smtp_server):
    """An app on a database threads can share, sending to the test SMTP server."""
    app = file_database_app(tmp_path, MAIL_URL=smtp_server.url)
    yield app
    dispose(app)


def test_the_relay_claims_due_mail_and_the_queue_jobs_send_it_once(worker_app, smtp_server):
    stage(worker_app, 3)
    huey = MemoryHuey("blogapi", immediate=False)
    relay = Relay(worker_app, bind_tasks(worker_app, huey), poll=0.05)
    relay.start()
    try:
        deadline = time.monotonic() + 10
        while huey.pending_count() < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.3)  # more rounds: each message stays claimed, so no second job
    finally:
        relay.stop()
        relay.join()
    jobs = [huey.dequeue() for _ in range(huey.pending_count())]
    assert len(jobs) == 3 and {job.name for job in jobs} == {"mail.send"}
    for job in jobs + jobs:  # a job run twice (a redelivered queue message) sends once
        huey.execute(job)
    assert len(smtp_server.wait_for(3)) == 3
    time.sleep(0.2)
    assert len(smtp_server.messages) == 3


def test_a_job_whose_lease_was_taken_over_sends_nothing(worker_app, smtp_server):
    stage(worker_app, 1)
    with worker_app.app_context():
        [(mail_id, first_lease)] = claim_due(utcnow(), 10)
        # Its worker died; the lease ran out, and another worker claimed the message.
        [(_, second_lease)] = claim_due(utcnow() + timedelta(minutes=10), 10)
        assert send_job(mail_id, first_lease) is None
        assert smtp_server.messages == []
        assert send_job(mail_id, second_lease) == "sent"
        assert db.session.get(OutgoingMail, mail_id).attempts == 1
    assert len(smtp_server.wait_for(1)) == 1


@pytest.mark.slow
@pytest.mark.database_agnostic
def test_the_worker_process_retries_a_server_that_is_down_and_sends_once_it_is_back(
    tmp_path, smtp_server
):
    instance = tmp_path / "instance"
    instance.mkdir()
    env = production_env(
        fresh_database_url(tmp_path),
        BLOGAPI_INSTANCE_DIR=str(instance),
        MAIL_URL=smtp_server.url,
    )
    migrate(env)
    smtp_server.stop()
    app = app_on(env["DATABASE_URL"])
    try:
        stage(app, 2, request_id="req-mail-story")
        log_path = tmp_path / "worker.log"
        with LiveWorker(env, log_path=log_path):
            with app.app_context():
                # Until the worker has tried both and noted why each failed: its log shows the
                # first refusal before it tries the second, and a claim counts the attempt
                # before the send fails.
                deadline = time.monotonic() + 30
                while True:
                    db.session.rollback()  # a new read: what the worker has written since
                    rows = db.session.query(OutgoingMail).all()
                    if all(row.last_error for row in rows) or time.monotonic() > deadline:
                        break
                    time.sleep(0.1)
                assert {row.status for row in rows} == {"pending"}
                assert all(row.attempts >= 1 and "refused" in row.last_error for row in rows)
            smtp_server.start()
            assert len(smtp_server.wait_for(2, timeout=30)) == 2
            time.sleep(1.0)  # a duplicate would have come by now
        assert len(smtp_server.messages) == 2
        with app.app_context():
            db.session.expire_all()
            assert {row.status for row in db.session.query(OutgoingMail)} == {"sent"}
        lines = [json.loads(line) for line in log_path.read_text().splitlines() if line[:1] == "{"]
        attempts = [line for line in lines if line["message"].startswith("mail: attempt")]
        assert attempts and {line.get("request_id") for line in attempts} == {"req-mail-story"}
    finally:
        dispose(app)
