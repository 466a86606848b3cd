"""Sending through a real SMTP server (aiosmtpd on 127.0.0.1): a message arrives once; a
server that answers 4xx or is not there makes the round retry until it is back; a 5xx fails
the message; two rounds at once never send one message twice; a preparer's context is made
once and kept for every retry."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from blogapi.db.mail_models import OutgoingMail
from blogapi.extensions import db
from blogapi.mail import kinds
from blogapi.mail.outbox import queue_mail
from blogapi.mail.sending import RETRY_DELAYS, send_due_mail
from blogapi.timeutil import utcnow
from tests.support.apps import dispose, file_database_app
from tests.support.mail import text_part

ADA = "ada@example.com"


@pytest.fixture
def mail_app(app, smtp_server):
    """The app under test sending to the test SMTP server."""
    app.config["MAIL_URL"] = smtp_server.url
    return app


def stage(app, count=1, to=ADA, **context):
    """Stage `count` test messages and commit them."""
    with app.app_context():
        for _ in range(count):
            queue_mail("test", to, context={"to_address": to, **context})
        db.session.commit()


def outbox(app):
    """Every outbox row, oldest first."""
    with app.app_context():
        rows = db.session.query(OutgoingMail).order_by(OutgoingMail.id).all()
        db.session.expunge_all()
        return rows


def later(seconds: float):
    """A time that far from now."""
    return utcnow() + timedelta(seconds=seconds)


def test_a_staged_message_arrives_through_smtp_once(mail_app, smtp_server):
    stage(mail_app)
    with mail_app.app_context():
        assert send_due_mail() == 1
        assert send_due_mail(later(3600)) == 0  # nothing is sent twice
    [message] = smtp_server.messages
    assert smtp_server.handler.received[0].rcpt_tos == [ADA]
    assert message["Auto-Submitted"] == "auto-generated"
    assert "send mail to ada@example.com" in text_part(message)
    [row] = outbox(mail_app)
    assert (row.status, row.attempts, row.context, row.leased_until) == ("sent", 1, None, None)
    assert row.message_id == message["Message-ID"] and row.sent_at is not None


def test_a_4xx_answer_retries_until_the_server_takes_it_exactly_once(mail_app, smtp_server):
    smtp_server.handler.reply = "451 4.3.0 Try again later"
    stage(mail_app)
    with mail_app.app_context():
        assert send_due_mail() == 0
        [row] = outbox(mail_app)
        assert (row.status, row.attempts) == ("pending", 1)
        assert "451" in row.last_error and row.context is not None
        assert send_due_mail() == 0  # not due again yet: backoff
        assert row.due_at > utcnow() + timedelta(seconds=RETRY_DELAYS[0] * 0.7)
        assert send_due_mail(later(10)) == 0  # still 451
        smtp_server.handler.reply = None
        assert send_due_mail(later(10)) == 0  # the second retry waits longer
        assert send_due_mail(later(200)) == 1
        assert send_due_mail(later(100_000)) == 0
    assert len(smtp_server.messages) == 1
    [row] = outbox(mail_app)
    assert (row.status, row.attempts, row.last_error, row.context) == ("sent", 3, None, None)


def test_a_server_that_is_not_there_is_retried_and_the_message_arrives_once_back(
    mail_app, smtp_server
):
    smtp_server.stop()
    stage(mail_app, 2)
    with mail_app.app_context():
        assert send_due_mail() == 0
        rows = outbox(mail_app)
        assert [r.status for r in rows] == ["pending", "pending"]
        assert all("refused" in r.last_error.lower() for r in rows)
        smtp_server.start()
        assert send_due_mail(later(10)) == 2
        assert send_due_mail(later(100_000)) == 0
    assert len(smtp_server.wait_for(2)) == 2


def test_a_5xx_answer_fails_the_message_for_good(mail_app, smtp_server):
    smtp_server.handler.reply = "550 5.1.1 No such mailbox"
    stage(mail_app)
    with mail_app.app_context():
        assert send_due_mail() == 0
        assert send_due_mail(later(100_000)) == 0
    [row] = outbox(mail_app)
    assert (row.status, row.attempts, row.context) == ("failed", 1, None)
    assert "550" in row.last_error


def test_retries_end_after_about_a_day(mail_app, smtp_server):
    smtp_server.handler.reply = "421 4.7.0 Busy"
    stage(mail_app)
    when = utcnow()
    with mail_app.app_context():
        for _ in range(len(RETRY_DELAYS) + 1):
            send_due_mail(when)
            when += timedelta(days=1)
    [row] = outbox(mail_app)
    assert (row.status, row.attempts, row.context) == ("failed", len(RETRY_DELAYS) + 1, None)
    assert 0.8 * 86400 < sum(RETRY_DELAYS) < 1.2 * 86400


def test_a_preparer_fills_the_context_once_and_every_retry_sends_the_same(
    mail_app, smtp_server, monkeypatch
):
    made = []

    def prepare(mail):
        made.append(mail.id)
        return {"to_address": f"{mail.to_address} (token {len(made)})"}

    monkeypatch.setitem(kinds.PREPARERS, "test", prepare)
    smtp_server.handler.reply = "451 4.3.0 Later"
    with mail_app.app_context():
        queue_mail("test", ADA)
        db.session.commit()
        send_due_mail()
        smtp_server.handler.reply = None
        assert send_due_mail(later(60)) == 1
    assert made == [1]
    assert "(token 1)" in text_part(smtp_server.messages[0])
    assert outbox(mail_app)[0].context is None  # the token is not kept once sent


def test_a_preparer_that_returns_none_skips_the_message(mail_app, smtp_server, monkeypatch):
    monkeypatch.setitem(kinds.PREPARERS, "test", lambda mail: None)
    stage(mail_app)
    with mail_app.app_context():
        assert send_due_mail() == 0
    [row] = outbox(mail_app)
    assert (row.status, row.context, row.sent_at) == ("skipped", None, None)
    assert smtp_server.messages == []


def test_a_preparer_that_fails_is_retried_later(mail_app, smtp_server, monkeypatch):
    def broken(mail):
        raise RuntimeError("the database hiccupped")

    monkeypatch.setitem(kinds.PREPARERS, "test", broken)
    stage(mail_app)
    with mail_app.app_context():
        assert send_due_mail() == 0
        [row] = outbox(mail_app)
        assert row.status == "pending" and "hiccupped" in row.last_error
        monkeypatch.setitem(kinds.PREPARERS, "test", lambda mail: {"to_address": ADA})
        assert send_due_mail(later(60)) == 1


def test_two_rounds_at_once_never_send_a_message_twice(tmp_path, smtp_server):
    app = file_database_app(tmp_path, MAIL_URL=smtp_server.url)
    try:
        stage(app, 20)
        start = threading.Barrier(2)
        counts = []

        def round_() -> None:
            with app.app_context():
                start.wait()
                counts.append(send_due_mail())

        threads = [threading.Thread(target=round_) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sum(counts) == 20
        ids = [message["Message-ID"] for message in smtp_server.wait_for(20)]
        assert len(ids) == len(set(ids)) == 20
        assert {row.attempts for row in outbox(app)} == {1}
    finally:
        dispose(app)


def test_a_message_held_by_another_worker_waits_for_its_lease(mail_app, smtp_server):
    stage(mail_app)
    with mail_app.app_context():
        db.session.query(OutgoingMail).update({"leased_until": later(30)})
        db.session.commit()
        assert send_due_mail() == 0
        assert send_due_mail(later(31)) == 1  # its worker died: the lease ran out
    assert len(smtp_server.messages) == 1
