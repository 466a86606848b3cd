"""An IndieAuth client as tests play it: PKCE pairs, the authorization request, the consent
form a writer fills in, and the code exchange."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass, field
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
from flask.testing import FlaskClient

from tests.support.accounts import PASSWORD

CLIENT_ID = "http://127.0.0.1:8123/"
REDIRECT_URI = "http://127.0.0.1:8123/callback"
TIMEOUT = 30
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def verifier_and_challenge() -> tuple[str, str]:
    """A PKCE code_verifier and its S256 code_challenge."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass
class SignIn:
    """One authorization request of a client, and what it learns along the way."""

    scope: str = "create update media"
    client_id: str = CLIENT_ID
    redirect_uri: str = REDIRECT_URI
    me: str | None = None
    state: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    verifier: str = ""
    challenge: str = ""

    def __post_init__(self) -> None:
        if not self.verifier:
            self.verifier, self.challenge = verifier_and_challenge()

    def params(self, **changes: str | None) -> dict[str, str]:
        """The authorization request's query, with `changes` (None drops a parameter)."""
        query: dict[str, str | None] = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "state": self.state,
            "code_challenge": self.challenge,
            "code_challenge_method": "S256",
            "scope": self.scope,
            "me": self.me,
        }
        query.update(changes)
        return {name: value for name, value in query.items() if value is not None}

    def url(self, **changes: str | None) -> str:
        """The authorization URL a client sends the writer to."""
        return "/indieauth/auth?" + urlencode(self.params(**changes))

    def exchange_form(self, code: str, **changes: str | None) -> dict[str, str]:
        """The client's code exchange, with `changes` (None drops a field)."""
        form: dict[str, str | None] = {
            "grant_type": "authorization_code",
            "code": code,
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "code_verifier": self.verifier,
        }
        form.update(changes)
        return {name: value for name, value in form.items() if value is not None}


BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def consent_page(client: FlaskClient, sign_in: SignIn, **changes: str | None) -> Any:
    """The consent page as a browser gets it."""
    return client.get(sign_in.url(**changes), headers=BROWSER)


def csrf_token(page: Any) -> str:
    """The consent form's token."""
    found = CSRF_FIELD.search(page.get_data(as_text=True))
    assert found, page.get_data(as_text=True)[:500]
    return unescape(found.group(1))


def consent(
    client: FlaskClient,
    token: str,
    username: str,
    password: str = PASSWORD,
    scopes: list[str] | None = None,
    decision: str = "allow",
    headers: dict[str, str] | None = None,
) -> Any:
    """Post the consent form as the writer fills it in."""
    form: dict[str, Any] = {
        "csrf_token": token, "username": username, "password": password, "decision": decision,
    }  # fmt: skip
    if scopes is not None:
        form["scope"] = scopes
    return client.post("/indieauth/auth", data=form, headers={**BROWSER, **(headers or {})})


def redirected_params(response: Any, sign_in: SignIn) -> dict[str, str]:
    """The parameters a 302 back to the client carries (it must go to its redirect URI)."""
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    location = response.headers["Location"]
    assert location.startswith(sign_in.redirect_uri + "?"), location
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


def authorize(
    client: FlaskClient, sign_in: SignIn, username: str, scopes: list[str] | None = None
) -> str:
    """Sign in and allow on the consent page, keeping every scope asked for unless `scopes`
    says which; the code the client receives."""
    page = consent_page(client, sign_in)
    assert page.status_code == 200, page.get_data(as_text=True)[:500]
    kept = sign_in.scope.split() if scopes is None else scopes
    params = redirected_params(consent(client, csrf_token(page), username, scopes=kept), sign_in)
    assert params["state"] == sign_in.state
    return params["code"]


def exchange(
    client: FlaskClient,
    sign_in: SignIn,
    code: str,
    path: str = "/indieauth/token",
    **changes: str | None,
) -> Any:
    """The client's code exchange (at the token endpoint unless `path` says otherwise)."""
    return client.post(path, data=sign_in.exchange_form(code, **changes))


def code_over_http(site: str, username: str, sign_in: SignIn) -> str:
    """Sign in on a live server's consent page as a browser would (its cookie kept) and allow
    every scope asked for; the code the client receives."""
    with requests.Session() as browser:
        shown = browser.get(site + sign_in.url(), headers=BROWSER, timeout=TIMEOUT)
        found = CSRF_FIELD.search(shown.text)
        assert shown.status_code == 200 and found, shown.text[:300]
        form = {
            "csrf_token": unescape(found.group(1)), "username": username, "password": PASSWORD,
            "scope": sign_in.scope.split(), "decision": "allow",
        }  # fmt: skip
        allowed = browser.post(
            f"{site}/indieauth/auth", data=form, allow_redirects=False, timeout=TIMEOUT
        )
    assert allowed.status_code == 302, allowed.text[:300]
    query = parse_qs(urlsplit(allowed.headers["Location"]).query)
    return query["code"][0]
