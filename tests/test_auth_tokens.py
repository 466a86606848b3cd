"""Tokens over their life: refresh, rotation, reuse, logout, password change, forgeries."""

from __future__ import annotations

import time
from datetime import timedelta

import jwt
import pytest
from flask_jwt_extended import create_access_token

from blogapi.accounts import sessions
from blogapi.db.models import User
from blogapi.extensions import db
from tests.support.accounts import bearer, login
from tests.support.problems import assert_problem

API = "/api/v1"
ME = f"{API}/auth/me"


def refresh(client, token):
    """POST /auth/refresh with a refresh token."""
    return client.post(f"{API}/auth/refresh", headers=bearer(token))


def test_refreshing_rotates_the_refresh_token(client, author):
    response = refresh(client, author.refresh_token)
    assert response.status_code == 200
    pair = response.get_json()
    assert set(pair) == {"access_token", "refresh_token", "token_type", "expires_in", "user"}
    assert pair["refresh_token"] != author.refresh_token
    assert client.get(ME, headers=bearer(pair["access_token"])).status_code == 200
    claims = jwt.decode(pair["access_token"], options={"verify_signature": False})
    assert claims["fresh"] is False


def test_a_rotated_refresh_token_presented_again_revokes_every_session(client, author):
    stolen = author.refresh_token
    pair = refresh(client, stolen).get_json()
    body = assert_problem(refresh(client, stolen), 401)
    assert "revoked" in body["detail"]
    assert_problem(client.get(ME, headers=bearer(pair["access_token"])), 401)
    assert_problem(refresh(client, pair["refresh_token"]), 401)
    assert_problem(client.get(ME, headers=author.headers), 401)
    assert login(client, author.username).status_code == 200


def test_a_pair_rotated_while_a_duplicate_revokes_everything_is_revoked_too(
    client, author, monkeypatch
):
    issue = sessions.issue_token_pair

    def duplicate_got_in_first(user, **kwargs):
        # A duplicate of the same refresh token, on another worker, right after this request
        # committed the rotation: it finds the token spent and revokes every token of the user.
        user.revoke_all_tokens()
        db.session.commit()
        return issue(user, **kwargs)

    monkeypatch.setattr(sessions, "issue_token_pair", duplicate_got_in_first)
    pair = refresh(client, author.refresh_token).get_json()
    assert_problem(client.get(ME, headers=bearer(pair["access_token"])), 401)
    assert_problem(refresh(client, pair["refresh_token"]), 401)


def test_access_and_refresh_tokens_cannot_stand_in_for_each_other(client, author):
    assert_problem(refresh(client, author.access_token), 401)
    assert_problem(client.get(ME, headers=author.refresh_headers), 401)


def test_logout_revokes_the_access_token(client, author):
    response = client.post(f"{API}/auth/logout", headers=author.headers)
    assert response.status_code == 204 and response.data == b""
    body = assert_problem(client.get(ME, headers=author.headers), 401)
    assert "revoked" in body["detail"]
    assert (
        'error="invalid_token"'
        in client.get(ME, headers=author.headers).headers["WWW-Authenticate"]
    )
    assert refresh(client, author.refresh_token).status_code == 200


@pytest.mark.parametrize(
    ("body", "status"),
    [(b"", 204), (b" \r\n\t", 204), (b"\x0c", 400), (b"\x0b{}", 400)],
    ids=["empty", "json-whitespace", "form-feed", "vertical-tab"],
)
def test_a_logout_body_is_empty_only_by_jsons_own_whitespace(client, author, body, status):
    headers = {**author.headers, "Content-Type": "application/json"}
    response = client.post(f"{API}/auth/logout", data=body, headers=headers)
    if status == 204:
        assert response.status_code == 204
    else:
        assert_problem(response, status)
        assert client.get(ME, headers=author.headers).status_code == 200  # nothing revoked


def test_logout_can_also_revoke_the_refresh_token(client, author):
    response = client.post(
        f"{API}/auth/logout", json={"refresh_token": author.refresh_token}, headers=author.headers
    )
    assert response.status_code == 204
    assert_problem(refresh(client, author.refresh_token), 401)


def test_logout_all_revokes_every_token_of_the_user(client, make_account):
    ada = make_account(username="ada")
    second = login(client, "ada").get_json()
    other = make_account()
    response = client.post(f"{API}/auth/logout", json={"all": True}, headers=ada.headers)
    assert response.status_code == 204
    assert_problem(client.get(ME, headers=bearer(second["access_token"])), 401)
    assert_problem(refresh(client, second["refresh_token"]), 401)
    assert client.get(ME, headers=other.headers).status_code == 200


def test_logout_refuses_someone_elses_or_a_bogus_refresh_token(client, make_account):
    ada, grace = make_account(), make_account()
    for token in (grace.refresh_token, ada.access_token, "not.a.token"):
        response = client.post(
            f"{API}/auth/logout", json={"refresh_token": token}, headers=ada.headers
        )
        assert "refresh_token" in assert_problem(response, 422)["errors"]
    assert client.get(ME, headers=ada.headers).status_code == 200
    assert_problem(client.post(f"{API}/auth/logout", json={"all": "yes"}, headers=ada.headers), 422)


