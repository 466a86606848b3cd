"""Accounts by email, as a user lives them: messages arrive at a real SMTP server (aiosmtpd),
are read with the `email` parser, and their links are followed over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select, update

from blogapi.db.account_models import AccountToken
from blogapi.db.models import User
from blogapi.extensions import db
from tests.support.account_mail import (
    API,
    NEW_PASSWORD,
    PASSWORD,
    delivered,
    forgot,
    link_in,
    login,
    reset,
    run_worker,
    signed_up,
    to_of,
    token_in,
    verify,
)
from tests.support.accounts import bearer
from tests.support.apps import dispose, make_app
from tests.support.mail import SmtpServer, html_part, text_part
from tests.support.personal_tokens import make_token
from tests.support.problems import assert_problem, comparable

pytestmark = pytest.mark.database_agnostic


@pytest.fixture
def app(smtp_server: SmtpServer) -> Iterator[Flask]:
    """The app, its mail going to the test's SMTP server."""
    made = make_app(MAIL_URL=smtp_server.url, SITE_URL="https://blog.example.com")
    yield made
    dispose(made)


def test_registration_mails_a_link_that_verifies_the_address(app, client, smtp_server):
    pair = signed_up(client, "ada")
    assert pair["user"]["email_verified"] is False and pair["user"]["pending_email"] is None
    [message] = delivered(app, smtp_server, 1)
    assert to_of(message) == "ada@example.com"
    assert message["Subject"] == "Confirm your email address for blogapi"
    link = link_in(message)
    assert link.startswith("https://blog.example.com/verify-email?token=")
    assert token_in(message) in html_part(message)
    verified = verify(client, token_in(message))
    assert verified.status_code == 200, verified.get_json()
    assert verified.get_json()["email_verified"] is True
    me = client.get(f"{API}/auth/me", headers=bearer(pair["access_token"])).get_json()
    assert me["email_verified"] is True
    assert_problem(verify(client, token_in(message)), 400)  # once only


def test_a_forgotten_password_is_reset_by_the_mailed_link_and_every_old_token_dies(
    app, client, smtp_server
):
    pair = signed_up(client, "ada")
    other_session = login(client, "ada").get_json()
    pat = make_token(client, _account(pair), ["create"])
    run_worker(app)
    before = len(smtp_server.wait_for(2))  # the verification, the token notice
    answer = forgot(client, "ADA@example.com")
    assert answer.status_code == 202
    message = delivered(app, smtp_server, before + 1)[-1]
    assert message["Subject"] == "Reset your password on blogapi"
    assert link_in(message).startswith("https://blog.example.com/reset-password?token=")
    assert PASSWORD not in text_part(message)

    done = reset(client, token_in(message))
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["user"]["username"] == "ada"
    assert_problem(login(client, "ada"), 401)  # the old password
    assert login(client, "ada", NEW_PASSWORD).status_code == 200
    for old in (pair["access_token"], other_session["access_token"], pat["token"]):
        assert_problem(client.get(f"{API}/auth/me", headers=bearer(old)), 401)
    refreshed = client.post(f"{API}/auth/refresh", headers=bearer(other_session["refresh_token"]))
    assert_problem(refreshed, 401)
    new_access = bearer(done.get_json()["access_token"])
    assert client.get(f"{API}/auth/me", headers=new_access).status_code == 200

    notice = delivered(app, smtp_server, before + 2)[-1]
    assert notice["Subject"] == "Your password on blogapi was reset"
    assert to_of(notice) == "ada@example.com"
    assert token_in(message) not in text_part(notice) + html_part(notice)
    assert_problem(reset(client, token_in(message), "yet another passphrase"), 400)


def _account(pair):
    from tests.support.accounts import Account

    account = Account(pair["user"]["username"], pair["user"]["email"], PASSWORD, "author")
    account.access_token = pair["access_token"]
    return account


def test_every_bad_token_gets_one_and_the_same_problem(app, client, smtp_server):
    signed_up(client, "ada")
    forgot(client, "ada@example.com")
    messages = delivered(app, smtp_server, 2)
    verify_token = token_in(messages[0])
    reset_token = token_in(messages[1])
    used = reset(client, reset_token)
    assert used.status_code == 200
    forgot(client, "ada@example.com")
    shift_tokens(app, created=-timedelta(hours=1))  # past the minutes between reset mails
    expired = token_in(delivered(app, smtp_server, 4)[-1])  # mailed after the reset notice
    shift_tokens(app, expires=-timedelta(hours=2))
    bad = {
        "reused": reset(client, reset_token),
        "expired": reset(client, expired),
        "malformed": reset(client, "not a token\r\n" * 3),
        "empty": reset(client, ""),
        "unknown": reset(client, "A" * 43),
        "another purpose": reset(client, verify_token),
        "too long": reset(client, "x" * 5000),
    }
    shapes = {name: comparable(response) for name, response in bad.items()}
    first = shapes["reused"]
    assert first["status"] == 400
    assert all(shape == first for shape in shapes.values()), shapes
    assert comparable(verify(client, reset_token)) == first  # a reset token does not verify


