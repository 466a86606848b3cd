"""Accounts by email as a deployment runs them: gunicorn in production mode and `manage.py
worker` sending through a real SMTP server (aiosmtpd) on loopback. Each flow goes over HTTP
from the request to the message, and from the message's link back to the site. The module
runs in both passes: on SQLite with the queue in the instance folder, and on PostgreSQL with
the queue and the rate limits' counters in a Redis of its own."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import orjson
import pytest
import requests

from devtools.binaries import ensure_redis_installed
from devtools.live import OPEN_REGISTRATION, LiveServer, LiveWorker, fresh_database_url, migrate
from devtools.live import production_env as base_env
from devtools.redis_server import RedisServer
from tests.support.accounts import PASSWORD, bearer
from tests.support.live import eventually
from tests.support.mail import SmtpServer, first_link, start_smtp_server, text_part, token_of
from tests.support.prerequisites import unavailable
from tests.support.site import BROWSER

pytestmark = pytest.mark.slow

TIMEOUT = 30  # seconds for any one HTTP call
MAIL_WAIT = 20  # seconds for a message to come through the worker
SETTLE = 2.0  # seconds a duplicate would have had to show up (the relay looks 5 times a second)
NEW_PASSWORD = "a brand new passphrase"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Deployment:
    """One instance, its worker and the SMTP server its mail goes to."""

    server: LiveServer
    smtp: SmtpServer
    workdir: Path
    queue: str  # where the job queue lives: "sqlite" or "redis"

    @property
    def api(self) -> str:
        """The API's base URL."""
        return self.server.api

    def sign_up(self, username: str) -> dict[str, Any]:
        """Register over HTTP (open registration) and log in; the token pair."""
        body = {"username": username, "email": f"{username}@example.com", "password": PASSWORD}
        registered = requests.post(f"{self.api}/auth/register", json=body, timeout=TIMEOUT)
        assert registered.status_code == 201, registered.text
        return self.log_in(username)

    def log_in(self, username: str, password: str = PASSWORD) -> dict[str, Any]:
        """A token pair for the account (200 asserted)."""
        answer = self.try_login(username, password)
        assert answer.status_code == 200, answer.text
        pair: dict[str, Any] = answer.json()
        return pair

    def try_login(self, username: str, password: str = PASSWORD) -> requests.Response:
        """POST /auth/login."""
        body = {"username": username, "password": password}
        return requests.post(f"{self.api}/auth/login", json=body, timeout=TIMEOUT)

    def me(self, pair: dict[str, Any]) -> requests.Response:
        """GET /auth/me with the pair's access token."""
        headers = bearer(pair["access_token"])
        return requests.get(f"{self.api}/auth/me", headers=headers, timeout=TIMEOUT)

    def mail_to(self, address: str, subject: str) -> list[EmailMessage]:
        """The messages received so far for `address` whose subject starts with `subject`."""
        return [
            message
            for message in self.smtp.messages
            if [a.addr_spec for a in message["To"].addresses] == [address]
            and str(message["Subject"]).startswith(subject)
        ]

    def wait_mail(self, address: str, subject: str, count: int = 1) -> EmailMessage:
        """The latest such message, once `count` of them have come through the worker."""
        found = eventually(
            lambda: self.mail_to(address, subject)[count - 1 :],
            MAIL_WAIT,
            f"message {count} to {address}: {subject}",
        )
        return found[-1]

    def worker_lines(self, request_id: str) -> list[dict[str, Any]]:
        """The worker's mail log lines about messages the request caused, oldest first."""
        lines = (self.workdir / "worker.log").read_text(errors="replace").splitlines()
        parsed = [orjson.loads(line) for line in lines if line.startswith("{")]
        return [
            line
            for line in parsed
            if line.get("logger") == "blogapi.mail" and line.get("request_id") == request_id
        ]

    def site_path(self, link: str) -> str:
        """The link as a URL of this server (asserted to point at it)."""
        assert link.startswith(f"{self.server.url}/"), link
        return link


def link_in(message: EmailMessage) -> str:
    """The link a reader follows: the first one of the text part."""
    return first_link(text_part(message))


def csrf_of(page: requests.Response) -> str:
    """The CSRF token of a page's form."""
    found = CSRF.search(page.text)
    assert found, page.text
    return found.group(1)