def change_password(client, token, current, new):
    """PUT /auth/password."""
    return client.put(
        f"{API}/auth/password",
        json={"current_password": current, "new_password": new},
        headers=bearer(token),
    )


def test_changing_the_password_revokes_older_tokens(client, author):
    new = "a much longer new passphrase"
    response = change_password(client, author.access_token, author.password, new)
    assert response.status_code == 200
    pair = response.get_json()
    assert client.get(ME, headers=bearer(pair["access_token"])).status_code == 200
    assert refresh(client, pair["refresh_token"]).status_code == 200
    assert_problem(client.get(ME, headers=author.headers), 401)
    assert_problem(refresh(client, author.refresh_token), 401)
    assert_problem(login(client, author.username), 401)
    assert login(client, author.username, new).status_code == 200


def test_changing_the_password_needs_a_fresh_token(client, author):
    refreshed = refresh(client, author.refresh_token).get_json()["access_token"]
    body = assert_problem(
        change_password(client, refreshed, author.password, "another pass 123"), 401
    )
    assert "fresh" in body["detail"]


def test_changing_the_password_needs_the_current_one_and_a_good_new_one(client, author):
    assert_problem(change_password(client, author.access_token, "wrong!", "another pass 123"), 401)
    body = assert_problem(
        change_password(client, author.access_token, author.password, "password"), 422
    )
    assert "new_password" in body["errors"]
    assert client.get(ME, headers=author.headers).status_code == 200


def forge(
    claims_override=None,
    key="testing-jwt-secret-key-that-is-long-enough-0123456789",
    algorithm="HS256",
    headers=None,
    drop=(),
):
    """A token signed by hand, starting from valid claims."""
    now = int(time.time())
    claims = {
        "sub": "1",
        "jti": "forged-jti",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "type": "access",
        "fresh": True,
        "iss": "blogapi",
        "aud": "blogapi",
        "role": "admin",
        "ver": 1,
    }
    claims.update(claims_override or {})
    for name in drop:
        claims.pop(name)
    return jwt.encode(claims, key, algorithm=algorithm, headers=headers)


def unsigned(claims_override=None):
    """An `alg: none` token."""
    return forge(claims_override, key=None, algorithm="none")


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(
            lambda: forge(key="an attacker's guess at the secret key, long"), id="bad-signature"
        ),
        pytest.param(lambda: unsigned(), id="alg-none"),
        pytest.param(lambda: forge({"exp": int(time.time()) - 60}), id="expired"),
        pytest.param(lambda: forge({"nbf": int(time.time()) + 600}), id="not-yet-valid"),
        pytest.param(lambda: forge({"iss": "someone-else"}), id="wrong-issuer"),
        pytest.param(lambda: forge({"aud": "another-api"}), id="wrong-audience"),
        pytest.param(lambda: forge(drop=("aud",)), id="no-audience"),
        pytest.param(lambda: forge(drop=("exp",)), id="no-expiry"),
        pytest.param(lambda: forge(drop=("ver",)), id="no-version"),
        pytest.param(lambda: forge({"sub": "999"}), id="unknown-user"),
        pytest.param(lambda: forge({"sub": "abc"}), id="non-numeric-subject"),
        pytest.param(lambda: forge({"type": "refresh"}), id="refresh-as-access"),
        pytest.param(lambda: forge({"ver": 0}), id="old-version"),
        pytest.param(lambda: "a.b.c", id="garbage"),
        pytest.param(
            lambda: forge(
                algorithm="HS512", key="testing-jwt-secret-key-that-is-long-enough-0123456789"
            ),
            id="other-algorithm",
        ),
    ],
)
@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_forged_and_broken_tokens_are_401_never_422(client, author, token):
    response = client.get(ME, headers=bearer(token()))
    assert_problem(response, 401)


def test_a_correctly_signed_token_of_a_real_user_works(client, author):
    assert client.get(ME, headers=bearer(forge({"sub": str(author.user["id"])}))).status_code == 200


def test_an_integer_subject_is_refused(client, author):
    token = forge({"sub": author.user["id"]})
    assert_problem(client.get(ME, headers=bearer(token)), 401)


def test_a_token_of_a_deactivated_user_stops_working_at_once(app, client, author):
    with app.app_context():
        db.session.scalar(db.select(User).where(User.username == author.username)).active = False
        db.session.commit()
    assert_problem(client.get(ME, headers=author.headers), 401)
    assert_problem(refresh(client, author.refresh_token), 401)


def test_an_expired_token_made_by_the_app_is_refused(app, client, author):
    with app.test_request_context():
        token = create_access_token(
            identity=str(author.user["id"]),
            expires_delta=timedelta(seconds=-30),
            additional_claims={"ver": 1, "role": "author"},
        )
    body = assert_problem(client.get(ME, headers=bearer(token)), 401)
    assert "expired" in body["detail"]
