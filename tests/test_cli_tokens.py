"""An admin logs a user out everywhere, and keeps the revocation table small."""

from __future__ import annotations

from datetime import timedelta

from blogapi.db.models import RevokedToken
from blogapi.extensions import db
from blogapi.timeutil import utcnow
from tests.support.accounts import login
from tests.support.cli import assert_one_line_error, cli

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
    assert result.stdout == "Purged 2 expired token revocation(s); kept 3 not yet expired.\n"
    with app.app_context():
        kept = set(db.session.scalars(db.select(RevokedToken.jti)))
    assert "within-the-leeway" in kept and len(kept) == 3
    assert client.get(f"{API}/auth/me", headers=author.headers).status_code == 401
    again = cli(runner, "purge-tokens")
    assert again.stdout.startswith("Purged 0 expired")