def queue_settings(stack: ExitStack) -> dict[str, str]:
    """On the PostgreSQL pass, a Redis of the module's own for the queue and the limits;
    else nothing (the queue is a SQLite file in the instance folder)."""
    if not os.environ.get("TEST_PG_ADMIN_URL"):
        return {}
    binary = ensure_redis_installed()
    if not binary:
        unavailable("redis-server is not installed")
    redis = stack.enter_context(RedisServer(binary=binary))
    return {"REDIS_URL": redis.url}


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """gunicorn (two workers) and one `manage.py worker` sharing a database and a queue, their
    mail going to an SMTP server on loopback."""
    workdir = tmp_path_factory.mktemp("account-mail-live")
    instance = workdir / "instance"
    instance.mkdir()
    with ExitStack() as stack:
        smtp = start_smtp_server()
        stack.callback(smtp.stop)
        queue = queue_settings(stack)
        env = base_env(
            fresh_database_url(workdir),
            BLOGAPI_INSTANCE_DIR=str(instance),
            MAIL_URL=f"{smtp.url}?starttls=false",
            MAIL_FROM="Live Blog <noreply@blog.example.com>",
            # Limits on, so the PostgreSQL pass counts them in Redis; loose enough for the stories.
            LOGIN_RATE_LIMIT="1000 per minute",
            FORGOT_RATE_LIMIT="100 per hour",
            **OPEN_REGISTRATION,
            **queue,
        )
        migrate(env)
        server = LiveServer(env, workers=2, log_path=workdir / "gunicorn.log")
        # The worker writes the reset links: it must know the site's address as gunicorn does.
        stack.enter_context(LiveWorker(server.env, log_path=workdir / "worker.log"))
        stack.enter_context(server)
        yield Deployment(server, smtp, workdir, "redis" if queue else "sqlite")


def test_a_new_writer_verifies_the_address_with_the_mailed_button(deployment):
    log = deployment.workdir / "worker.log"
    started = eventually(lambda: log.read_text().splitlines()[:1], 20, "the worker's start")[0]
    assert started.endswith("queue on Redis" if deployment.queue == "redis" else "queue.db")
    pair = deployment.sign_up("ada")
    assert pair["user"]["email_verified"] is False

    message = deployment.wait_mail("ada@example.com", "Confirm your email address")
    assert message["From"] == "Live Blog <noreply@blog.example.com>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"] and message["Date"]
    link = deployment.site_path(link_in(message))
    browser = requests.Session()
    page = browser.get(link, headers=BROWSER, timeout=TIMEOUT)
    assert page.status_code == 200 and "ada@example.com" in page.text
    assert deployment.me(pair).json()["email_verified"] is False  # opening it verifies nothing

    done = browser.post(
        f"{deployment.server.url}/verify-email",
        data={"csrf_token": csrf_of(page), "token": token_of(link)},
        headers=BROWSER | {"Origin": deployment.server.url},
        timeout=TIMEOUT,
    )
    assert done.status_code == 200 and "verified" in done.text, done.text
    assert deployment.me(pair).json()["email_verified"] is True
    again = browser.get(link, headers=BROWSER, timeout=TIMEOUT)
    assert again.status_code == 400  # the link is spent


def test_a_forgotten_password_is_reset_with_the_mailed_form(deployment):
    first = deployment.sign_up("grace")
    second = deployment.log_in("grace")  # another device
    deployment.wait_mail("grace@example.com", "Confirm your email address")
    forgot = f"{deployment.api}/auth/password/forgot"

    known = requests.post(forgot, json={"email": "grace@example.com"}, timeout=TIMEOUT)
    unknown = requests.post(forgot, json={"email": "nobody@example.com"}, timeout=TIMEOUT)

    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    message = deployment.wait_mail("grace@example.com", "Reset your password")
    assert PASSWORD not in text_part(message)
    link = deployment.site_path(link_in(message))
    browser = requests.Session()
    page = browser.get(link, headers=BROWSER, timeout=TIMEOUT)
    assert page.status_code == 200 and "grace" in page.text
    form = {"csrf_token": csrf_of(page), "token": token_of(link), "password": NEW_PASSWORD}
    done = browser.post(
        f"{deployment.server.url}/reset-password",
        data=form | {"password_again": NEW_PASSWORD},
        headers=BROWSER | {"Origin": deployment.server.url},
        timeout=TIMEOUT,
    )
    assert done.status_code == 200 and "Password set" in done.text, done.text

    assert deployment.try_login("grace").status_code == 401
    assert deployment.log_in("grace", NEW_PASSWORD)["user"]["email_verified"] is True
    for old in (first, second):
        assert deployment.me(old).status_code == 401
    notice = deployment.wait_mail("grace@example.com", "Your password on")
    assert token_of(link) not in text_part(notice)
    time.sleep(SETTLE)
    assert len(deployment.mail_to("grace@example.com", "Reset your password")) == 1
    assert deployment.mail_to("nobody@example.com", "") == []


