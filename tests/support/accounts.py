"""Accounts as a client holds them: registered and logged in through the API."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from blogapi.db.models import User
from blogapi.extensions import db

PASSWORD = "correct horse battery staple"


def bearer(token: str) -> dict[str, str]:
    """An Authorization header for a token."""
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Account:
    """A registered, logged-in user as a client sees them."""

    username: str
    email: str
    password: str
    role: str
    access_token: str = ""
    refresh_token: str = ""
    user: dict[str, Any] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        """The Authorization header for this account's access token."""
        return bearer(self.access_token)

    @property
    def refresh_headers(self) -> dict[str, str]:
        """The Authorization header for this account's refresh token."""
        return bearer(self.refresh_token)


def register(client: FlaskClient, username: str, email: str, password: str = PASSWORD) -> Any:
    """POST /auth/register."""
    payload = {"username": username, "email": email, "password": password}
    return client.post("/api/v1/auth/register", json=payload)


def login(client: FlaskClient, username: str, password: str = PASSWORD) -> Any:
    """POST /auth/login."""
    return client.post("/api/v1/auth/login", json={"username": username, "password": password})


def set_role(app: Flask, username: str, role: str) -> None:
    """Give a user a role the way an admin's CLI would (self-registration cannot)."""
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == username))
        user.role = role
        db.session.commit()


def sign_up(client: FlaskClient, app: Flask, username: str, role: str = "author") -> Account:
    """Register a user through the API, give it a role, and log it in through the API."""
    account = Account(username, f"{username}@example.com", PASSWORD, role)
    response = register(client, username, account.email)
    assert response.status_code == 201, response.get_json()
    if role != app.config["DEFAULT_ROLE"]:
        set_role(app, username, role)
    response = login(client, username)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    account.access_token = body["access_token"]
    account.refresh_token = body["refresh_token"]
    account.user = body["user"]
    return account
