"""IndieAuth through the test client, as a Micropub client meets it: discovery, metadata, the
consent page, the code exchange (token and profile-only), introspection and revocation."""

from __future__ import annotations

import mf2py
import pytest

from blogapi.db.models import PersonalToken
from blogapi.extensions import db
from tests.support.accounts import bearer
from tests.support.indieauth import (
    SignIn,
    authorize,
    consent,
    consent_page,
    csrf_token,
    exchange,
    redirected_params,
)

ENDPOINTS = {
    "indieauth-metadata": "http://localhost/.well-known/oauth-authorization-server",
    "authorization_endpoint": "http://localhost/indieauth/auth",
    "token_endpoint": "http://localhost/indieauth/token",
    "micropub": "http://localhost/micropub",
}


def test_a_client_discovers_the_endpoints_from_the_author_page_and_the_front_page(client, author):
    for path in (f"/authors/{author.username}", "/"):
        page = client.get(path)
        rels = mf2py.parse(doc=page.get_data(as_text=True), url="http://localhost/")["rels"]
        for rel, url in ENDPOINTS.items():
            assert rels[rel] == [url], rel
            assert f'<{url}>; rel="{rel}"' in page.headers["Link"]


def test_the_metadata_names_the_endpoints_pkce_and_the_scopes(client):
    meta = client.get("/.well-known/oauth-authorization-server")
    assert meta.status_code == 200 and meta.mimetype == "application/json"
    body = meta.get_json()
    assert body["issuer"] == "http://localhost/"
    assert ENDPOINTS["indieauth-metadata"].startswith(body["issuer"])
    assert body["authorization_endpoint"] == ENDPOINTS["authorization_endpoint"]
    assert body["token_endpoint"] == ENDPOINTS["token_endpoint"]
    assert body["introspection_endpoint"] == "http://localhost/indieauth/introspect"
    assert body["revocation_endpoint"] == "http://localhost/indieauth/revoke"
    assert body["code_challenge_methods_supported"] == ["S256"]
    assert set(body["scopes_supported"]) >= {"create", "update", "delete", "media", "profile"}
    assert body["authorization_response_iss_parameter_supported"] is True


def test_a_writer_signs_in_from_an_app_and_the_app_publishes_with_the_token(client, author):
    sign_in = SignIn(scope="create update media", me=f"http://localhost/authors/{author.username}")
    page = consent_page(client, sign_in)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert f'value="{author.username}"' in html  # `me` named the writer: the form knows them
    assert page.headers["Cache-Control"] == "no-store"
    code = authorize(client, sign_in, author.username)
    answer = exchange(client, sign_in, code)
    assert answer.status_code == 200, answer.get_json()
    assert answer.headers["Cache-Control"] == "no-store"
    token = answer.get_json()
    assert token["token_type"] == "Bearer"
    assert token["scope"] == "create update media"
    assert token["me"] == f"http://localhost/authors/{author.username}"
    assert "profile" not in token
    created = client.post(
        "/micropub",
        data={"h": "entry", "content": "Written in an app"},
        headers=bearer(token["access_token"]),
    )
    assert created.status_code == 201
    reader = client.get(created.headers["Location"].removeprefix("http://localhost"))
    assert "Written in an app" in reader.get_data(as_text=True)
    mine = client.get("/api/v1/auth/tokens", headers=author.headers).get_json()
    assert [(t["name"], t["scopes"]) for t in mine] == [
        ("127.0.0.1", ["create", "update", "media"])
    ]


def test_the_writer_narrows_the_scopes_and_the_token_has_only_those(client, author):
    sign_in = SignIn(scope="create update delete media")
    code = authorize(client, sign_in, author.username, scopes=["create"])
    token = exchange(client, sign_in, code).get_json()
    assert token["scope"] == "create"
    delete = {"action": "delete", "url": "http://localhost/posts/anything"}
    refused = client.post("/micropub", data=delete, headers=bearer(token["access_token"]))
    assert refused.status_code == 401 and refused.get_json()["error"] == "insufficient_scope"


def test_scopes_the_server_does_not_know_are_not_offered(client, author):
    page = consent_page(client, SignIn(scope="create read follow channels"))
    html = page.get_data(as_text=True)
    assert 'value="create"' in html
    for unknown in ("read", "follow", "channels"):
        assert f'value="{unknown}"' not in html


def test_the_profile_only_flow_answers_me_and_the_profile_without_a_token(client, author):
    sign_in = SignIn(scope="profile email")
    code = authorize(client, sign_in, author.username)
    answer = exchange(client, sign_in, code, path="/indieauth/auth")
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body == {
        "me": f"http://localhost/authors/{author.username}",
        "profile": {
            "name": author.username,
            "url": f"http://localhost/authors/{author.username}",
            "email": author.email,
        },
    }
    with client.application.app_context():
        assert db.session.query(PersonalToken).count() == 0