def shift_tokens(app, created=timedelta(0), expires=timedelta(0)):
    """Move every mailed token's creation and expiry times, as if time had passed."""
    with app.app_context():
        for token in db.session.scalars(select(AccountToken)):
            token.created_at += created
            token.expires_at += expires
        db.session.commit()


def test_an_unknown_address_gets_the_same_answer_and_no_message(app, client, smtp_server):
    signed_up(client, "ada")
    run_worker(app)
    smtp_server.wait_for(1)
    known = forgot(client, "ada@example.com")
    unknown = forgot(client, "nobody@example.com")
    assert (known.status_code, known.get_json()) == (unknown.status_code, unknown.get_json())
    assert known.status_code == 202
    run_worker(app)
    smtp_server.wait_for(2)
    assert [to_of(m) for m in smtp_server.messages] == ["ada@example.com"] * 2


def test_a_reset_link_goes_to_the_address_the_account_holds_not_the_one_typed(
    app, client, smtp_server
):
    signed_up(client, "ada")
    run_worker(app)
    smtp_server.wait_for(1)
    assert forgot(client, "ADA@Example.COM").status_code == 202
    run_worker(app)
    assert to_of(smtp_server.wait_for(2)[1]) == "ada@example.com"


def test_a_deactivated_account_gets_no_reset_message(app, client, smtp_server):
    signed_up(client, "ada")
    with app.app_context():
        db.session.execute(update(User).values(active=False))
        db.session.commit()
    forgot(client, "ada@example.com")
    run_worker(app)
    assert [m["Subject"] for m in smtp_server.wait_for(1)] == [
        "Confirm your email address for blogapi"
    ]


def test_require_verified_email_refuses_login_until_the_link_is_followed(app, client, smtp_server):
    app.config["REQUIRE_VERIFIED_EMAIL"] = True
    from tests.support.accounts import register

    assert register(client, "ada", "ada@example.com").status_code == 201
    refused = assert_problem(login(client, "ada"), 403)
    assert "not verified" in refused["detail"]
    assert_problem(login(client, "ada", "wrong password!"), 401)  # says nothing first
    [message] = delivered(app, smtp_server, 1)
    assert verify(client, token_in(message)).status_code == 200
    assert login(client, "ada").status_code == 200


def test_a_reset_link_proves_the_address_too(app, client, smtp_server):
    app.config["REQUIRE_VERIFIED_EMAIL"] = True
    from tests.support.accounts import register

    register(client, "ada", "ada@example.com")
    forgot(client, "ada@example.com")
    message = delivered(app, smtp_server, 2)[-1]
    assert reset(client, token_in(message)).status_code == 200
    assert login(client, "ada", NEW_PASSWORD).status_code == 200


def test_a_new_address_waits_for_its_link_and_the_old_one_is_told(app, client, smtp_server):
    pair = signed_up(client, "ada")
    headers = bearer(pair["access_token"])
    changed = client.patch(f"{API}/auth/me", json={"email": "ada@new.example"}, headers=headers)
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["email"] == "ada@example.com"
    assert changed.get_json()["pending_email"] == "ada@new.example"
    assert login(client, "ada@example.com").status_code == 200
    assert_problem(login(client, "ada@new.example"), 401)
    messages = delivered(app, smtp_server, 3)
    by_subject = {m["Subject"]: m for m in messages}
    asked = by_subject["A new email address was asked for on blogapi"]
    assert to_of(asked) == "ada@example.com" and "ada@new.example" in text_part(asked)
    assert "token=" not in text_part(asked) + html_part(asked)
    confirm = [m for m in messages if to_of(m) == "ada@new.example"]
    assert len(confirm) == 1
    done = verify(client, token_in(confirm[0]))
    assert done.status_code == 200, done.get_json()
    assert (done.get_json()["email"], done.get_json()["pending_email"]) == ("ada@new.example", None)
    assert login(client, "ada@new.example").status_code == 200
    assert_problem(login(client, "ada@example.com"), 401)


