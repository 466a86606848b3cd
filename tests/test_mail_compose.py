"""Composing mail: the headers a mail client reads, both parts, no header injection; staging
refuses what is not one address; the development transport writes .eml files."""

from __future__ import annotations

import logging
from email.utils import parsedate_to_datetime

import pytest

from blogapi.db.mail_models import OutgoingMail
from blogapi.extensions import db
from blogapi.mail import mail_enabled
from blogapi.mail.compose import compose
from blogapi.mail.outbox import queue_mail
from blogapi.mail.sending import send_due_mail
from tests.support.apps import dispose, make_app
from tests.support.mail import eml_files, html_part, parse, text_part

ADA = "ada@example.com"


def composed(app, to=ADA, **context):
    """The test message to `to`, as a mail client parses it after SMTP serialization."""
    with app.app_context():
        message = compose("test", to, {"to_address": to, **context}, app.config)
    return parse(message.as_bytes())


def test_a_message_has_the_headers_a_mail_client_expects_and_both_parts(app):
    app.config.update(SITE_URL="https://blog.example", SITE_TITLE="Ada's <Notes>")
    app.config.update(MAIL_FROM='"Ada\'s <Notes>" <noreply@blog.example>')
    message = composed(app)
    assert message["To"].addresses[0].addr_spec == ADA
    sender = message["From"].addresses[0]
    assert (sender.display_name, sender.addr_spec) == ("Ada's <Notes>", "noreply@blog.example")
    assert message["Subject"] == "Test message from Ada's <Notes>"
    assert parsedate_to_datetime(message["Date"]).tzinfo is not None
    assert message["Message-ID"].endswith("@blog.example>")
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/alternative"
    assert "send mail to ada@example.com" in text_part(message)
    html = html_part(message)
    assert "Ada&#39;s &lt;Notes&gt;" in html and "<Notes>" not in html  # escaped
    assert '<a href="https://blog.example/"' in html


def test_a_display_name_or_subject_cannot_add_a_header(app):
    app.config["SITE_TITLE"] = "Blog\r\nBcc: x@evil.example"
    app.config["MAIL_FROM"] = "Blog\r\nBcc: y@evil.example <noreply@blog.example>"
    message = composed(app)
    assert message["Bcc"] is None and "evil" not in str(message["To"])
    assert message["Subject"] == "Test message from Blog Bcc: x@evil.example"
    assert all("\n" not in value and "\r" not in value for value in message.values())
    assert [name for name in message if name.lower() == "bcc"] == []


@pytest.mark.parametrize(
    "bad",
    [
        "ada@example.com\r\nBcc: x@evil.example",
        "ada@example.com\nBcc: x@evil.example",
        "ada@example.com, eve@evil.example",
        "Ada <ada@example.com>",
        "ada @example.com",
        "ada",
        "@example.com",
        "ada@",
        "",
        "a" * 250 + "@example.com",
    ],
)
def test_staging_refuses_anything_but_one_address(app, bad):
    with app.app_context(), pytest.raises(ValueError):
        queue_mail("test", bad, context={"to_address": "x"})
    with app.app_context():
        db.session.commit()
        assert db.session.query(OutgoingMail).count() == 0


def test_staging_refuses_an_unknown_template_and_a_context_that_is_not_json(app):
    with app.app_context():
        with pytest.raises(ValueError, match="template"):
            queue_mail("../base", ADA)
        with pytest.raises(ValueError, match="JSON"):
            queue_mail("test", ADA, context={"when": object()})


def test_a_staged_message_is_written_only_when_its_change_commits(app):
    with app.app_context():
        queue_mail("test", ADA, context={"to_address": ADA})
        db.session.rollback()
        assert send_due_mail() == 0
        queue_mail("test", ADA, user_id=None, context={"to_address": ADA})
        db.session.commit()
        assert send_due_mail() == 1


def test_without_mail_url_development_writes_eml_files_and_logs_the_subject(app, caplog):
    with app.app_context():
        queue_mail("test", ADA, context={"to_address": ADA})
        db.session.commit()
        with caplog.at_level(logging.INFO, logger="blogapi.mail"):
            assert send_due_mail() == 1
        mail = db.session.query(OutgoingMail).one()
        assert (mail.status, mail.context, mail.attempts) == ("sent", None, 1)
        assert mail.subject == "Test message from blogapi" and mail.message_id
    [message] = eml_files(app.config["MAIL_DIR"])
    assert message["Message-ID"] == mail.message_id and message["To"] == ADA
    assert "Test message from blogapi" in caplog.text


def test_mail_url_none_turns_mail_off(tmp_path):
    app = make_app(MAIL_URL="none", MAIL_DIR=str(tmp_path / "mail"))
    try:
        assert not mail_enabled(app) and not mail_enabled(app.config)
        with app.app_context():
            queue_mail("test", ADA, context={"to_address": ADA})
            db.session.commit()
            assert db.session.query(OutgoingMail).count() == 0
            assert send_due_mail() == 0
        assert not (tmp_path / "mail").exists()
    finally:
        dispose(app)
