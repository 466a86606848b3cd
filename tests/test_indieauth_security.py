"""IndieAuth's security list, each a story of an attacker or a mistake: PKCE, spent and old
codes, redirect URIs that are not the client's, forged consent forms, framing, private client
addresses, password guessing, deactivated writers, and a `me` that names someone else."""

from __future__ import annotations

import base64
import hashlib
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlencode

import orjson
import pytest
from sqlalchemy import update

from blogapi.db.models import AuthorizationCode, User
from blogapi.extensions import db
from blogapi.indieauth import consent as consent_module
from blogapi.timeutil import utcnow
from tests.support.accounts import PASSWORD, bearer
from tests.support.apps import make_app
from tests.support.indieauth import (
    BROWSER,
    SignIn,
    authorize,
    consent,
    consent_page,
    csrf_token,
    exchange,
    redirected_params,
)
from tests.support.live import reply_html


def micropub_note(client, token: str, text: str = "A note") -> Any:
    """A Micropub create with `token`."""
    return client.post("/micropub", data={"h": "entry", "content": text}, headers=bearer(token))


def assert_grant_refused(response: Any, words: str) -> None:
    """400 invalid_grant in OAuth's body, saying `words`."""
    assert response.status_code == 400, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error"] == "invalid_grant", body
    assert words in body["error_description"], body


def assert_page_refusal(response: Any, status: int, words: str) -> None:
    """An HTML page with this status saying `words`, and no redirect anywhere."""
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "text/html"
    assert "Location" not in response.headers
    assert words in response.get_data(as_text=True)


# PKCE


def test_a_wrong_code_verifier_gets_no_token_and_spends_the_code(client, author):
    sign_in = SignIn()
    code = authorize(client, sign_in, author.username)
    assert_grant_refused(exchange(client, sign_in, code, code_verifier="x" * 64), "code_verifier")
    assert_grant_refused(exchange(client, sign_in, code), "already used")


def test_a_missing_code_verifier_gets_no_token(client, author):
    sign_in = SignIn()
    code = authorize(client, sign_in, author.username)
    assert_grant_refused(exchange(client, sign_in, code, code_verifier=None), "code_verifier")


def test_the_plain_method_is_refused_and_a_plain_verifier_does_not_match(client, author):
    sign_in = SignIn()
    plain = consent_page(client, sign_in, code_challenge_method="plain")
    params = redirected_params(plain, sign_in)
    assert params["error"] == "invalid_request" and "S256" in params["error_description"]
    assert params["state"] == sign_in.state and params["iss"] == "http://localhost/"
    # A client that sends its challenge back as the verifier (plain PKCE) is refused too.
    code = authorize(client, sign_in, author.username)
    assert_grant_refused(
        exchange(client, sign_in, code, code_verifier=sign_in.challenge), "code_verifier"
    )


def test_a_request_without_pkce_goes_back_with_invalid_request(client, author):
    sign_in = SignIn()
    params = redirected_params(consent_page(client, sign_in, code_challenge=None), sign_in)
    assert params["error"] == "invalid_request" and "PKCE" in params["error_description"]


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": None}, "unsupported_response_type"),
        ({"state": None}, "invalid_request"),
        ({"code_challenge": "short"}, "invalid_request"),
    ],
)
def test_faults_after_the_redirect_is_known_go_back_to_the_client(client, changes, error):
    sign_in = SignIn()
    assert redirected_params(consent_page(client, sign_in, **changes), sign_in)["error"] == error


# Codes: once, for 60 seconds, for the client they were issued to


def test_a_code_used_twice_revokes_the_token_the_first_use_gave(client, author):
    sign_in = SignIn(scope="create")
    code = authorize(client, sign_in, author.username)
    first = exchange(client, sign_in, code)
    assert first.status_code == 200
    token = first.get_json()["access_token"]
    assert micropub_note(client, token).status_code == 201
    assert_grant_refused(exchange(client, sign_in, code), "already used")
    refused = micropub_note(client, token)
    assert refused.status_code == 401 and refused.get_json()["error"] == "unauthorized"
    # Spent at the profile endpoint too: a code works once, wherever it is spent.
    assert_grant_refused(exchange(client, sign_in, code, path="/indieauth/auth"), "already used")


