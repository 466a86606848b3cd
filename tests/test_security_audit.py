"""Stories about the audit trail: every security event one JSON line, and never a secret."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from blogapi.db.models import User
from blogapi.extensions import db
from blogapi.security.audit import audit
from tests.support.accounts import PASSWORD, Account, bearer
from tests.support.apps import make_app
from tests.support.logs import audit_lines

NEW_PASSWORD = "a brand new passphrase"
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def events(caplog: pytest.LogCaptureFixture, name: str) -> list[dict[str, Any]]:
    """The audit lines for one event."""
    return [line for line in audit_lines(caplog) if line["event"] == name]


def only(caplog: pytest.LogCaptureFixture, name: str) -> dict[str, Any]:
    """The single audit line for an event, checked for time, user and client."""
    found = events(caplog, name)
    assert len(found) == 1, audit_lines(caplog)
    line = found[0]
    assert ISO_Z.match(line["time"])
    assert line["client"] == "127.0.0.1"
    assert line["user"]
    return line


@pytest.fixture(autouse=True)
def capture(caplog: pytest.LogCaptureFixture) -> None:
    """Audit lines are INFO records of the blogapi.audit logger."""
    caplog.set_level("INFO", logger="blogapi.audit")


def test_a_login_and_a_failed_login_are_audited(client, make_account, caplog):
    """Who logged in, and which name a failed attempt used (known or not)."""
    alice = make_account("author")
    client.post("/api/v1/auth/login", json={"username": "alice-typo", "password": "x"})
    line = only(caplog, "login")
    assert (line["user"], line["user_id"]) == (alice.username, alice.user["id"])
    assert only(caplog, "login_failed")["user"] == "alice-typo"


def test_a_deactivated_users_login_is_audited(client, admin, make_account, caplog):
    """The right password for a deactivated account: refused, and recorded."""
    bob = make_account("author")
    client.patch(f"/api/v1/users/{bob.username}", json={"active": False}, headers=admin.headers)
    client.post("/api/v1/auth/login", json={"username": bob.username, "password": PASSWORD})
    assert only(caplog, "login_refused_inactive")["user"] == bob.username


def test_rate_limit_hits_are_audited_with_their_scope(caplog):
    """A limited login names the address limit, and the account limit names the account."""
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="1 per minute")
    client = app.test_client()
    guess = {"username": "Alice", "password": "guess"}
    client.post("/api/v1/auth/login", json=guess, environ_base={"REMOTE_ADDR": "10.0.0.1"})
    client.post("/api/v1/auth/login", json=guess, environ_base={"REMOTE_ADDR": "10.0.0.2"})
    for name in ("carol", "dave"):
        client.post("/api/v1/auth/login", json={"username": name, "password": "guess"})
    hits = events(caplog, "rate_limited")
    account_hit, address_hit = hits
    assert account_hit["scope"] == "auth-account"
    assert account_hit["user"] == "alice"
    assert account_hit["client"] == "10.0.0.2"
    assert address_hit["scope"] == "auth-address"
    assert address_hit["client"] == "127.0.0.1"
    assert address_hit["endpoint"] == "auth_login"
    assert address_hit["limit"] == "1 per 1 minute"


def test_refresh_token_reuse_is_audited(client, author: Account, caplog):
    """A rotated refresh token comes back: every session is revoked, and it is recorded."""
    client.post("/api/v1/auth/refresh", headers=author.refresh_headers)
    client.post("/api/v1/auth/refresh", headers=author.refresh_headers)
    assert only(caplog, "refresh_token_reuse")["user"] == author.username


def test_password_changes_and_failed_attempts_are_audited(client, author: Account, caplog):
    """A wrong current password and a successful change each leave a line."""
    wrong = {"current_password": "not it", "new_password": NEW_PASSWORD}
    right = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    client.put("/api/v1/auth/password", json=wrong, headers=author.headers)
    client.put("/api/v1/auth/password", json=right, headers=author.headers)
    assert only(caplog, "password_change_failed")["user"] == author.username
    assert only(caplog, "password_changed")["user"] == author.username


def test_role_and_active_changes_are_audited_with_the_admin_who_made_them(
    client, admin, make_account, caplog
):
    """Which user changed, how, and by whom."""
    bob = make_account("author")
    path = f"/api/v1/users/{bob.username}"
    client.patch(path, json={"role": "editor"}, headers=admin.headers)
    client.patch(path, json={"active": False}, headers=admin.headers)
    role, active = events(caplog, "user_changed")
    assert (role["user"], role["changes"], role["by"]) == (
        bob.username,
        {"role": "editor"},
        admin.username,
    )
    assert (active["changes"], active["by"]) == ({"active": False}, admin.username)


def test_token_revocations_are_audited(client, make_account, caplog):
    """Logging out (this token and a refresh token) and logging out everywhere."""
    alice = make_account("author")
    bob = make_account("author")
    body = {"refresh_token": alice.refresh_token}
    client.post("/api/v1/auth/logout", json=body, headers=alice.headers)
    client.post("/api/v1/auth/logout", json={"all": True}, headers=bob.headers)
    mine, everywhere = events(caplog, "logout")
    assert (mine["user"], mine["all_tokens"], mine["tokens"]) == (alice.username, False, 2)
    assert (everywhere["user"], everywhere["all_tokens"]) == (bob.username, True)


def test_the_audited_address_is_the_real_client(caplog):
    """Without a trusted proxy, a forged X-Forwarded-For does not reach the audit trail."""
    app = make_app()
    app.test_client().post(
        "/api/v1/auth/login",
        json={"username": "alice", "password": "x"},
        headers={"X-Forwarded-For": "1.2.3.4"},
        environ_base={"REMOTE_ADDR": "203.0.113.66"},
    )
    assert events(caplog, "login_failed")[0]["client"] == "203.0.113.66"


def test_a_forged_line_break_cannot_split_an_audit_line(client, caplog):
    """A username with a newline and a fake event stays inside one JSON string."""
    name = 'x"}\n{"event": "login", "user": "admin'
    client.post("/api/v1/auth/login", json={"username": name, "password": "x"})
    assert [line["event"] for line in audit_lines(caplog)] == ["login_failed"]
    assert audit_lines(caplog)[0]["user"] == name


def test_no_password_hash_or_token_ever_reaches_the_audit_trail(app: Flask, client, caplog):
    """A whole day of one account, including mistakes, then a search of every audit line."""
    secrets: set[str] = {PASSWORD, NEW_PASSWORD, "wrong horse battery staple"}
    register = {"username": "alice", "email": "alice@example.com", "password": PASSWORD}
    client.post("/api/v1/auth/register", json=register)
    for password in ["wrong horse battery staple", PASSWORD]:
        response = client.post(
            "/api/v1/auth/login", json={"username": "alice", "password": password}
        )
    tokens = response.get_json()
    refreshed = client.post("/api/v1/auth/refresh", headers=bearer(tokens["refresh_token"]))
    client.post("/api/v1/auth/refresh", headers=bearer(tokens["refresh_token"]))  # reuse
    tokens = client.post(
        "/api/v1/auth/login", json={"username": "alice", "password": PASSWORD}
    ).get_json()
    change = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    client.put("/api/v1/auth/password", json=change, headers=bearer(tokens["access_token"]))
    tokens2 = client.post(
        "/api/v1/auth/login", json={"username": "alice@example.com", "password": NEW_PASSWORD}
    ).get_json()
    body = {"refresh_token": tokens2["refresh_token"], "all": True}
    client.post("/api/v1/auth/logout", json=body, headers=bearer(tokens2["access_token"]))
    # A password typed into the token field, and a token typed into the username field.
    client.post("/api/v1/auth/logout", headers=bearer(PASSWORD))
    client.post("/api/v1/auth/login", json={"username": tokens2["access_token"], "password": "x"})

    for issued in (tokens, tokens2, refreshed.get_json()):
        for name in ("access_token", "refresh_token"):
            if name in issued:
                secrets.add(issued[name])
                secrets.add(issued[name].split(".")[2])  # the signature alone
    with app.app_context():
        secrets.update(db.session.scalars(select(User.password_hash)))
    lines = [record.getMessage() for record in caplog.records if record.name == "blogapi.audit"]
    assert len(lines) >= 8
    for line in lines:
        for secret in secrets:
            assert secret not in line, line


def test_a_secret_passed_to_audit_by_mistake_is_redacted(app: Flask, caplog):
    """Named like a secret, or shaped like a token or a hash: redacted, whatever the caller."""
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"
    with app.test_request_context():
        audit(
            "oops",
            username=token,
            password="hunter2",
            new_password="hunter3",
            refresh_token="abc",
            note=f"Bearer {token}",
            changes={"role": "admin", "password_hash": "$argon2id$v=19$m=8$abc$def"},
            hashes=["$2b$12$abcdefghijklmnopqrstuv"],
        )
    (line,) = events(caplog, "oops")
    assert "hunter" not in str(line)
    assert token not in str(line)
    assert "$argon2id" not in str(line) and "$2b$" not in str(line)
    assert line["changes"]["role"] == "admin"