def test_a_new_address_waits_for_its_link_and_the_old_one_is_told(deployment):
    pair = deployment.sign_up("linus")
    deployment.wait_mail("linus@example.com", "Confirm your email address")

    asked = requests.patch(
        f"{deployment.api}/auth/me",
        json={"email": "linus@new.example"},
        headers=bearer(pair["access_token"]),
        timeout=TIMEOUT,
    )

    assert asked.status_code == 200, asked.text
    assert (asked.json()["email"], asked.json()["pending_email"]) == (
        "linus@example.com",
        "linus@new.example",
    )
    told = deployment.wait_mail("linus@example.com", "A new email address was asked for")
    assert "linus@new.example" in text_part(told) and "token=" not in text_part(told)
    confirm = deployment.wait_mail("linus@new.example", "Confirm your email address")
    verified = requests.post(
        f"{deployment.api}/auth/email/verify",
        json={"token": token_of(deployment.site_path(link_in(confirm)))},
        timeout=TIMEOUT,
    )
    assert verified.status_code == 200, verified.text
    assert (verified.json()["email"], verified.json()["pending_email"]) == (
        "linus@new.example",
        None,
    )
    assert deployment.log_in("linus@new.example")["user"]["email_verified"] is True
    assert deployment.try_login("linus@example.com").status_code == 401


def test_mail_waits_out_a_down_or_refusing_smtp_server_and_arrives_once(deployment):
    pair = deployment.sign_up("katherine")
    deployment.wait_mail("katherine@example.com", "Confirm your email address")
    headers = bearer(pair["access_token"])

    deployment.smtp.stop()
    try:
        resend = f"{deployment.api}/auth/email/resend"
        resent = requests.post(resend, headers=headers, timeout=TIMEOUT)
        assert resent.status_code == 202, resent.text
        refused = eventually(
            lambda: deployment.worker_lines(resent.headers["X-Request-Id"]),
            MAIL_WAIT,
            "the worker's first attempt while the server is down",
        )
    finally:
        deployment.smtp.start()
    assert refused[0]["outcome"] == "retrying", refused
    resent_link = link_in(deployment.wait_mail("katherine@example.com", "Confirm", 2))

    deployment.smtp.handler.reply = "451 4.3.0 Try again later"
    try:
        made = requests.post(
            f"{deployment.api}/auth/tokens",
            json={"name": "iA Writer", "scopes": ["create"]},
            headers=headers,
            timeout=TIMEOUT,
        )
        assert made.status_code == 201, made.text
        answered = eventually(
            lambda: deployment.worker_lines(made.headers["X-Request-Id"]),
            MAIL_WAIT,
            "the worker's first attempt while the server answers 451",
        )
    finally:
        deployment.smtp.handler.reply = None
    assert answered[0]["outcome"] == "retrying" and "451" in answered[0]["message"], answered
    notice = deployment.wait_mail("katherine@example.com", "A new personal access token")

    time.sleep(SETTLE)
    assert len(deployment.mail_to("katherine@example.com", "Confirm")) == 2
    assert len(deployment.mail_to("katherine@example.com", "A new personal access token")) == 1
    assert "iA Writer" in text_part(notice)
    for request_id in (resent.headers["X-Request-Id"], made.headers["X-Request-Id"]):
        lines = deployment.worker_lines(request_id)
        assert [line["outcome"] for line in lines] == ["retrying", "sent"], lines
    verified = requests.post(
        f"{deployment.api}/auth/email/verify", json={"token": token_of(resent_link)}, timeout=30
    )
    assert verified.status_code == 200, verified.text  # the retried message's link works