def test_a_code_older_than_60_seconds_is_refused(client, app, author):
    sign_in = SignIn()
    code = authorize(client, sign_in, author.username)
    with app.app_context():
        db.session.execute(
            update(AuthorizationCode).values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
        issued = db.session.query(AuthorizationCode).one()
        assert issued.expires_at - issued.created_at <= timedelta(seconds=60)
    assert_grant_refused(exchange(client, sign_in, code), "expired")


def test_a_code_is_refused_to_another_client_or_redirect_uri(client, author):
    sign_in = SignIn()
    code = authorize(client, sign_in, author.username)
    stolen = exchange(client, sign_in, code, client_id="http://127.0.0.1:9999/")
    assert_grant_refused(stolen, "another client_id or redirect_uri")
    other = SignIn()
    code = authorize(client, other, author.username)
    moved = exchange(client, other, code, redirect_uri="http://127.0.0.1:8123/elsewhere")
    assert_grant_refused(moved, "another client_id or redirect_uri")


def test_an_unknown_code_is_refused(client):
    assert_grant_refused(exchange(client, SignIn(), "made-up-code"), "not valid")


# Redirect URIs: never anywhere the client does not own


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://evil.example/callback",
        "http://127.0.0.1:9999/callback",  # another port is another origin
        "https://127.0.0.1:8123/callback",  # another scheme too
        "http://127.0.0.1:8123@evil.example/callback",
        "http://127.0.0.1:8123\\@evil.example/callback",
        "//evil.example/callback",
        "javascript:alert(1)",
        "data:text/html,hi",
        "http://127.0.0.1:8123/callback#fragment",
        "http://127.0.0.1:8123/call back",
    ],
)
def test_a_redirect_uri_the_client_does_not_own_is_a_page_not_a_redirect(client, redirect_uri):
    refused = consent_page(client, SignIn(redirect_uri=redirect_uri))
    assert_page_refusal(refused, 400, "cannot be used")
    # Even with other faults, which would otherwise go back to the client.
    worse = consent_page(client, SignIn(redirect_uri=redirect_uri), response_type="token")
    assert_page_refusal(worse, 400, "cannot be used")


@pytest.mark.parametrize(
    ("client_id", "words"),
    [
        (None, "no client_id"),
        ("not a url", "http or https"),
        ("ftp://app.example/", "http or https"),
        ("https://app.example/#frag", "fragment"),
        ("https://user:pw@app.example/", "user name"),
        ("https://app.example/a/../b", ". or .."),
        ("https://10.0.0.5/", "IP address"),
        ("https://[fd00::1]/", "IP address"),
        ("https://app.example:99999/", "not a valid URL"),
    ],
)
def test_a_client_id_the_spec_does_not_allow_is_a_page(client, client_id, words):
    sign_in = SignIn()
    refused = consent_page(client, sign_in, client_id=client_id)
    assert_page_refusal(refused, 400, words)


def test_a_machine_reading_a_refused_request_gets_problem_json(client):
    refused = client.get(SignIn(redirect_uri="https://evil.example/").url())
    assert refused.status_code == 400 and refused.mimetype == "application/problem+json"


# The consent form: only from our page, in the browser it was shown to


def test_a_form_posted_without_the_browsers_cookie_is_refused(client, author):
    sign_in = SignIn()
    token = csrf_token(consent_page(client, sign_in))
    client.delete_cookie("indieauth_csrf")
    refused = consent(client, token, author.username)
    assert_page_refusal(refused, 403, "start signing in again")


def test_a_form_token_from_another_browser_is_refused(app, client, author):
    attacker = app.test_client()
    token = csrf_token(consent_page(attacker, SignIn()))  # the attacker's own page and cookie
    consent_page(client, SignIn())  # the victim has a cookie of their own
    assert_page_refusal(consent(client, token, author.username), 403, "start signing in again")


def test_a_tampered_or_missing_form_token_is_refused(client, author):
    token = csrf_token(consent_page(client, SignIn()))
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    assert_page_refusal(consent(client, tampered, author.username), 403, "start signing in")
    assert_page_refusal(consent(client, "", author.username), 403, "start signing in")


