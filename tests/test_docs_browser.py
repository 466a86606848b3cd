"""In a real browser, a reader authorizes on the docs page and calls GET /auth/me from it."""

from __future__ import annotations

import pytest
import requests

from devtools.chromium import CHROMIUM_ARGS
from devtools.live import OPEN_REGISTRATION, LiveServer, fresh_database_url, migrate, production_env
from tests.support.prerequisites import chromium_path

pytestmark = pytest.mark.database_agnostic

PASSWORD = "browser passphrase 4 docs"


@pytest.mark.slow
def test_a_reader_authorizes_on_the_docs_page_and_calls_me(tmp_path):
    executable = chromium_path()
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    env = production_env(
        fresh_database_url(tmp_path), RATELIMIT_ENABLED="false", **OPEN_REGISTRATION
    )
    migrate(env)
    with LiveServer(env, log_path=tmp_path / "gunicorn.log") as server:
        requests.post(
            f"{server.api}/auth/register",
            json={"username": "grace", "email": "grace@example.com", "password": PASSWORD},
            timeout=10,
        ).raise_for_status()
        token = requests.post(
            f"{server.api}/auth/login",
            json={"username": "grace", "password": PASSWORD},
            timeout=10,
        ).json()["access_token"]
        outside_requests: list[str] = []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.on(
                "request",
                lambda r: None if r.url.startswith(server.url) else outside_requests.append(r.url),
            )
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(f"{server.api}/docs", wait_until="networkidle")
            page.click("button.btn.authorize")
            page.fill(".modal-ux input[type=text], .modal-ux input[type=password]", token)
            page.click(".modal-ux .auth-btn-wrapper button.authorize")
            page.click(".modal-ux button.btn-done")
            operation = page.locator("#operations-auth-auth_me_get")
            operation.locator(".opblock-summary").click()
            execute = operation.locator("button.execute")
            if not execute.is_visible():  # the page opens with "Try it out" already on
                operation.locator("button.try-out__btn").click()
            execute.click()
            body = operation.locator(".live-responses-table .response-col_description pre").first
            body.wait_for(timeout=15000)
            text = body.inner_text()
            page.screenshot(path=str(tmp_path / "docs.png"), full_page=False)
            browser.close()
        assert '"username": "grace"' in text or '"username":"grace"' in text, text
        assert "grace@example.com" in text
        assert outside_requests == []
        assert not [e for e in errors if "Content Security Policy" in e], errors
