"""Account mail as a user meets it: an app whose mail goes to a real SMTP server, the worker
run once, and the messages read and their links followed."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from blogapi.mail.sending import send_due_mail
from tests.support.accounts import PASSWORD, login, register
from tests.support.mail import SmtpServer, first_link, text_part, token_of

API = "/api/v1"
NEW_PASSWORD = "a brand new passphrase"


def run_worker(app: Flask) -> int:
    """One round of the worker: every due message sent; how many went."""
    with app.app_context():
        return send_due_mail()


def delivered(app: Flask, server: SmtpServer, count: int) -> list[EmailMessage]:
    """Run the worker and return every message the server has, once there are `count`."""
    run_worker(app)
    return server.wait_for(count)


def link_in(message: EmailMessage) -> str:
    """The link a reader follows: the first one in the text part."""
    return first_link(text_part(message))


def token_in(message: EmailMessage) -> str:
    """The token of the message's link."""
    return token_of(link_in(message))


def to_of(message: EmailMessage) -> str:
    """The single address a message went to."""
    return str(message["To"].addresses[0].addr_spec)


def signed_up(client: FlaskClient, username: str) -> dict[str, Any]:
    """Register and log in; the token pair."""
    assert register(client, username, f"{username}@example.com").status_code == 201
    response = login(client, username)
    assert response.status_code == 200, response.get_json()
    pair: dict[str, Any] = response.get_json()
    return pair


def forgot(client: FlaskClient, email: str, **kwargs: Any) -> Any:
    """POST /auth/password/forgot."""
    return client.post(f"{API}/auth/password/forgot", json={"email": email}, **kwargs)


def reset(client: FlaskClient, token: str, password: str = NEW_PASSWORD) -> Any:
    """POST /auth/password/reset."""
    body = {"token": token, "new_password": password}
    return client.post(f"{API}/auth/password/reset", json=body)


def verify(client: FlaskClient, token: str) -> Any:
    """POST /auth/email/verify."""
    return client.post(f"{API}/auth/email/verify", json={"token": token})


__all__ = ["PASSWORD", "login"]
