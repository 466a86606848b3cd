"""Export and import keep whether addresses are verified and the changes waiting for their
link, never the one-time tokens; and the reset form works in Chromium."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from blogapi.db.account_models import AccountToken
from blogapi.db.models import User
from blogapi.extensions import db
from devtools.chromium import CHROMIUM_ARGS
from tests.support.account_mail import (
    API,
    NEW_PASSWORD,
    delivered,
    forgot,
    link_in,
    login,
    signed_up,
    token_in,
    verify,
)
from tests.support.accounts import bearer
from tests.support.apps import app_on, dispose, make_app
from tests.support.cli import cli
from tests.support.databases import fresh_database, suite_admin_url, upgrade
from tests.support.mail import SmtpServer
from tests.support.prerequisites import chromium_path


@pytest.fixture
def app(smtp_server: SmtpServer) -> Iterator:
    """The app, its mail going to the test's SMTP server."""
    made = make_app(MAIL_URL=smtp_server.url)
    yield made
    dispose(made)


def accounts(app) -> list[tuple]:
    """Each user's name, address, whether verified, and pending address."""
    with app.app_context():
        query = select(User.username, User.email, User.email_verified, User.pending_email)
        rows = [tuple(row) for row in db.session.execute(query.order_by(User.id))]
        db.session.rollback()
    return rows


@pytest.mark.database_agnostic
def test_export_and_import_keep_verification_but_no_token(app, client, smtp_server, tmp_path):
    ada, grace = signed_up(client, "ada"), signed_up(client, "grace")
    verify(client, token_in(delivered(app, smtp_server, 2)[0]))
    moved = client.patch(
        f"{API}/auth/me", json={"email": "g@new.example"}, headers=bearer(grace["access_token"])
    )
    assert moved.status_code == 200
    before = accounts(app)
    assert before == [
        ("ada", "ada@example.com", True, None),
        ("grace", "grace@example.com", False, "g@new.example"),
    ]
    path = tmp_path / "blog.jsonl"
    assert cli(app.test_cli_runner(), "export", str(path)).exit_code == 0
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert {r["type"] for r in records} <= {"header", "user", "revoked_token"}
    assert not any("token_hash" in r and r["type"] == "user" for r in records)
    with fresh_database(tmp_path, suite_admin_url()) as url:
        upgrade(url)
        target = app_on(url, MAIL_URL=smtp_server.url)
        try:
            result = cli(target.test_cli_runner(), "import", str(path))
            assert result.exit_code == 0, result.output
            assert accounts(target) == before
            with target.app_context():
                assert db.session.scalar(select(AccountToken.id)) is None
            assert ada  # its mailed links died with the export
        finally:
            dispose(target)


@pytest.mark.slow
def test_the_reset_form_works_in_chromium(app, client, smtp_server):
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    executable = chromium_path()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        signed_up(client, "ada")
        forgot(client, "ada@example.com")
        link = link_in(delivered(app, smtp_server, 2)[-1])
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(base + link[link.index("/reset-password") :])
            page.fill("#password", NEW_PASSWORD)
            page.fill("#password_again", "not the same")
            page.click("button[type=submit]")
            assert "differ" in page.inner_text("#form-error")
            page.fill("#password", NEW_PASSWORD)
            page.fill("#password_again", NEW_PASSWORD)
            page.click("button[type=submit]")
            assert page.inner_text("h1") == "Password set"
            browser.close()
        assert login(client, "ada", NEW_PASSWORD).status_code == 200
    finally:
        server.shutdown()
