"""Register, Login, TokenRefresh, Logout, Me and Password."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, url_for
from flask_jwt_extended import decode_token, get_jwt
from flask_restful import Resource
from jwt.exceptions import PyJWTError
from sqlalchemy.exc import IntegrityError

from blogapi.accounts.schemas import (
    LoginSchema,
    LogoutSchema,
    MeUpdateSchema,
    PasswordChangeSchema,
    PrivateUserSchema,
    RegisterSchema,
    TokenPairSchema,
    check_password,
    private_user_schema,
)
from blogapi.accounts.service import (
    conflict,
    create_user,
    find_user,
    issue_token_pair,
    set_password,
    taken_fields,
)
from blogapi.db.models import RevokedToken, User
from blogapi.extensions import db
from blogapi.security.audit import audit
from blogapi.security.guards import ACCESS, FRESH, REFRESH, signed_in
from blogapi.security.jwt import invalid_token_headers
from blogapi.security.passwords import hasher
from blogapi.security.ratelimit import per_account, per_address
from blogapi.security.revocation import refresh_token_reused, revocation_for
from blogapi.web.endpoint import Auth, Reply, endpoint
from blogapi.web.errors import ApiError
from blogapi.web.schemas import ProblemSchema

BAD_CREDENTIALS = "Invalid username or password."
TOKEN_PAIR = Reply(TokenPairSchema, "A token pair and the user it belongs to.")
ME = Reply(PrivateUserSchema, "The caller's own account, with email.")


@dataclass(frozen=True)
class RegistrationOpen:
    """Register's guard: 403 while REGISTRATION_OPEN is false."""

    kind: Auth = "none"

    def __call__(self) -> None:
        """Refuse while registration is closed."""
        if not current_app.config["REGISTRATION_OPEN"]:
            raise ApiError(403, "Registration is closed; ask an administrator for an account.")


class Register(Resource):
    """Self-registration, when REGISTRATION_OPEN allows it."""

    @endpoint(
        summary="Register",
        description="Create an account with the DEFAULT_ROLE. 403 when REGISTRATION_OPEN is false. "
        "Passwords: 8+ characters, not common, not the username or email.",
        tag="auth",
        auth=RegistrationOpen(),
        body=RegisterSchema,
        example={"username": "ada", "email": "ada@example.com", "password": "analytical engine"},
        limits=(per_address,),
        responses={
            201: Reply(PrivateUserSchema, "The new account.", ("Location",)),
            403: "Registration is closed.",
            409: "The username or email is taken (compared without case).",
        },
    )
    def post(self, body: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
        """Create an account with the default role."""
        user = create_user(
            body["username"],
            body["email"],
            body["password"],
            role=current_app.config["DEFAULT_ROLE"],
            display_name=body.get("display_name"),
        )
        audit("register", user=user)
        location = url_for("user_item", username=user.username)
        return private_user_schema.dump(user), 201, {"Location": location}


class Login(Resource):
    """Trade a username (or email) and password for a fresh token pair."""

    @endpoint(
        summary="Log in",
        description="`username` may also be the email. The access token is fresh.",
        tag="auth",
        body=LoginSchema,
        example={"username": "ada", "password": "analytical engine"},
        limits=(per_account, per_address),
        responses={
            200: TOKEN_PAIR,
            401: Reply(ProblemSchema, "Wrong username or password.", ("WWW-Authenticate",)),
            403: "The account is deactivated.",
        },
        extra={"security": []},
    )
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Check the credentials the same way whether or not the user exists."""
        user = find_user(body["username"])
        valid, new_hash = hasher().verify(body["password"], user.password_hash if user else None)
        if not valid or user is None:
            audit("login_failed", username=body["username"])
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

    @endpoint(
        summary="Refresh the token pair",
        description="Send the REFRESH token as the bearer token. It is spent: presenting it "
        "again is 401 and revokes every token of the user.",
        tag="auth",
        auth=REFRESH,
        limits=(per_address,),
        responses={200: TOKEN_PAIR},
    )
    def post(self) -> dict[str, Any]:
        """Revoke the presented refresh token and issue a new pair; reuse revokes everything."""
        payload = get_jwt()
        user = signed_in()
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

    @endpoint(
        summary="Log out",
        description="Revokes this access token; also `refresh_token` when given, or every "
        "token of the user with `all: true`.",
        tag="auth",
        auth=ACCESS,
        body=LogoutSchema,
        body_optional=True,
        responses={204: Reply(None, "Revoked.")},
    )
    def post(self, body: dict[str, Any]) -> tuple[str, int]:
        """Revoke and answer 204."""
        user = signed_in()
        revoke = [get_jwt()]
        if "refresh_token" in body:
            revoke.append(refresh_payload_of(body["refresh_token"], user))
        if body["all"]:
            user.revoke_all_tokens()
        for payload in revoke:
            if db.session.get(RevokedToken, payload["jti"]) is None:
                db.session.add(revocation_for(payload))
        db.session.commit()
        audit("logout", user=user, all_tokens=body["all"], tokens=len(revoke))
        return "", 204


class Me(Resource):
    """The caller's own account."""

    @endpoint(
        summary="Who am I",
        description="The caller's account.",
        tag="auth",
        auth=ACCESS,
        responses={200: ME},
    )
    def get(self) -> dict[str, Any]:
        """The caller's profile, with email."""
        profile: dict[str, Any] = private_user_schema.dump(signed_in())
        return profile

    @endpoint(
        summary="Update my profile",
        description="Change email, display name or bio. Role and active state cannot be set here.",
        tag="auth",
        auth=ACCESS,
        body=MeUpdateSchema,
        example={"display_name": "Ada Lovelace", "bio": "Poet of science"},
        responses={200: ME, 409: "The email is taken."},
    )
    def patch(self, body: dict[str, Any]) -> dict[str, Any]:
        """Change email, display name or bio."""
        user = signed_in()
        if "email" in body:
            errors = taken_fields(None, body["email"], exclude_id=user.id)
            if errors:
                raise conflict(errors)
        for field, value in body.items():
            setattr(user, field, value)
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            raise conflict({"email": ["This email is already registered."]}) from None
        profile: dict[str, Any] = private_user_schema.dump(user)
        return profile


class Password(Resource):
    """Change the password: needs a fresh token and the current password."""

    @endpoint(
        summary="Change my password",
        description="Needs a fresh access token (from login, not refresh) and the current "
        "password. Revokes every older token and returns a new pair.",
        tag="auth",
        auth=FRESH,
        body=PasswordChangeSchema,
        limits=(per_address,),
        responses={200: TOKEN_PAIR},
    )
    def put(self, body: dict[str, Any]) -> dict[str, Any]:
        """Set a new password, revoke every older token, return a new pair."""
        user = signed_in()
        valid, _ = hasher().verify(body["current_password"], user.password_hash)
        if not valid:
            audit("password_change_failed", user=user)
            raise ApiError(401, "The current password is wrong.")
        check_password(body["new_password"], user.username, user.email, "new_password")
        set_password(user, body["new_password"])
        db.session.commit()
        audit("password_changed", user=user)
        return issue_token_pair(user, fresh=True)
