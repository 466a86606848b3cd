"""`manage.py send-test-email ADDRESS`: sent at once through the configured server, or exit 1
with one line when it refuses, is not there, or mail is off; exit 2 for a bad address."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from devtools.live import ROOT
from tests.support.cli import assert_one_line_error, assert_usage_error, cli
from tests.support.mail import eml_files, text_part

ADA = "ada@example.com"


def test_the_test_message_goes_straight_to_the_server(app, runner, smtp_server):
    app.config["MAIL_URL"] = smtp_server.url
    result = cli(runner, "send-test-email", ADA)
    assert result.exit_code == 0, result.output
    assert f"to {ADA} via smtp://127.0.0.1:{smtp_server.port}" in result.stdout
    [message] = smtp_server.wait_for(1)
    assert message["Subject"] == "Test message from blogapi"
    assert f"send mail to {ADA}" in text_part(message)


def test_without_mail_url_the_test_message_is_a_file(app, runner):
    result = cli(runner, "send-test-email", ADA)
    assert result.exit_code == 0, result.output
    [message] = eml_files(app.config["MAIL_DIR"])
    assert message["To"] == ADA and app.config["MAIL_DIR"] in result.stdout


@pytest.mark.parametrize("answer", ["550 5.1.1 No such mailbox", "451 4.3.0 Try later"])
def test_a_refusal_is_one_line_and_exit_1(app, runner, smtp_server, answer):
    app.config["MAIL_URL"] = smtp_server.url
    smtp_server.handler.reply = answer
    assert answer in assert_one_line_error(cli(runner, "send-test-email", ADA))


def test_a_server_that_is_not_there_or_mail_off_is_exit_1(app, runner, smtp_server):
    app.config["MAIL_URL"] = smtp_server.url
    smtp_server.stop()
    assert "refused" in assert_one_line_error(cli(runner, "send-test-email", ADA)).lower()
    app.config["MAIL_URL"] = "none"
    assert "MAIL_URL=none" in assert_one_line_error(cli(runner, "send-test-email", ADA))


@pytest.mark.parametrize("bad", ["ada", "ada@example.com\r\nBcc: x@evil.example", "a@b.c, d@e.f"])
def test_a_bad_address_is_a_usage_error(runner, bad):
    assert "not one email address" in assert_usage_error(cli(runner, "send-test-email", bad))


def test_manage_py_sends_it_with_the_environments_settings(smtp_server, tmp_path):
    env = {
        **os.environ,
        "BLOGAPI_ENV": "development",
        "BLOGAPI_INSTANCE_DIR": str(tmp_path),
        "MAIL_URL": smtp_server.url,
        "MAIL_FROM": "Ada's blog <noreply@blog.example>",
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "send-test-email", ADA],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    [message] = smtp_server.wait_for(1)
    assert str(message["From"]) == "Ada's blog <noreply@blog.example>"
