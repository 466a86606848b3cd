"""IndieAuth end to end under gunicorn in production mode: a Micropub client on the writer's
own machine discovers the endpoints, sends the writer to the consent page in a real Chromium,
exchanges the code and publishes; the consent page passes the Nu HTML Checker and axe; and the
flow crosses two instances on one database (the form, the code and its replay are checked by
whichever instance gets them)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from html import unescape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import mf2py
import pytest
import requests
from sqlalchemy import create_engine, func, select, table

from devtools.chromium import CHROMIUM_ARGS
from devtools.live import OPEN_REGISTRATION, LiveServer, fresh_database_url, production_env
from tests.support.accounts import PASSWORD, bearer
from tests.support.browser import RECORD_VIOLATIONS, axe_violations, nu_messages, serious
from tests.support.indieauth import CSRF_FIELD, SignIn
from tests.support.live import production_server, reply_html, sign_up_over_http, two_instances
from tests.support.prerequisites import chromium_path
from tests.support.site import BROWSER

pytestmark = pytest.mark.slow
TIMEOUT = 30
RELS = ("micropub", "indieauth-metadata", "authorization_endpoint", "token_endpoint")
CALLBACK_PAGE = (
    b'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Signed in</title>'
    b'<link rel="icon" href="data:,"></head><body><p>Back in the app.</p></body></html>'
)


class ClientApp:
    """A tiny Micropub client on 127.0.0.1: its home page (its client_id) and the callback
    that records what the authorization server sends back."""

    def __init__(self) -> None:
        self.callbacks: list[dict[str, str]] = []
        app = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path == "/callback":
                    query = parse_qs(parts.query)
                    app.callbacks.append({name: values[0] for name, values in query.items()})
                    body = CALLBACK_PAGE
                elif parts.path == "/":
                    body = CALLBACK_PAGE.replace(b"Signed in", b"A notes app")
                else:
                    self.send_error(404)
                    return
                reply_html(self, body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.client_id = f"{self.url}/"
        self.redirect_uri = f"{self.url}/callback"

    @contextmanager
    def running(self) -> Iterator[ClientApp]:
        """Serve in a thread until the block ends."""
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()
            thread.join(timeout=10)


def discover(profile_url: str) -> tuple[dict[str, str], dict[str, Any]]:
    """What a client finds from a profile page: the endpoints its rels name (each named
    once) and the server metadata the indieauth-metadata rel leads to."""
    page = requests.get(profile_url, headers=BROWSER, timeout=TIMEOUT)
    assert page.status_code == 200, page.text[:300]
    rels = mf2py.parse(doc=page.text, url=page.url)["rels"]
    endpoints = {}
    for rel in RELS:
        assert len(rels.get(rel, [])) == 1, (rel, rels)
        endpoints[rel] = rels[rel][0]
        assert f'<{endpoints[rel]}>; rel="{rel}"' in page.headers["Link"]
    metadata = requests.get(endpoints["indieauth-metadata"], timeout=TIMEOUT)
    assert metadata.status_code == 200, metadata.text[:300]
    return endpoints, metadata.json()


def authorization_url(endpoint: str, sign_in: SignIn) -> str:
    """The URL a client sends the writer to."""
    return f"{endpoint}?{urlencode(sign_in.params())}"


def exchange(token_endpoint: str, sign_in: SignIn, code: str) -> requests.Response:
    """A client's code exchange at the token endpoint."""
    return requests.post(
        token_endpoint,
        data=sign_in.exchange_form(code),
        headers={"Accept": "application/json"},
        timeout=TIMEOUT,
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One production instance."""
    with production_server(tmp_path_factory.mktemp("indieauth-live")) as live:
        yield live


def test_a_writer_signs_in_from_a_micropub_client_in_a_real_browser(server):
    sync_api = pytest.importorskip("playwright.sync_api")
    sync_playwright = sync_api.sync_playwright
    executable = chromium_path()
    sign_up_over_http(server.api, "ada")
    author_url = f"{server.url}/authors/ada"
    endpoints, metadata = discover(author_url)
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["issuer"] == f"{server.url}/"
    assert endpoints["indieauth-metadata"].startswith(metadata["issuer"])
    assert metadata["authorization_endpoint"] == endpoints["authorization_endpoint"]
    assert metadata["token_endpoint"] == endpoints["token_endpoint"]

    with ClientApp().running() as app:
        sign_in = SignIn(
            scope="create update media",
            client_id=app.client_id,
            redirect_uri=app.redirect_uri,
            me=author_url,
        )
        console: list[tuple[str, str]] = []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page()
                page.add_init_script(RECORD_VIOLATIONS)
                page.on("console", lambda m: console.append((m.type, m.text)))
                page.goto(authorization_url(endpoints["authorization_endpoint"], sign_in))
                assert page.get_by_role("heading", level=1).inner_text() == "Sign in to 127.0.0.1"
                page.get_by_label("Username or email").fill("ada")
                page.get_by_label("Password").fill(PASSWORD)
                page.locator("#scope-media").uncheck()
                consent_violations = page.evaluate("window.__violations")
                consent_console = list(console)
                page.get_by_role("button", name="Sign in and allow").click()
                try:
                    page.wait_for_url(f"{app.redirect_uri}?**", timeout=15_000)
                except sync_api.TimeoutError:
                    seen = page.evaluate("window.__violations")
                    pytest.fail(f"not sent back to the client from {page.url}; CSP: {seen}")
                back = dict(app.callbacks[-1])
                assert page.url.startswith(app.redirect_uri + "?")

                assert back["state"] == sign_in.state
                assert back["iss"] == metadata["issuer"]
                answer = exchange(endpoints["token_endpoint"], sign_in, back["code"])
                assert answer.status_code == 200, answer.text
                token = answer.json()
                assert (token["token_type"], token["scope"]) == ("Bearer", "create update")
                assert token["me"] == author_url

                created = requests.post(
                    endpoints["micropub"],
                    data={"h": "entry", "content": "Written in a notes app, signed in with ease"},
                    headers=bearer(token["access_token"]),
                    timeout=TIMEOUT,
                )
                assert created.status_code == 201, created.text
                location = created.headers["Location"]
                assert location.startswith(f"{server.url}/posts/")
                opened = page.goto(location)
                assert opened is not None and opened.status == 200
                assert "signed in with ease" in page.locator("main").inner_text()
            finally:
                browser.close()
    assert len(app.callbacks) == 1, app.callbacks
    assert consent_violations == []
    assert [text for kind, text in consent_console if kind == "error"] == []
    assert [text for kind, text in console if kind == "error"] == []


@pytest.mark.database_agnostic
def test_the_consent_page_passes_the_nu_checker_and_axe(server, tmp_path):
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    executable = chromium_path()
    author_url = f"{server.url}/authors/ada"
    sign_in = SignIn(scope="create update delete media profile", me=author_url)
    url = authorization_url(f"{server.url}/indieauth/auth", sign_in)
    page_html = requests.get(url, headers=BROWSER, timeout=TIMEOUT)
    assert page_html.status_code == 200, page_html.text[:300]
    assert page_html.headers["Content-Type"] == "text/html; charset=utf-8"
    assert 'type="checkbox" id="scope-profile"' in page_html.text
    saved = tmp_path / "consent.html"
    saved.write_bytes(page_html.content)
    errors = [m for m in nu_messages([saved]) if m.get("type") == "error"]
    assert errors == [], errors

    found: dict[str, Any] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 360, "height": 740})
            page.add_init_script(RECORD_VIOLATIONS)
            page.set_extra_http_headers(BROWSER)
            page.goto(url, wait_until="networkidle")
            found["shown"] = serious(axe_violations(page))
            found["csp"] = page.evaluate("window.__violations")
            # The form again, with the error it shows after a wrong password.
            page.get_by_label("Password").fill("not the password")
            page.get_by_role("button", name="Sign in and allow").click()
            page.wait_for_selector("#form-error")
            found["refused"] = serious(axe_violations(page))
            found["csp"] += page.evaluate("window.__violations")
        finally:
            browser.close()
    assert found == {"shown": [], "refused": [], "csp": []}, found


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Instances A and B (production mode) on one database, with the same secrets."""
    workdir = tmp_path_factory.mktemp("indieauth-pair")
    env = production_env(
        fresh_database_url(workdir), RATELIMIT_ENABLED="false", **OPEN_REGISTRATION
    )
    with two_instances(env, workdir) as pair:
        yield pair


def codes_issued(server: LiveServer) -> int:
    """How many authorization codes the shared database holds."""
    engine = create_engine(server.env["DATABASE_URL"])
    try:
        with engine.connect() as connection:
            return int(
                connection.scalar(select(func.count()).select_from(table("authorization_codes")))
            )
    finally:
        engine.dispose()


@pytest.fixture
def browser() -> Iterator[requests.Session]:
    """A browser as requests plays it: it keeps cookies and asks for HTML."""
    with requests.Session() as session:
        session.headers.update(BROWSER)
        yield session


def test_the_flow_crosses_two_instances(pair, browser):
    a, b = pair
    assert a.env["DATABASE_URL"] == b.env["DATABASE_URL"]
    if os.environ.get("TEST_PG_ADMIN_URL"):
        assert a.env["DATABASE_URL"].startswith("postgresql")
    sign_up_over_http(a.api, "grace")
    sign_in = SignIn(scope="create update")
    shown = browser.get(authorization_url(f"{a.url}/indieauth/auth", sign_in), timeout=TIMEOUT)
    assert shown.status_code == 200, shown.text[:300]
    assert "indieauth_csrf" in browser.cookies
    found = CSRF_FIELD.search(shown.text)
    assert found, shown.text[:300]
    form = {
        "csrf_token": unescape(found.group(1)),
        "username": "grace",
        "password": "not the password",
        "scope": ["create", "update"],
        "decision": "allow",
    }

    before = codes_issued(a)
    wrong = browser.post(
        f"{b.url}/indieauth/auth", data=form, allow_redirects=False, timeout=TIMEOUT
    )
    assert wrong.status_code == 400, wrong.text[:300]
    assert "Location" not in wrong.headers
    assert 'id="form-error"' in wrong.text and 'name="csrf_token"' in wrong.text
    assert codes_issued(a) == before

    allowed = browser.post(
        f"{b.url}/indieauth/auth",
        data={**form, "password": PASSWORD},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert allowed.status_code == 302, allowed.text[:300]
    location = allowed.headers["Location"]
    assert location.startswith(sign_in.redirect_uri + "?"), location
    back = {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}
    assert back["state"] == sign_in.state
    assert codes_issued(a) == before + 1

    answer = exchange(f"{a.url}/indieauth/token", sign_in, back["code"])
    assert answer.status_code == 200, answer.text
    token = answer.json()["access_token"]
    config = {"q": "config"}
    works = requests.get(f"{b.url}/micropub", params=config, headers=bearer(token), timeout=30)
    assert works.status_code == 200, works.text

    replay = exchange(f"{b.url}/indieauth/token", sign_in, back["code"])
    assert replay.status_code == 400, replay.text
    assert replay.json()["error"] == "invalid_grant"
    for instance in (a, b):
        revoked = requests.post(
            f"{instance.url}/micropub",
            data={"h": "entry", "content": "After the replay"},
            headers=bearer(token),
            timeout=TIMEOUT,
        )
        assert revoked.status_code == 401, (instance.url, revoked.text)
