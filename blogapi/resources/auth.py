"""Register, Login, TokenRefresh, Logout, Me and Password."""

from __future__ import annotations

from typing import Any

from flask import current_app, url_for
from flask_jwt_extended import current_user, decode_token, get_jwt, jwt_required
from flask_restful import Resource
from jwt.exceptions import PyJWTError
from sqlalchemy.exc import IntegrityError

from blogapi.audit import audit
from blogapi.auth import invalid_token_headers
from blogapi.errors import ApiError
from blogapi.extensions import db
from blogapi.http import json_body
from blogapi.models import RevokedToken, User
from blogapi.passwords import hasher
from blogapi.ratelimit import per_account, per_address
from blogapi.schemas.users import (
    check_password,
    login_schema,
    logout_schema,
    me_update_schema,
    password_change_schema,
    private_user_schema,
    register_schema,
)
from blogapi.services.accounts import conflict, create_user, find_user, set_password, taken_fields
from blogapi.services.tokens import issue_token_pair, refresh_token_reused, revocation_for

BAD_CREDENTIALS = "Invalid username or password."


class Register(Resource):
    """Self-registration, when REGISTRATION_OPEN allows it."""

    decorators = [per_address]

    def post(self) -> tuple[dict[str, Any], int, dict[str, str]]:
        """Create an account with the default role."""
        if not current_app.config["REGISTRATION_OPEN"]:
            raise ApiError(403, "Registration is closed; ask an administrator for an account.")
        data = register_schema.load(json_body())
        user = create_user(
            data["username"],
            data["email"],
            data["password"],
            role=current_app.config["DEFAULT_ROLE"],
            display_name=data.get("display_name"),
        )
        audit("register", user=user)
        location = url_for("user_item", username=user.username)
        return private_user_schema.dump(user), 201, {"Location": location}


class Login(Resource):
    """Trade a username (or email) and password for a fresh token pair."""

    decorators = [per_account, per_address]

    def post(self) -> dict[str, Any]:
        """Check the credentials the same way whether or not the user exists."""
        data = login_schema.load(json_body())
        user = find_user(data["username"])
        valid, new_hash = hasher().verify(data["password"], user.password_hash if user else None)
        if not valid:
            audit("login_failed", username=data["username"])
            raise ApiError(401, BAD_CREDENTIALS)
        if not user.active:
            audit("login_refused_inactive", user=user)
            raise ApiError(403, "This account is deactivated.")
        if new_hash:
            user.password_hash = new_hash
            db.session.commit()
        audit("login", user=user)
        return issue_token_pair(user, fresh=True)


class TokenRefresh(Resource):
    """Rotate a refresh token: the one presented is spent."""

    decorators = [per_address]
    method_decorators = [jwt_required(refresh=True)]

    def post(self) -> dict[str, Any]:
        """Revoke the presented refresh token and issue a new pair; reuse revokes everything."""
        payload = get_jwt()
        user: User = current_user
        db.session.add(revocation_for(payload))
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()  # another request rotated this very token a moment ago
            refresh_token_reused(user, payload)
            detail = "This refresh token was already used; every session has been revoked."
            raise ApiError(401, detail, headers=invalid_token_headers(detail)) from None
        return issue_token_pair(user, fresh=False)


def refresh_payload_of(token: str, user: User) -> dict[str, Any]:
    """Decode a refresh token the caller wants revoked; it must be theirs (expired is fine)."""
    try:
        payload = decode_token(token, allow_expired=True)
    except PyJWTError:
        payload = None
    except Exception as exc:  # flask-jwt-extended's own decode errors
        if not type(exc).__module__.startswith("flask_jwt_extended"):
            raise
        payload = None
    if not payload or payload.get("type") != "refresh" or payload.get("sub") != str(user.id):
        raise ApiError(
            422,
            "The refresh token is not a valid refresh token of this user.",
            errors={"refresh_token": ["Not a valid refresh token of this user."]},
        )
    return payload


class Logout(Resource):
    """Revoke this access token, and optionally a refresh token or every token."""

    method_decorators = [jwt_required()]

    def post(self) -> tuple[str, int]:
        """Revoke and answer 204."""
        data = logout_schema.load(json_body(optional=True))
        user: User = current_user
        revoke = [get_jwt()]
        if "refresh_token" in data:
            revoke.append(refresh_payload_of(data["refresh_token"], user))
        if data["all"]:
            user.revoke_all_tokens()
        for payload in revoke:
            if db.session.get(RevokedToken, payload["jti"]) is None:
                db.session.add(revocation_for(payload))
        db.session.commit()
        audit("logout", user=user, all_tokens=data["all"], tokens=len(revoke))
        return "", 204


class Me(Resource):
    """The caller's own account."""

    method_decorators = [jwt_required()]

    def get(self) -> dict[str, Any]:
        """The caller's profile, with email."""
        return private_user_schema.dump(current_user)

    def patch(self) -> dict[str, Any]:
        """Change email, display name or bio."""
        data = me_update_schema.load(json_body())
        user: User = current_user
        if "email" in data:
            errors = taken_fields(None, data["email"], exclude_id=user.id)
            if errors:
                raise conflict(errors)
        for field, value in data.items():
            setattr(user, field, value)
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            raise conflict({"email": ["This email is already registered."]}) from None
        return private_user_schema.dump(user)


class Password(Resource):
    """Change the password: needs a fresh token and the current password."""

    decorators = [per_address]
    method_decorators = [jwt_required(fresh=True)]

    def put(self) -> dict[str, Any]:
        """Set a new password, revoke every older token, return a new pair."""
        data = password_change_schema.load(json_body())
        user: User = current_user
        valid, _ = hasher().verify(data["current_password"], user.password_hash)
        if not valid:
            audit("password_change_failed", user=user)
            raise ApiError(401, "The current password is wrong.")
        check_password(data["new_password"], user.username, user.email, "new_password")
        set_password(user, data["new_password"])
        db.session.commit()
        audit("password_changed", user=user)
        return issue_token_pair(user, fresh=True)
