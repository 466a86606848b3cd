"""A whole story through the API, every reply checked against the document the app serves."""

from __future__ import annotations

import pytest

import config as settings
from blogapi import create_app
from blogapi.routes import API_PREFIX
from tests.support.accounts import PASSWORD, bearer, set_role
from tests.support.contract import ContractClient

API = API_PREFIX


@pytest.fixture
def api(app, client) -> ContractClient:
    """A client whose every reply must match the served document."""
    document = client.get(f"{API}/openapi.json").get_json()
    return ContractClient(app, client, document)


def sign_in(api: ContractClient, username: str) -> dict[str, str]:
    """Log in through the API; the Authorization header of the new access token."""
    pair = api.call("POST", f"{API}/auth/login", json={"username": username, "password": PASSWORD})
    assert pair.status_code == 200
    return bearer(pair.get_json()["access_token"])


def test_a_whole_story_matches_the_document(app, api):
    assert api.call("GET", f"{API}/openapi.json").status_code == 200
    assert api.call("GET", f"{API}/health").status_code == 200
    assert api.call("GET", f"{API}/docs").status_code == 200
    assert api.call("GET", "/.well-known/jwks.json").status_code == 404  # a shared secret

    # Accounts: sign-ups, a taken name, a bad body, a bad password, and an admin.
    for name in ("ada", "root"):
        account = {"username": name, "email": f"{name}@example.com", "password": PASSWORD}
        assert api.call("POST", f"{API}/auth/register", json=account).status_code == 201
    assert api.call("POST", f"{API}/auth/register", json=account).status_code == 409
    bad = {"username": "x", "email": "no", "password": "", "extra": 1}
    assert api.call("POST", f"{API}/auth/register", json=bad).status_code == 422
    wrong = {"username": "ada", "password": "not the password"}
    assert api.call("POST", f"{API}/auth/login", json=wrong).status_code == 401
    set_role(app, "root", "admin")
    ada, root = sign_in(api, "ada"), sign_in(api, "root")

    assert api.call("GET", f"{API}/auth/me").status_code == 401
    assert api.call("GET", f"{API}/auth/me", headers=ada).status_code == 200
    me = api.call("PATCH", f"{API}/auth/me", json={"bio": "Poet of science"}, headers=ada)
    assert me.get_json()["bio"] == "Poet of science"
    assert api.call("PATCH", f"{API}/auth/me", data="{", headers=ada).status_code == 415
    raw = {**ada, "Content-Type": "application/json"}
    assert api.call("PATCH", f"{API}/auth/me", data="{", headers=raw).status_code == 400

    # Posts: drafts, publishing, editing with and without a current ETag.
    ids = []
    for n in range(3):
        post = {"title": f"Post {n}", "body": f"Body *{n}*.", "tags": ["news", f"t{n}"]}
        created = api.call("POST", f"{API}/posts", json=post, headers=ada)
        assert created.status_code == 201
        ids.append(created.get_json()["id"])
    for ident in ids[:2]:
        assert api.call("POST", f"{API}/posts/{ident}/publish", headers=ada).status_code == 200
    stale = {**ada, "If-Match": '"stale"'}
    assert api.call("PATCH", f"{API}/posts/{ids[0]}", json={}, headers=stale).status_code == 412
    edited = api.call("PATCH", f"{API}/posts/{ids[0]}", json={"summary": "S."}, headers=ada)
    assert edited.status_code == 200
    assert api.call("POST", f"{API}/posts/{ids[0]}/unpublish", headers=ada).status_code == 200
    assert api.call("POST", f"{API}/posts/{ids[0]}/publish", headers=ada).status_code == 200
    assert api.call("POST", f"{API}/posts", json={"title": "t"}, headers=ada).status_code == 422

    # Reading, anonymously and signed in, by page and by cursor.
    first = api.call("GET", f"{API}/posts?per_page=1")
    assert first.get_json()["meta"]["page"] == 1
    cursor = first.get_json()["meta"]["next_cursor"]
    by_cursor = api.call("GET", f"{API}/posts?per_page=1&cursor={cursor}")
    assert by_cursor.get_json()["meta"]["page"] is None  # the document must allow this null
    assert api.call("GET", f"{API}/posts?status=all", headers=ada).status_code == 200
    assert api.call("GET", f"{API}/posts?q=Body").status_code == 200
    assert api.call("GET", f"{API}/posts?per_page=0").status_code == 422
    read = api.call("GET", f"{API}/posts/{ids[1]}")
    again = {"If-None-Match": read.headers["ETag"]}
    assert api.call("GET", f"{API}/posts/{ids[1]}", headers=again).status_code == 304
    assert api.call("GET", f"{API}/posts/{read.get_json()['slug']}").status_code == 200
    assert api.call("GET", f"{API}/posts/{ids[2]}").status_code == 404  # someone's draft
    assert api.call("GET", f"{API}/posts/{ids[2]}", headers=ada).status_code == 200
    assert api.call("GET", f"{API}/tags").get_json()[0]["name"] == "news"

    # Users: public profiles for anyone, management for admins.
    assert api.call("GET", f"{API}/users/ada").get_json()["role"] == "author"
    assert api.call("GET", f"{API}/users/nobody").status_code == 404
    assert api.call("GET", f"{API}/users", headers=ada).status_code == 403
    assert api.call("GET", f"{API}/users?role=author", headers=root).status_code == 200
    demote = {"role": "contributor"}
    assert api.call("PATCH", f"{API}/users/ada", json=demote, headers=root).status_code == 200
    last_admin = {"role": "editor"}
    assert api.call("PATCH", f"{API}/users/root", json=last_admin, headers=root).status_code == 409
    ada = sign_in(api, "ada")  # a new role revokes older tokens
    assert api.call("POST", f"{API}/posts/{ids[2]}/publish", headers=ada).status_code == 403

    # Tokens: refresh, a password change, deleting, logging out.
    pair = api.call(
        "POST", f"{API}/auth/login", json={"username": "root", "password": PASSWORD}
    ).get_json()
    refreshed = api.call("POST", f"{API}/auth/refresh", headers=bearer(pair["refresh_token"]))
    assert refreshed.status_code == 200
    change = {"current_password": PASSWORD, "new_password": "a new passphrase for root"}
    assert api.call("PUT", f"{API}/auth/password", json=change, headers=root).status_code == 200
    assert api.call("DELETE", f"{API}/posts/{ids[2]}", headers=ada).status_code == 204
    assert api.call("POST", f"{API}/auth/logout", headers=ada).status_code == 204
    assert api.call("POST", f"{API}/auth/logout", headers=ada).status_code == 401

    statuses = {status for _operation, _method, status in api.checked}
    assert {200, 201, 204, 304, 400, 401, 403, 404, 409, 412, 415, 422} <= statuses


def test_a_lost_database_answers_as_documented(tmp_path):
    unreachable = f"sqlite:///{tmp_path}/no-such-dir/blogapi.db"
    app = create_app(settings.TestingConfig(), SQLALCHEMY_DATABASE_URI=unreachable)
    client = app.test_client()
    api = ContractClient(app, client, client.get(f"{API}/openapi.json").get_json())
    assert api.call("GET", f"{API}/health").get_json()["database"] == "unavailable"
    login = {"username": "ada", "password": PASSWORD}
    assert api.call("POST", f"{API}/auth/login", json=login).status_code == 503
    assert api.call("GET", f"{API}/posts").status_code == 503