def test_a_pending_claim_on_an_address_drops_when_its_owner_verifies_it(app, client, smtp_server):
    ada = signed_up(client, "ada")
    eve = signed_up(client, "eve")
    for pair in (ada, eve):
        response = client.patch(
            f"{API}/auth/me",
            json={"email": "shared@example.org"},
            headers=bearer(pair["access_token"]),
        )
        assert response.status_code == 200, response.get_json()
    messages = delivered(app, smtp_server, 6)
    to_shared = [m for m in messages if to_of(m) == "shared@example.org"]
    ada_link = next(m for m in to_shared if "ada" in text_part(m))
    eve_link = next(m for m in to_shared if "eve" in text_part(m))
    assert verify(client, token_in(ada_link)).status_code == 200
    eve_me = client.get(f"{API}/auth/me", headers=bearer(eve["access_token"])).get_json()
    assert eve_me["pending_email"] is None
    assert_problem(verify(client, token_in(eve_link)), 400)


def test_an_address_that_is_someone_elses_is_refused(app, client, smtp_server):
    ada = signed_up(client, "ada")
    signed_up(client, "grace")
    taken = client.patch(
        f"{API}/auth/me", json={"email": "GRACE@example.com"}, headers=bearer(ada["access_token"])
    )
    assert assert_problem(taken, 409)["errors"] == {"email": ["This email is already registered."]}


def test_resend_mails_a_new_link_and_the_old_one_stops_working(app, client, smtp_server):
    pair = signed_up(client, "ada")
    headers = bearer(pair["access_token"])
    resent = client.post(f"{API}/auth/email/resend", headers=headers)
    assert resent.status_code == 202
    first, second = delivered(app, smtp_server, 2)
    assert_problem(verify(client, token_in(first)), 400)
    assert verify(client, token_in(second)).status_code == 200
    again = client.post(f"{API}/auth/email/resend", headers=headers)
    assert again.status_code == 202 and "already verified" in again.get_json()["detail"]
    run_worker(app)
    assert len(smtp_server.messages) == 2


def test_a_password_change_and_a_new_personal_token_are_noticed(app, client, smtp_server):
    pair = signed_up(client, "ada")
    account = _account(pair)
    make_token(client, account, ["create", "draft"], name="iA Writer")
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    changed = client.put(f"{API}/auth/password", json=body, headers=account.headers)
    assert changed.status_code == 200
    subjects = [m["Subject"] for m in delivered(app, smtp_server, 3)]
    assert subjects[1:] == [
        "A new personal access token on blogapi",
        "Your password on blogapi was changed",
    ]
    token_notice = smtp_server.messages[1]
    assert "iA Writer" in text_part(token_notice) and "create draft" in text_part(token_notice)
    assert "blogapi_pat_" not in text_part(token_notice) + html_part(token_notice)


def test_the_cli_password_reset_notices_and_voids_mailed_links(app, client, smtp_server, runner):
    signed_up(client, "ada")
    forgot(client, "ada@example.com")
    reset_message = delivered(app, smtp_server, 2)[-1]
    result = runner.invoke(
        args=["reset-password", "ada", "--password-stdin"], input="an admin's new passphrase\n"
    )
    assert result.exit_code == 0, result.output
    assert_problem(reset(client, token_in(reset_message)), 400)
    notice = delivered(app, smtp_server, 3)[-1]
    assert notice["Subject"] == "Your password on blogapi was changed"


def test_cli_made_users_are_verified_and_get_no_link(app, runner, smtp_server):
    result = runner.invoke(
        args=["create-user", "root", "--email", "root@example.com", "--password-stdin"],
        input="correct horse battery staple\n",
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(User.email_verified)) is True
    assert run_worker(app) == 0


def test_a_weak_new_password_is_refused_and_the_link_still_works(app, client, smtp_server):
    signed_up(client, "ada")
    forgot(client, "ada@example.com")
    token = token_in(delivered(app, smtp_server, 2)[-1])
    weak = assert_problem(reset(client, token, "ada"), 422)
    assert "new_password" in weak["errors"]
    assert reset(client, token).status_code == 200


def test_with_mail_off_every_mail_flow_is_a_503():
    app = make_app(MAIL_URL="none")
    try:
        client = app.test_client()
        pair = signed_up(client, "ada")
        headers = bearer(pair["access_token"])
        for response in (
            forgot(client, "ada@example.com"),
            reset(client, "A" * 43),
            verify(client, "A" * 43),
            client.post(f"{API}/auth/email/resend", headers=headers),
            client.patch(f"{API}/auth/me", json={"email": "x@example.org"}, headers=headers),
            client.get("/reset-password?token=abc"),
        ):
            assert response.status_code == 503, response.get_data(as_text=True)
        assert_problem(forgot(client, "ada@example.com"), 503)
        assert (
            client.patch(f"{API}/auth/me", json={"bio": "hi"}, headers=headers).status_code == 200
        )
    finally:
        dispose(app)
