"""JWT wiring: string identities, one-query user and revocation lookup, 401 problems."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, Response, g
from flask_jwt_extended.exceptions import JWTDecodeError
from sqlalchemy import bindparam, select

from blogapi.db.models import RevokedToken, User
from blogapi.extensions import db, jwt
from blogapi.observability.http_requests import note_user
from blogapi.security.revocation import refresh_token_reused
from blogapi.web.errors import BEARER_REALM, for_browser, problem

REQUIRED_CLAIMS = ("sub", "jti", "iat", "nbf", "exp", "iss", "aud", "type", "fresh", "ver")
TOKEN_TYPES = ("access", "refresh")
USER_ID = re.compile(r"[1-9][0-9]{0,17}")  # ASCII digits that fit a 64-bit id


def invalid_token_headers(detail: str) -> dict[str, str]:
    """RFC 6750's challenge for a token that was sent but is not acceptable."""
    description = detail.replace('"', "'").replace("\\", "")
    return {
        "WWW-Authenticate": f'{BEARER_REALM}, error="invalid_token", '
        f'error_description="{description}"'
    }


def token_problem(detail: str) -> Response:
    """A 401 for a bad token, with RFC 6750's WWW-Authenticate (in the body the request's
    feature gives its clients, as every error)."""
    return for_browser(problem(401, detail, headers=invalid_token_headers(detail)))


def check_claims(payload: dict[str, Any]) -> None:
    """Refuse a token without every claim we issue, or naming no user id or token type."""
    for claim in REQUIRED_CLAIMS:
        if payload.get(claim) is None:
            raise JWTDecodeError(f"Missing claim: {claim}")
    if payload["type"] not in TOKEN_TYPES:
        raise JWTDecodeError("Unknown token type")
    subject = payload["sub"]
    if not isinstance(subject, str) or not USER_ID.fullmatch(subject):
        raise JWTDecodeError("The token subject is not a user id")


# Built once: constructing the statement cost a quarter of an authenticated request.
USER_AND_REVOCATION = (
    select(User, RevokedToken.jti)
    .outerjoin(RevokedToken, RevokedToken.jti == bindparam("jti"))
    .where(User.id == bindparam("user_id"))
)


def load_token_subject(payload: dict[str, Any]) -> tuple[User | None, bool]:
    """The token's user and whether its jti is revoked, in one query."""
    check_claims(payload)
    row = db.session.execute(
        USER_AND_REVOCATION, {"jti": payload["jti"], "user_id": int(payload["sub"])}
    ).first()
    if row is None:
        return None, False
    return row[0], row[1] is not None


def register_jwt_callbacks(app: Flask) -> None:
    """Teach flask-jwt-extended our identities, revocation rules and error shape."""

    @jwt.user_identity_loader
    def identity(user: User | int | str) -> str:
        return str(user.id) if isinstance(user, User) else str(user)

    @jwt.token_in_blocklist_loader
    def is_revoked(_header: dict[str, Any], payload: dict[str, Any]) -> bool:
        user, jti_revoked = load_token_subject(payload)
        g.token_user = user
        if user is None:
            return False  # user_lookup_loader answers: unknown user
        if jti_revoked and payload["type"] == "refresh":
            refresh_token_reused(user, payload)
        return jti_revoked or payload["ver"] != user.token_version

    @jwt.user_lookup_loader
    def lookup_user(_header: dict[str, Any], _payload: dict[str, Any]) -> User | None:
        user: User | None = g.get("token_user")
        if user is None or not user.active:
            return None
        note_user(user.id)
        return user

    @jwt.unauthorized_loader
    def missing_token(reason: str) -> Response:
        return for_browser(
            problem(401, "Authentication required: send 'Authorization: Bearer <token>'.")
        )

    @jwt.invalid_token_loader
    def invalid_token(reason: str) -> Response:
        return token_problem(f"The token is invalid: {reason}.")

    @jwt.expired_token_loader
    def expired_token(_header: dict[str, Any], _payload: dict[str, Any]) -> Response:
        return token_problem("The token has expired.")

    @jwt.revoked_token_loader
    def revoked_token(_header: dict[str, Any], _payload: dict[str, Any]) -> Response:
        return token_problem("The token has been revoked.")

    @jwt.needs_fresh_token_loader
    def stale_token(_header: dict[str, Any], _payload: dict[str, Any]) -> Response:
        return token_problem("This action needs a fresh token: log in again.")

    @jwt.user_lookup_error_loader
    def user_gone(_header: dict[str, Any], _payload: dict[str, Any]) -> Response:
        return token_problem("The token's user does not exist or is deactivated.")