def test_a_profile_only_code_gets_no_token_at_the_token_endpoint(client, author):
    sign_in = SignIn(scope="profile")
    code = authorize(client, sign_in, author.username)
    refused = exchange(client, sign_in, code)
    assert refused.status_code == 400
    assert refused.get_json()["error"] == "invalid_grant"
    assert "authorization endpoint" in refused.get_json()["error_description"]


def test_profile_scope_adds_the_profile_to_the_token_answer_without_email(client, author):
    sign_in = SignIn(scope="create profile")
    token = exchange(client, sign_in, authorize(client, sign_in, author.username)).get_json()
    assert token["scope"] == "create profile"
    assert token["profile"] == {
        "name": author.username,
        "url": f"http://localhost/authors/{author.username}",
    }


def test_the_writer_cancels_and_the_client_hears_access_denied(client, author):
    sign_in = SignIn()
    page = consent_page(client, sign_in)
    denied = consent(client, csrf_token(page), "", password="", decision="deny")
    params = redirected_params(denied, sign_in)
    assert params["error"] == "access_denied"
    assert params["state"] == sign_in.state and params["iss"] == "http://localhost/"
    assert "code" not in params


def test_the_redirect_keeps_the_clients_own_query(client, author):
    sign_in = SignIn(redirect_uri="http://127.0.0.1:8123/callback?app=quill")
    page = consent_page(client, sign_in)
    answer = consent(client, csrf_token(page), author.username, scopes=["create"])
    location = answer.headers["Location"]
    assert location.startswith("http://127.0.0.1:8123/callback?app=quill&code=")
    assert "&iss=http%3A%2F%2Flocalhost%2F" in location


def test_the_writer_introspects_their_token_and_then_revokes_it(client, author, make_account):
    sign_in = SignIn(scope="create")
    token = exchange(client, sign_in, authorize(client, sign_in, author.username)).get_json()
    secret = token["access_token"]
    seen = client.post("/indieauth/introspect", data={"token": secret}, headers=author.headers)
    assert seen.status_code == 200
    body = seen.get_json()
    assert body["active"] is True and body["scope"] == "create"
    assert body["me"] == f"http://localhost/authors/{author.username}"
    assert body["client_id"] == sign_in.client_id
    assert isinstance(body["iat"], int) and "exp" not in body
    self_seen = client.post("/indieauth/introspect", data={"token": secret}, headers=bearer(secret))
    assert self_seen.get_json()["active"] is True
    other = make_account("author")
    hidden = client.post("/indieauth/introspect", data={"token": secret}, headers=other.headers)
    assert hidden.get_json() == {"active": False}
    admin = make_account("admin")
    assert client.post(
        "/indieauth/introspect", data={"token": secret}, headers=admin.headers
    ).get_json()["active"]
    anonymous = client.post("/indieauth/introspect", data={"token": secret})
    assert anonymous.status_code == 401 and anonymous.get_json()["error"] == "invalid_token"
    assert "WWW-Authenticate" in anonymous.headers
    assert client.post("/indieauth/revoke", data={"token": secret}).status_code == 200
    gone = client.post("/indieauth/introspect", data={"token": secret}, headers=author.headers)
    assert gone.get_json() == {"active": False}
    assert client.post("/micropub", data={"h": "entry", "content": "x"}, headers=bearer(secret)
                       ).status_code == 401  # fmt: skip
    again = client.post("/indieauth/revoke", data={"token": secret})
    assert (again.status_code, again.get_json()) == (200, {})


def test_the_older_revocation_form_at_the_token_endpoint_works(client, author):
    sign_in = SignIn(scope="create")
    secret = exchange(client, sign_in, authorize(client, sign_in, author.username)).get_json()[
        "access_token"
    ]
    revoked = client.post("/indieauth/token", data={"action": "revoke", "token": secret})
    assert revoked.status_code == 200
    assert client.get("/api/v1/auth/me", headers=bearer(secret)).status_code == 401


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({}, "invalid_request"),
        ({"grant_type": "password", "code": "x"}, "unsupported_grant_type"),
        ({"grant_type": "authorization_code", "code": "nope", "client_id": "http://a.example/",
          "redirect_uri": "http://a.example/cb", "code_verifier": "v" * 43}, "invalid_grant"),
    ],
)  # fmt: skip
def test_the_token_endpoint_answers_bad_requests_with_oauth_errors(client, form, error):
    refused = client.post("/indieauth/token", data=form)
    assert refused.status_code == 400 and refused.mimetype == "application/json"
    assert refused.get_json()["error"] == error
    assert refused.get_json()["error_description"]


def test_introspection_and_revocation_need_the_token_field(client, author):
    for path, headers in (("/indieauth/introspect", author.headers), ("/indieauth/revoke", {})):
        refused = client.post(path, data={}, headers=headers)
        assert refused.status_code == 400 and refused.get_json()["error"] == "invalid_request"


def test_a_headless_site_has_no_indieauth(client, app):
    app.config["PUBLIC_SITE"] = False
    for path in ("/.well-known/oauth-authorization-server", SignIn().url()):
        assert client.get(path).status_code == 404
    assert client.post("/indieauth/token", data={}).status_code == 404
