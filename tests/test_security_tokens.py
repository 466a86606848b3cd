"""Stories about forged, tampered and misused tokens (RFC 8725, the JWT BCP).

Each attack starts from a real token the API issued, changes one thing, signs it again
(with our own secret where that makes the attack stronger) and presents it.
"""

from __future__ import annotations

import time

import orjson
import pytest
from sqlalchemy import select

from blogapi.db.models import User
from blogapi.extensions import db
from tests.support.accounts import Account
from tests.support.tokens import assert_refused, b64url, claims_of, forge, get_me

REFRESH = "/api/v1/auth/refresh"


def unsigned(token: str, alg: str) -> str:
    """The same claims with an `alg` header that asks for no signature at all."""
    header = b64url(orjson.dumps({"alg": alg, "typ": "JWT"}))
    payload = b64url(orjson.dumps(claims_of(token)))
    return f"{header}.{payload}."


def test_a_token_re_signed_with_the_server_secret_is_accepted(app, client, author: Account):
    """The control for every attack below: the forging helper itself makes valid tokens."""
    response = get_me(client, forge(app, author.access_token))
    assert response.status_code == 200
    assert response.get_json()["username"] == author.username


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE", ""])
def test_an_unsigned_token_is_refused(client, author: Account, alg: str):
    """Mallory strips the signature and says alg none: the algorithm is pinned."""
    assert_refused(get_me(client, unsigned(author.access_token, alg)))


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
def test_another_algorithm_with_the_same_secret_is_refused(app, client, author, algorithm):
    """Even a correct signature is refused when the header names another algorithm."""
    assert_refused(get_me(client, forge(app, author.access_token, algorithm=algorithm)))


def test_a_token_signed_with_another_secret_is_refused(app, client, author: Account):
    """A token from someone who does not know JWT_SECRET_KEY."""
    token = forge(app, author.access_token, key="another secret of at least thirty-two bytes!")
    assert_refused(get_me(client, token))


def test_a_tampered_payload_is_refused(client, make_account):
    """Mallory, an author, edits her token to say she is user 1 without re-signing it."""
    victim = make_account("admin")
    mallory = make_account("author")
    header, _payload, signature = mallory.access_token.split(".")
    claims = {**claims_of(mallory.access_token), "sub": claims_of(victim.access_token)["sub"]}
    token = f"{header}.{b64url(orjson.dumps(claims))}.{signature}"
    assert_refused(get_me(client, token))


@pytest.mark.parametrize(
    "claim", ["exp", "iat", "nbf", "iss", "aud", "sub", "jti", "type", "fresh", "ver"]
)
def test_a_token_missing_a_claim_is_refused(app, client, author: Account, claim: str):
    """Every claim we issue is required: no exp means a token that never expires."""
    assert_refused(get_me(client, forge(app, author.access_token, drop=(claim,))))


def test_a_refresh_token_missing_its_type_does_not_become_an_access_token(app, client, author):
    """flask-jwt-extended reads a missing type as "access"; we refuse the token instead."""
    assert_refused(get_me(client, forge(app, author.refresh_token, drop=("type",))))


def test_an_unknown_token_type_is_refused(app, client, author: Account):
    """Only access and refresh tokens exist."""
    assert_refused(get_me(client, forge(app, author.access_token, type="id")))


@pytest.mark.parametrize("seconds_ago", [10, 60, 3600])
def test_an_expired_token_is_refused_after_a_few_seconds_of_leeway(
    app, client, author, seconds_ago
):
    """Clock skew is forgiven for 5 seconds (JWT_DECODE_LEEWAY), not more."""
    token = forge(app, author.access_token, exp=int(time.time()) - seconds_ago)
    assert_refused(get_me(client, token))


def test_a_token_that_expired_a_moment_ago_is_still_accepted(app, client, author: Account):
    """The leeway exists: one second of skew does not log anyone out."""
    token = forge(app, author.access_token, exp=int(time.time()) - 1)
    assert get_me(client, token).status_code == 200


@pytest.mark.parametrize("claim", ["nbf", "iat"])
def test_a_token_from_the_future_is_refused(app, client, author: Account, claim: str):
    """A token not valid before next minute, or issued next minute, is not valid now."""
    token = forge(app, author.access_token, **{claim: int(time.time()) + 60})
    assert_refused(get_me(client, token))


@pytest.mark.parametrize(
    "changes",
    [
        {"iss": "someone-else"},
        {"aud": "another-service"},
        {"aud": ["another-service", "and-another"]},
        {"iss": ""},
    ],
    ids=["issuer", "audience", "audience-list", "empty-issuer"],
)
def test_a_token_for_another_issuer_or_audience_is_refused(app, client, author, changes):
    """A token some other service issued with a shared secret is not for us."""
    assert_refused(get_me(client, forge(app, author.access_token, **changes)))


def test_a_refresh_token_cannot_be_used_as_an_access_token(client, author: Account):
    """The long-lived refresh token opens nothing but /auth/refresh."""
    assert_refused(get_me(client, author.refresh_token))
    response = client.post(
        "/api/v1/auth/logout", headers={"Authorization": f"Bearer {author.refresh_token}"}
    )
    assert_refused(response)


def test_an_access_token_cannot_be_used_to_refresh(client, author: Account):
    """An access token cannot mint new token pairs."""
    assert_refused(client.post(REFRESH, headers=author.headers))


@pytest.mark.parametrize(
    "subject",
    [1, "abc", "", "0", "01", " 1", "1 ", "1.0", "+1", "-1", "\uff11", "\u00b9", "9" * 40],
    ids=repr,
)
def test_a_subject_that_is_not_a_user_id_string_is_refused(app, client, author, subject):
    """sub must be the user id as a string of ASCII digits: not a number, not look-alikes."""
    assert_refused(get_me(client, forge(app, author.access_token, sub=subject)))


def test_a_token_for_a_user_that_does_not_exist_is_refused(app, client, author: Account):
    """A well-signed token for user 999999 (deleted, or never there)."""
    assert_refused(get_me(client, forge(app, author.access_token, sub="999999")))


def test_a_deactivated_users_tokens_stop_working_at_once(client, admin, make_account):
    """An admin deactivates Bob; Bob's unexpired tokens are refused on the next request."""
    bob = make_account("author")
    response = client.patch(
        f"/api/v1/users/{bob.username}", json={"active": False}, headers=admin.headers
    )
    assert response.status_code == 200
    assert_refused(get_me(client, bob.access_token))
    assert_refused(client.post(REFRESH, headers=bob.refresh_headers))


def test_a_token_of_a_user_deactivated_outside_the_api_is_refused(app, client, author):
    """Even when only the active flag changes (a console, a SQL fix), the user's tokens stop."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == author.username))
        user.active = False
        db.session.commit()
    assert_refused(get_me(client, author.access_token))
