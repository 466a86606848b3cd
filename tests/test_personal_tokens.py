"""A writer makes a personal access token for an app, the app writes with it, the writer (or an
admin) takes it away: scopes within the role, never beyond, never past a revocation."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select, text, update

from blogapi.db.models import PersonalToken
from blogapi.extensions import db
from blogapi.timeutil import utcnow
from tests.support.accounts import PASSWORD, bearer
from tests.support.databases import sent_statements
from tests.support.media import image_bytes, upload
from tests.support.personal_tokens import TOKENS, as_app, expire, make_token
from tests.support.posts import new_post, publish, write_post
from tests.support.problems import assert_problem

API = "/api/v1"
ALL_SCOPES = ["create", "update", "delete", "media", "draft"]


def stored_tokens(app) -> list[PersonalToken]:
    """Every personal access token row, as the database holds it."""
    with app.app_context():
        rows = list(db.session.scalars(select(PersonalToken)))
        db.session.expunge_all()
        return rows


def test_a_token_is_shown_once_and_stored_only_as_a_hash(app, client, author):
    response = client.post(
        TOKENS,
        json={"name": "iA Writer", "scopes": ["media", "create", "update"]},
        headers=author.headers,
    )
    assert response.status_code == 201
    made = response.get_json()
    secret = made["token"]
    assert secret.startswith("blogapi_pat_") and len(secret) >= len("blogapi_pat_") + 43
    assert made["scopes"] == ["create", "update", "media"]  # the contract's order, once each
    assert made["expires_at"] is None and made["last_used_at"] is None
    assert response.headers["Location"].endswith(f"/auth/tokens/{made['id']}")

    [row] = stored_tokens(app)
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    with app.app_context():
        dumped = " ".join(map(str, db.session.execute(text("SELECT * FROM personal_tokens")).one()))
    assert secret.removeprefix("blogapi_pat_") not in dumped

    listed = client.get(TOKENS, headers=author.headers).get_json()
    assert [token["id"] for token in listed] == [made["id"]]
    assert "token" not in listed[0] and secret not in str(listed)
    shown = client.get(f"{TOKENS}/{made['id']}", headers=author.headers).get_json()
    assert shown == {key: value for key, value in made.items() if key != "token"}


def test_two_tokens_never_share_a_secret(client, author):
    secrets = {make_token(client, author, ["create"])["token"] for _ in range(5)}
    assert len(secrets) == 5


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "x", "scopes": []}, "scopes"),
        ({"name": "x", "scopes": ["admin"]}, "scopes"),
        ({"name": "x", "scopes": "create"}, "scopes"),
        ({"name": "", "scopes": ["create"]}, "name"),
        ({"name": "a\nb", "scopes": ["create"]}, "name"),
        ({"name": "x" * 101, "scopes": ["create"]}, "name"),
        ({"scopes": ["create"]}, "name"),
        ({"name": "x", "scopes": ["create"], "expires_in_days": 0}, "expires_in_days"),
        ({"name": "x", "scopes": ["create"], "expires_in_days": "soon"}, "expires_in_days"),
        ({"name": "x", "scopes": ["create"], "token": "blogapi_pat_mine"}, "token"),
    ],
)
def test_a_bad_token_request_is_422_naming_the_field(client, author, payload, field):
    body = assert_problem(client.post(TOKENS, json=payload, headers=author.headers), 422)
    assert any(name.split(".")[0] == field for name in body["errors"])


def test_an_app_writes_drafts_with_its_token_as_its_user(client, author):
    app_account, _ = as_app(client, author, ["create", "update"])
    post = new_post(client, app_account, title="From my phone")
    assert post["author"]["username"] == author.username
    edited = client.patch(
        f"{API}/posts/{post['id']}",
        json={"title": "From my phone, edited"},
        headers=app_account.headers,
    )
    assert edited.status_code == 200
    drafts = client.get(f"{API}/posts?status=draft", headers=app_account.headers).get_json()
    assert [item["id"] for item in drafts["items"]] == [post["id"]]
    assert publish(client, app_account, post["id"]).status_code == 200  # update; author role


def test_a_token_without_the_scope_is_refused_with_rfc6750s_insufficient_scope(client, author):
    post = new_post(client, author)
    reader, _ = as_app(client, author, ["media"])
    cases = [
        (lambda: write_post(client, reader), "create"),
        (
            lambda: client.patch(
                f"{API}/posts/{post['id']}", json={"title": "t"}, headers=reader.headers
            ),
            "update",
        ),
        (lambda: publish(client, reader, post["id"]), "update"),
        (lambda: client.delete(f"{API}/posts/{post['id']}", headers=reader.headers), "delete"),
    ]
    for call, scope in cases:
        response = call()
        assert_problem(response, 403)
        challenge = response.headers["WWW-Authenticate"]
        assert 'error="insufficient_scope"' in challenge and f'scope="{scope}"' in challenge
    # Reading needs no particular scope.
    assert client.get(f"{API}/posts/{post['id']}", headers=reader.headers).status_code == 200
    assert (
        client.get(f"{API}/auth/me", headers=reader.headers).get_json()["username"]
        == author.username
    )


def test_a_draft_token_can_write_but_never_publish(client, author):
    drafter, _ = as_app(client, author, ["create", "update", "draft"])
    post = new_post(client, drafter)
    assert post["status"] == "draft"
    body = assert_problem(publish(client, drafter, post["id"]), 403)
    assert "draft" in body["detail"]
    assert (
        client.get(f"{API}/posts/{post['id']}", headers=author.headers).get_json()["status"]
        == "draft"
    )


def test_scopes_never_reach_beyond_the_users_current_role(app, client, make_account, admin):
    contributor = make_account("contributor")
    app_account, _ = as_app(client, contributor, ALL_SCOPES[:-1])
    post = new_post(client, app_account)
    assert_problem(publish(client, app_account, post["id"]), 403)  # contributors cannot publish

    promoted = client.patch(
        f"{API}/users/{contributor.username}", json={"role": "author"}, headers=admin.headers
    )
    assert promoted.status_code == 200
    assert publish(client, app_account, post["id"]).status_code == 200
    demoted = client.patch(
        f"{API}/users/{contributor.username}", json={"role": "contributor"}, headers=admin.headers
    )
    assert demoted.status_code == 200
    # The role is read on every request: the token lost the power with its user.
    edit = client.patch(
        f"{API}/posts/{post['id']}", json={"title": "t"}, headers=app_account.headers
    )
    assert_problem(edit, 403)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/auth/tokens", {"name": "more", "scopes": ["create"]}),
        ("get", "/auth/tokens", None),
        ("delete", "/auth/tokens/1", None),
        ("post", "/auth/logout", {"all": True}),
        ("post", "/auth/refresh", None),
        (
            "put",
            "/auth/password",
            {"current_password": PASSWORD, "new_password": "another long passphrase"},
        ),
        ("patch", "/auth/me", {"display_name": "Mallory"}),
        ("get", "/users", None),
        ("patch", "/users/nobody", {"role": "admin"}),
    ],
)
def test_a_token_never_reaches_accounts_users_or_tokens(client, admin, method, path, body):
    app_account, _ = as_app(client, admin, ALL_SCOPES)
    kwargs = {"headers": app_account.headers, **({"json": body} if body is not None else {})}
    response = getattr(client, method)(f"{API}{path}", **kwargs)
    body = assert_problem(response, 403)
    assert "Personal access tokens cannot be used here" in body["detail"]
    assert "insufficient_scope" not in response.headers.get("WWW-Authenticate", "")
    assert (
        client.get(f"{API}/auth/me", headers=admin.headers).get_json()["display_name"] != "Mallory"
    )


def test_the_writer_revokes_a_token_and_it_stops_at_once(client, author, make_account):
    app_account, token = as_app(client, author, ["create"])
    other = make_account("author")
    assert_problem(client.delete(f"{TOKENS}/{token['id']}", headers=other.headers), 404)
    assert client.delete(f"{TOKENS}/{token['id']}", headers=author.headers).status_code == 204
    refused = assert_problem(write_post(client, app_account), 401)
    assert "revoked" in refused["detail"]
    assert (
        'error="invalid_token"'
        in client.get(f"{API}/auth/me", headers=app_account.headers).headers["WWW-Authenticate"]
    )
    assert client.get(TOKENS, headers=author.headers).get_json() == []
    assert_problem(client.delete(f"{TOKENS}/{token['id']}", headers=author.headers), 404)


def test_an_unknown_or_mangled_token_is_401(client, author):
    _, token = as_app(client, author, ["create"])
    for bad in (
        "blogapi_pat_",
        "blogapi_pat_" + "A" * 43,
        token["token"] + "x",
        token["token"][:-1],
    ):
        assert_problem(client.get(f"{API}/auth/me", headers=bearer(bad)), 401)


@pytest.mark.parametrize(
    "how",
    ["deactivation", "revoke-tokens", "password change", "logout everywhere", "refresh reuse"],
)
def test_what_revokes_every_token_revokes_personal_ones_too(
    app, client, runner, author, admin, how
):
    app_account, _ = as_app(client, author, ["create"])
    if how == "deactivation":
        change = {"active": False}
        assert (
            client.patch(
                f"{API}/users/{author.username}", json=change, headers=admin.headers
            ).status_code
            == 200
        )
    elif how == "revoke-tokens":
        assert runner.invoke(args=["revoke-tokens", author.username]).exit_code == 0
    elif how == "password change":
        change = {"current_password": PASSWORD, "new_password": "a brand new passphrase"}
        assert (
            client.put(f"{API}/auth/password", json=change, headers=author.headers).status_code
            == 200
        )
    elif how == "refresh reuse":
        assert client.post(f"{API}/auth/refresh", headers=author.refresh_headers).status_code == 200
        assert_problem(client.post(f"{API}/auth/refresh", headers=author.refresh_headers), 401)
    else:
        assert (
            client.post(
                f"{API}/auth/logout", json={"all": True}, headers=author.headers
            ).status_code
            == 204
        )
    assert_problem(write_post(client, app_account), 401)
    if how == "deactivation":  # coming back does not bring the old tokens back
        back = client.patch(
            f"{API}/users/{author.username}", json={"active": True}, headers=admin.headers
        )
        assert back.status_code == 200
        assert_problem(write_post(client, app_account), 401)


def test_an_expired_token_is_401_and_stays_listed_until_revoked(app, client, author):
    app_account, token = as_app(client, author, ["create"], expires_in_days=30)
    expires = token["expires_at"]
    assert expires is not None
    assert write_post(client, app_account).status_code == 201
    expire(app, token["id"])
    body = assert_problem(write_post(client, app_account), 401)
    assert "expired" in body["detail"]
    assert [listed["id"] for listed in client.get(TOKENS, headers=author.headers).get_json()] == [
        token["id"]
    ]


def last_used_writes(statements: list) -> list:
    """The UPDATEs of personal_tokens among sent statements."""
    return [s for s, _ in statements if s.startswith("UPDATE personal_tokens")]


def test_last_use_is_kept_to_the_minute_without_a_write_per_request(app, client, author):
    app_account, token = as_app(client, author, ["create"])
    keep = lambda statement: statement.startswith("UPDATE personal_tokens")  # noqa: E731
    with sent_statements(app, keep) as first:
        assert client.get(f"{API}/auth/me", headers=app_account.headers).status_code == 200
    assert len(first) == 1
    used = client.get(f"{TOKENS}/{token['id']}", headers=author.headers).get_json()["last_used_at"]
    assert used is not None
    with sent_statements(app, keep) as again:
        for _ in range(5):
            assert client.get(f"{API}/auth/me", headers=app_account.headers).status_code == 200
    assert again == []
    with app.app_context():
        db.session.execute(
            update(PersonalToken).values(last_used_at=utcnow() - timedelta(minutes=2))
        )
        db.session.commit()
    with sent_statements(app, keep) as later:
        assert client.get(f"{API}/auth/me", headers=app_account.headers).status_code == 200
    assert len(later) == 1


def test_an_app_uploads_media_only_with_the_media_scope(client, author):
    uploader, _ = as_app(client, author, ["media"])
    writer, _ = as_app(client, author, ["create"])
    assert upload(client, uploader, image_bytes()).status_code == 201
    assert_problem(upload(client, writer, image_bytes(color=(1, 2, 3))), 403)
    assert client.get(f"{API}/media", headers=writer.headers).status_code == 200


def test_the_fiftieth_token_is_the_last(client, author):
    for number in range(50):
        make_token(client, author, ["create"], name=f"app {number}")
    body = assert_problem(
        client.post(
            TOKENS, json={"name": "one more", "scopes": ["create"]}, headers=author.headers
        ),
        409,
    )
    assert "50" in body["detail"]


def test_a_token_cannot_be_made_without_signing_in(client, author):
    assert_problem(client.post(TOKENS, json={"name": "x", "scopes": ["create"]}), 401)
    assert_problem(client.get(TOKENS), 401)