@pytest.mark.parametrize(
    "headers",
    [{"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}],
)
def test_a_form_posted_from_another_site_is_refused(client, author, headers):
    token = csrf_token(consent_page(client, SignIn()))
    refused = consent(client, token, author.username, headers=headers)
    assert_page_refusal(refused, 403, "start signing in again")


def test_a_stale_form_is_refused(client, author, monkeypatch):
    token = csrf_token(consent_page(client, SignIn()))
    monkeypatch.setattr(consent_module, "FORM_LIFETIME", -1)
    assert_page_refusal(consent(client, token, author.username), 403, "expired")


def test_the_consent_page_cannot_be_framed_and_posts_only_to_us_and_the_client(client):
    page = consent_page(client, SignIn())
    csp = page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "form-action 'self' http://127.0.0.1:8123;" in csp
    assert "script-src" not in csp and "default-src 'none'" in csp
    cookie = page.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie


# Passwords and accounts


def test_a_wrong_password_shows_the_form_again_and_issues_no_code(client, author):
    sign_in = SignIn()
    token = csrf_token(consent_page(client, sign_in))
    wrong = consent(client, token, author.username, password="not the password")
    assert wrong.status_code == 400 and "Location" not in wrong.headers
    html = wrong.get_data(as_text=True)
    assert "Invalid username or password." in html and 'name="csrf_token"' in html
    unknown = consent(client, token, "nobody-at-all", password="not the password")
    assert "Invalid username or password." in unknown.get_data(as_text=True)
    right = consent(client, token, author.username, scopes=["create"])
    assert "code" in redirected_params(right, sign_in)


def test_guessing_passwords_on_the_consent_page_is_rate_limited_like_login():
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
    client = app.test_client()
    client.post(
        "/api/v1/auth/register",
        json={"username": "ada", "email": "ada@example.com", "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "198.51.100.1"},
    )
    token = csrf_token(consent_page(client, SignIn()))
    statuses = [consent(client, token, "ada", password=f"guess {n}").status_code for n in range(4)]
    assert statuses == [400, 400, 400, 429]
    limited = consent(client, token, "ada")  # even the right password, until the minute is up
    assert limited.status_code == 429 and limited.mimetype == "text/html"
    assert "Retry-After" in limited.headers
    # The account's bucket is the login's: the JSON login is limited too.
    login = client.post(
        "/api/v1/auth/login",
        json={"username": "ada", "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "198.51.100.9"},
    )
    assert login.status_code == 429
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_a_deactivated_writer_cannot_sign_in_nor_spend_a_code_issued_before(client, app, author):
    sign_in = SignIn()
    code = authorize(client, sign_in, author.username)
    token = csrf_token(consent_page(client, SignIn()))
    with app.app_context():
        db.session.execute(update(User).values(active=False))
        db.session.commit()
    refused = consent(client, token, author.username)
    assert refused.status_code == 403 and "deactivated" in refused.get_data(as_text=True)
    assert "Location" not in refused.headers
    assert_grant_refused(exchange(client, sign_in, code), "deactivated")


def test_a_me_naming_another_writer_still_gives_the_token_of_who_signed_in(client, make_account):
    alice, bob = make_account("author"), make_account("author")
    sign_in = SignIn(scope="create", me=f"http://localhost/authors/{bob.username}")
    page = consent_page(client, sign_in)
    assert f'value="{bob.username}"' in page.get_data(as_text=True)  # only a hint
    params = redirected_params(
        consent(client, csrf_token(page), alice.username, scopes=["create"]), sign_in
    )
    token = exchange(client, sign_in, params["code"]).get_json()
    assert token["me"] == f"http://localhost/authors/{alice.username}"
    created = micropub_note(client, token["access_token"], "By Alice")
    post = client.get(created.headers["Location"].removeprefix("http://localhost"))
    assert f"/authors/{alice.username}" in post.get_data(as_text=True)


# Client pages: fetched only from public addresses


class ClientPages(BaseHTTPRequestHandler):
    """A client's home page with an h-app and a listed redirect URI (or, at /app.json, its
    JSON client metadata document); counts its visitors."""

    seen: list[str] = []

    def do_GET(self) -> None:
        self.seen.append(self.path)
        if self.path == "/app.json":
            client_id = f"http://{self.headers['Host']}/app.json"
            body = orjson.dumps({
                "client_id": client_id, "client_name": "Jsonish",
                "redirect_uris": ["https://json.example/cb"],
            })  # fmt: skip
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        body = (
            b'<!doctype html><div class="h-app"><a class="u-url p-name" href="/">Quillish</a>'
            b'</div><link rel="redirect_uri" href="https://elsewhere.example/cb">'
        )
        reply_html(self, body)

    def log_message(self, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def client_site(monkeypatch) -> Iterator[tuple[str, list[str]]]:
    """A client's site on 127.0.0.1 that DNS (patched) gives the name app.test; its
    client_id and the paths it was asked for."""
    handler = type("Pages", (ClientPages,), {"seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    real = socket.getaddrinfo

    def resolve(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        return real("127.0.0.1" if host == "app.test" else host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    try:
        yield f"http://app.test:{server.server_port}/", handler.seen
    finally:
        server.shutdown()
        server.server_close()


def test_a_client_on_a_private_address_is_not_fetched(client, client_site):
    client_id, seen = client_site
    sign_in = SignIn(client_id=client_id, redirect_uri=client_id + "callback")
    page = consent_page(client, sign_in)
    assert page.status_code == 200
    assert "Quillish" not in page.get_data(as_text=True)  # named by its host only
    listed = consent_page(
        client, SignIn(client_id=client_id, redirect_uri="https://elsewhere.example/cb")
    )
    assert_page_refusal(listed, 400, "does not list it")  # its list was never read
    assert seen == []


def test_a_loopback_client_is_never_fetched_even_where_private_fetches_are_allowed(
    client, app, client_site
):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    _client_id, seen = client_site
    port = _client_id.rsplit(":", 1)[1].rstrip("/")
    loopback = f"http://127.0.0.1:{port}/"
    page = consent_page(client, SignIn(client_id=loopback, redirect_uri=loopback + "cb"))
    assert page.status_code == 200 and seen == []


def test_a_fetched_client_shows_its_name_and_may_use_its_listed_redirect(
    client, app, author, client_site
):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True  # the test's "public" site is on loopback
    client_id, seen = client_site
    sign_in = SignIn(client_id=client_id, redirect_uri="https://elsewhere.example/cb")
    page = consent_page(client, sign_in)
    assert page.status_code == 200, page.get_data(as_text=True)[:300]
    assert "<h1>Sign in to Quillish</h1>" in page.get_data(as_text=True)
    assert seen == ["/"]
    params = redirected_params(
        consent(client, csrf_token(page), author.username, scopes=["create"]), sign_in
    )
    token = exchange(client, sign_in, params["code"]).get_json()
    mine = client.get("/api/v1/auth/tokens", headers=author.headers).get_json()
    assert mine[0]["name"] == "Quillish" and token["scope"] == "create"


def test_a_client_metadata_document_names_the_client_and_its_redirects(client, app, client_site):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    client_id, seen = client_site
    sign_in = SignIn(client_id=client_id + "app.json", redirect_uri="https://json.example/cb")
    page = consent_page(client, sign_in)
    assert page.status_code == 200, page.get_data(as_text=True)[:300]
    assert "<h1>Sign in to Jsonish</h1>" in page.get_data(as_text=True)
    assert seen == ["/app.json"]
    elsewhere = SignIn(client_id=client_id + "app.json", redirect_uri="https://other.example/cb")
    assert_page_refusal(consent_page(client, elsewhere), 400, "does not list it")


def test_a_page_no_parser_can_read_names_the_client_by_its_host(
    client, app, client_site, monkeypatch
):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    client_id, _seen = client_site

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RecursionError("a page nested too deep")

    monkeypatch.setattr("mf2py.parse", broken)  # imported by the first page read
    page = consent_page(client, SignIn(client_id=client_id, redirect_uri=client_id + "cb"))
    assert page.status_code == 200
    assert "<h1>Sign in to app.test</h1>" in page.get_data(as_text=True)


def test_the_verifier_check_is_s256_of_the_verifier():
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"  # RFC 7636 appendix B
    digest = hashlib.sha256(verifier.encode()).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert challenge == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    from blogapi.indieauth.codes import challenge_of

    assert challenge_of(verifier) == challenge


def test_urlencode_is_what_clients_send():  # the helper builds what real clients build
    assert "code_challenge_method=S256" in SignIn().url()
    assert urlencode({"a": "b c"}) == "a=b+c"
    assert BROWSER["Accept"].startswith("text/html")
