"""Register, Login, TokenRefresh, Logout, Me and Password."""

from __future__ import annotations

from typing import Any

from flask import current_app, url_for
from flask_jwt_extended import (
    current_user,
    decode_token,
    get_current_user,
    get_jwt,
    jwt_required,
)
from flask_restful import Resource
from jwt.exceptions import PyJWTError
from sqlalchemy.exc import IntegrityError

from blogapi.apidoc import Reply, document
from blogapi.audit import audit
from blogapi.auth import invalid_token_headers
from blogapi.errors import ApiError
from blogapi.extensions import db
from blogapi.http import json_body
from blogapi.models import RevokedToken, User
from blogapi.passwords import hasher
from blogapi.ratelimit import per_account, per_address
from blogapi.schemas.responses import ProblemSchema, TokenPairSchema
from blogapi.schemas.users import (
    LoginSchema,
    LogoutSchema,
    MeUpdateSchema,
    PasswordChangeSchema,
    PrivateUserSchema,
    RegisterSchema,
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
TOKEN_PAIR = Reply(TokenPairSchema, "A token pair and the user it belongs to.")
ME = Reply(PrivateUserSchema, "The caller's own account, with email.")


class Register(Resource):
    """Self-registration, when REGISTRATION_OPEN allows it."""

    decorators = [per_address]

    @document(
        summary="Register",
        description="Create an account with the DEFAULT_ROLE. 403 when REGISTRATION_OPEN is false. "
        "Passwords: 8+ characters, not common, not the username or email.",
        tag="auth",
        body=RegisterSchema,
        example={"username": "ada", "email": "ada@example.com", "password": "analytical engine"},
        rate_limited=True,
        responses={
            201: Reply(PrivateUserSchema, "The new account.", ("Location",)),
            403: "Registration is closed.",
            409: "The username or email is taken (compared without case).",
        },
    )
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

    @document(
        summary="Log in",
        description="`username` may also be the email. The access token is fresh.",
        tag="auth",
        body=LoginSchema,
        example={"username": "ada", "password": "analytical engine"},
        rate_limited=True,
        responses={
            200: TOKEN_PAIR,
            401: Reply(ProblemSchema, "Wrong username or password.", ("WWW-Authenticate",)),
            403: "The account is deactivated.",
        },
        extra={"security": []},
    )
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

    @document(
        summary="Refresh the token pair",
        description="Send the REFRESH token as the bearer token. It is spent: presenting it "
        "again is 401 and revokes every token of the user.",
        tag="auth",
        auth="refresh",
        rate_limited=True,
        responses={200: TOKEN_PAIR},
    )
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
        # The version the spent token was checked against, not the one read after COMMIT: when
        # a duplicate of this token revoked everything meanwhile, the new pair is revoked too.
        return issue_token_pair(user, fresh=False, version=payload["ver"])


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

    @document(
        summary="Log out",
        description="Revokes this access token; also `refresh_token` when given, or every "
        "token of the user with `all: true`.",
        tag="auth",
        auth="access",
        body=LogoutSchema,
        body_optional=True,
        responses={204: Reply(None, "Revoked.")},
    )
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

    @document(
        summary="Who am I",
        description="The caller's account.",
        tag="auth",
        auth="access",
        responses={200: ME},
    )
    def get(self) -> dict[str, Any]:
        """The caller's profile, with email."""
        # The object itself: through the current_user proxy every field read costs a lookup.
        return private_user_schema.dump(get_current_user())

    @document(
        summary="Update my profile",
        description="Change email, display name or bio. Role and active state cannot be set here.",
        tag="auth",
        auth="access",
        body=MeUpdateSchema,
        example={"display_name": "Ada Lovelace", "bio": "Poet of science"},
        responses={200: ME, 409: "The email is taken."},
    )
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

    @document(
        summary="Change my password",
        description="Needs a fresh access token (from login, not refresh) and the current "
        "password. Revokes every older token and returns a new pair.",
        tag="auth",
        auth="fresh",
        body=PasswordChangeSchema,
        rate_limited=True,
        responses={200: TOKEN_PAIR},
    )
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
