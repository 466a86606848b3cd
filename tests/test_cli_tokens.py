"""An admin logs a user out everywhere, and keeps the revocation table small."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

from sqlalchemy import select

from blogapi.db.models import PersonalToken, RevokedToken
from blogapi.extensions import db
from blogapi.timeutil import utcnow
from tests.support.accounts import login
from tests.support.cli import assert_one_line_error, cli
from tests.support.personal_tokens import as_app, expire

API = "/api/v1"


def test_revoke_tokens_logs_a_user_out_everywhere(runner, client, author, make_account):
    bystander = make_account("author")
    result = cli(runner, "revoke-tokens", author.email.upper())
    assert result.exit_code == 0
    assert result.stdout == f"Revoked every token of {author.username}; they must log in again.\n"
    assert client.get(f"{API}/auth/me", headers=author.headers).status_code == 401
    assert client.post(f"{API}/auth/refresh", headers=author.refresh_headers).status_code == 401
    assert client.get(f"{API}/auth/me", headers=bystander.headers).status_code == 200
    assert login(client, author.username).status_code == 200


def test_revoke_tokens_for_an_unknown_user_exits_1(runner):
    assert "no user named 'ghost'" in assert_one_line_error(cli(runner, "revoke-tokens", "ghost"))


def revocation(user_id: int, jti: str, expires_in: timedelta) -> RevokedToken:
    """A revocation record of a token that expires after expires_in (negative: has expired)."""
    return RevokedToken(
        jti=jti, user_id=user_id, token_type="access", expires_at=utcnow() + expires_in
    )


def test_purge_tokens_drops_only_revocations_of_expired_tokens(app, runner, client, author):
    logout = client.post(
        f"{API}/auth/logout", headers=author.headers, json={"refresh_token": author.refresh_token}
    )
    assert logout.status_code == 204  # two live revocations: the access and the refresh token
    user_id = author.user["id"]
    with app.app_context():
        db.session.add_all(
            [
                revocation(user_id, "expired-long-ago", -timedelta(days=40)),
                revocation(user_id, "expired-a-minute-ago", -timedelta(minutes=1)),
                # Still accepted for JWT_DECODE_LEEWAY after expiry, so still needed.
                revocation(user_id, "within-the-leeway", -timedelta(seconds=1)),
            ]
        )
        db.session.commit()
    result = cli(runner, "purge-tokens")
    assert result.exit_code == 0
    assert result.stdout == (
        "Purged 2 expired token revocation(s); kept 3 not yet expired.\n"
        "Purged 0 expired or revoked personal access token(s).\n"
    )
    with app.app_context():
        kept = set(db.session.scalars(db.select(RevokedToken.jti)))
    assert "within-the-leeway" in kept and len(kept) == 3
    assert client.get(f"{API}/auth/me", headers=author.headers).status_code == 401
    again = cli(runner, "purge-tokens")
    assert again.stdout.startswith("Purged 0 expired")


def test_an_admin_lists_a_users_personal_tokens_and_revokes_one(runner, client, author):
    phone, phone_token = as_app(client, author, ["create", "media"], name="Phone")
    _, script_token = as_app(client, author, ["delete"], name="Cleanup script")
    assert client.get(f"{API}/auth/me", headers=phone.headers).status_code == 200  # last used

    listed = cli(runner, "tokens", "list", author.email)
    assert listed.exit_code == 0
    header, *rows = listed.stdout.splitlines()
    assert header.split() == ["ID", "NAME", "SCOPES", "CREATED", "(UTC)", "EXPIRES", "LAST", "USED"]
    assert [row.split()[0] for row in rows] == [str(script_token["id"]), str(phone_token["id"])]
    assert "create,media" in rows[1] and "Phone" in rows[1]
    assert phone_token["token"] not in listed.stdout
    as_json = json.loads(cli(runner, "tokens", "list", author.username, "--json").stdout)
    assert [token["name"] for token in as_json] == ["Cleanup script", "Phone"]
    assert as_json[1]["last_used_at"] is not None and "token" not in as_json[1]

    revoked = cli(runner, "tokens", "revoke", str(phone_token["id"]))
    assert revoked.exit_code == 0
    assert (
        revoked.stdout
        == f"Revoked personal access token {phone_token['id']} of {author.username}.\n"
    )
    assert client.get(f"{API}/auth/me", headers=phone.headers).status_code == 401
    assert [
        t["id"] for t in client.get(f"{API}/auth/tokens", headers=author.headers).get_json()
    ] == [script_token["id"]]


def test_tokens_commands_refuse_unknown_tokens_users_and_ids(runner):
    assert "no personal access token with id 99" in assert_one_line_error(
        cli(runner, "tokens", "revoke", "99")
    )
    assert "no user named 'ghost'" in assert_one_line_error(cli(runner, "tokens", "list", "ghost"))
    assert cli(runner, "tokens", "revoke", "zero").exit_code == 2
    assert cli(runner, "tokens", "revoke", "0").exit_code == 2


def test_purge_tokens_drops_personal_tokens_that_can_never_work_again(app, runner, client, author):
    _, expired = as_app(client, author, ["create"], name="expired")
    as_app(client, author, ["create"], name="revoked with the rest")
    expire(app, expired["id"])
    assert cli(runner, "revoke-tokens", author.username).exit_code == 0
    fresh_login = login(client, author.username).get_json()["access_token"]
    keeper, _ = as_app(
        client, dataclasses.replace(author, access_token=fresh_login), ["create"], name="keeper"
    )
    result = cli(runner, "purge-tokens")
    assert result.exit_code == 0
    assert result.stdout.endswith("Purged 2 expired or revoked personal access token(s).\n")
    with app.app_context():
        assert list(db.session.scalars(select(PersonalToken.name))) == ["keeper"]
    assert client.get(f"{API}/auth/me", headers=keeper.headers).status_code == 200
