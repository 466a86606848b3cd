"""A new writer registers and logs in; what they may and may not send."""

from __future__ import annotations

import jwt
import pytest

from blogapi.db.models import User
from blogapi.extensions import db
from tests.support.accounts import PASSWORD, bearer, login, register
from tests.support.apps import make_app
from tests.support.problems import assert_problem, comparable

API = "/api/v1"


def test_registering_returns_the_new_user_and_where_to_find_them(client):
    response = register(client, "Ada", "ada@example.com")
    assert response.status_code == 201
    body = response.get_json()
    assert body["username"] == "Ada"
    assert body["email"] == "ada@example.com"
    assert body["role"] == "author"
    assert body["display_name"] == "Ada"
    assert body["created_at"].endswith("Z")
    assert "password" not in body and "password_hash" not in body
    assert response.headers["Location"] == f"{API}/users/Ada"
    assert client.get(response.headers["Location"]).status_code == 200


@pytest.mark.parametrize(
    ("username", "email", "field"),
    [("ADA", "other@example.com", "username"), ("grace", "ADA@Example.COM", "email")],
)
def test_usernames_and_emails_are_unique_whatever_their_case(client, username, email, field):
    assert register(client, "ada", "ada@example.com").status_code == 201
    body = assert_problem(register(client, username, email), 409)
    assert list(body["errors"]) == [field]


def test_invalid_registration_names_every_bad_field(client):
    payload = {"username": "a b", "email": "not-an-email", "password": "x", "role": "admin"}
    body = assert_problem(client.post(f"{API}/auth/register", json=payload), 422)
    assert set(body["errors"]) == {"username", "email", "password", "role"}
    assert body["errors"]["role"] == ["Unknown field."]
    assert body["title"] == "Unprocessable Content"


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "at least 8"),
        ("password123", "too common"),
        ("ada_lovelace", "same as the username"),
        ("aaaaaaaaaaaa", "repeat"),
    ],
)
def test_weak_passwords_are_refused(client, password, message):
    response = register(client, "ada_lovelace", "ada@example.com", password=password)
    body = assert_problem(response, 422)
    assert message in " ".join(body["errors"]["password"]).lower()


def test_long_passphrases_are_welcome(client):
    passphrase = "the analytical engine weaves algebraic patterns " * 10
    assert register(client, "ada", "ada@example.com", password=passphrase).status_code == 201
    assert login(client, "ada", passphrase).status_code == 200


def test_registration_can_be_closed(app):
    closed = make_app(REGISTRATION_OPEN=False)
    assert_problem(register(closed.test_client(), "ada", "ada@example.com"), 403)


def test_registration_gives_the_configured_default_role():
    app = make_app(DEFAULT_ROLE="contributor")
    assert register(app.test_client(), "ada", "ada@example.com").get_json()["role"] == "contributor"


def test_login_gives_a_token_pair_with_the_contracted_claims(app, client):
    register(client, "ada", "ada@example.com")
    response = login(client, "ada")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    pair = response.get_json()
    assert pair["token_type"] == "Bearer"
    assert pair["expires_in"] == 15 * 60
    assert pair["user"]["username"] == "ada" and pair["user"]["email"] == "ada@example.com"
    claims = jwt.decode(pair["access_token"], options={"verify_signature": False})
    for claim in ("sub", "jti", "iat", "nbf", "exp", "type", "fresh", "iss", "aud", "role"):
        assert claim in claims, claim
    assert claims["sub"] == str(pair["user"]["id"]) and isinstance(claims["sub"], str)
    assert (claims["type"], claims["fresh"], claims["role"]) == ("access", True, "author")
    assert (claims["iss"], claims["aud"]) == ("blogapi", "blogapi")
    assert claims["exp"] - claims["iat"] == 15 * 60
    refresh = jwt.decode(pair["refresh_token"], options={"verify_signature": False})
    assert refresh["type"] == "refresh"
    assert refresh["exp"] - refresh["iat"] == 43200 * 60


def test_login_accepts_the_email_in_any_case(client):
    register(client, "ada", "ada@example.com")
    assert login(client, "ADA@EXAMPLE.COM").status_code == 200
    assert login(client, "Ada").status_code == 200


def test_unknown_user_and_wrong_password_look_the_same(app, client, monkeypatch):
    register(client, "ada", "ada@example.com")
    verified = []
    hasher = app.extensions["blogapi.passwords"]
    original = hasher.context.verify
    monkeypatch.setattr(
        hasher.context, "verify", lambda *a, **k: verified.append(1) or original(*a, **k)
    )
    wrong = login(client, "ada", "not the password at all")
    unknown = login(client, "nobody", "not the password at all")
    assert_problem(wrong, 401)
    assert_problem(unknown, 401)
    assert comparable(wrong) == comparable(unknown)
    assert dict(wrong.headers)["WWW-Authenticate"] == dict(unknown.headers)["WWW-Authenticate"]
    assert verified, "an unknown user must still cost a password verification"


def test_a_deactivated_user_learns_it_only_with_the_right_password(app, client):
    register(client, "ada", "ada@example.com")
    with app.app_context():
        db.session.scalar(db.select(User)).active = False
        db.session.commit()
    assert_problem(login(client, "ada", "wrong password here"), 401)
    assert_problem(login(client, "ada"), 403)


def test_login_validates_its_body(client):
    assert_problem(client.post(f"{API}/auth/login", json={"username": "ada"}), 422)
    body = assert_problem(
        client.post(f"{API}/auth/login", json={"username": "a", "password": "b", "x": 1}), 422
    )
    assert body["errors"] == {"x": ["Unknown field."]}


def test_me_shows_and_updates_the_callers_profile(client, author):
    me = client.get(f"{API}/auth/me", headers=author.headers)
    assert me.status_code == 200 and me.get_json()["email"] == author.email
    changed = client.patch(
        f"{API}/auth/me",
        json={"display_name": "  Ada L.  ", "bio": "Poet of science", "email": "new@example.com"},
        headers=author.headers,
    )
    assert changed.status_code == 200
    body = changed.get_json()
    assert (body["display_name"], body["bio"], body["email"], body["pending_email"]) == (
        "Ada L.",
        "Poet of science",
        author.email,  # until the link mailed to the new address is followed
        "new@example.com",
    )
    assert login(client, author.email).status_code == 200


def test_me_refuses_role_and_taken_emails(client, make_account):
    ada, grace = make_account(), make_account()
    for field, value in [("role", "admin"), ("active", False), ("id", 99), ("username", "x")]:
        body = assert_problem(
            client.patch(f"{API}/auth/me", json={field: value}, headers=ada.headers), 422
        )
        assert field in body["errors"]
    taken = client.patch(f"{API}/auth/me", json={"email": grace.email.upper()}, headers=ada.headers)
    assert assert_problem(taken, 409)["errors"] == {"email": ["This email is already registered."]}
    assert client.get(f"{API}/auth/me", headers=ada.headers).get_json()["role"] == "author"


def test_the_password_is_never_stored_in_clear(app, client):
    register(client, "ada", "ada@example.com")
    with app.app_context():
        stored = db.session.scalar(db.select(User.password_hash))
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_me_needs_a_token(client):
    assert_problem(client.get(f"{API}/auth/me"), 401)
    assert_problem(client.get(f"{API}/auth/me", headers={"Authorization": "Basic YWRhOng="}), 401)
    assert_problem(client.get(f"{API}/auth/me", headers=bearer("")), 401)
