"""Register, Login, TokenRefresh, Logout, Me and Password."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Response, current_app, url_for
from flask_jwt_extended import get_jwt
from flask_restful import Resource

from blogapi.accounts.schemas import (
    LoginSchema,
    LogoutSchema,
    MeUpdateSchema,
    PasswordChangeSchema,
    PrivateUserSchema,
    RegisterSchema,
    TokenPairSchema,
    private_user_schema,
)
from blogapi.accounts.service import change_password, create_user, update_profile
from blogapi.accounts.sessions import (
    issue_token_pair,
    log_in,
    log_out,
    refresh_payload_of,
    rotate,
)
from blogapi.security.audit import audit
from blogapi.security.guards import ACCESS, ANY_SCOPE, FRESH, REFRESH, signed_in
from blogapi.security.ratelimit import auth_limit, per_account, per_address, per_user
from blogapi.web.api import no_content
from blogapi.web.body import peek_json_object
from blogapi.web.endpoint import Auth, Reply, endpoint
from blogapi.web.errors import ApiError
from blogapi.web.public_cache import reusable
from blogapi.web.schemas import ProblemSchema

TOKEN_PAIR = Reply(TokenPairSchema, "A token pair and the user it belongs to.")
ME = Reply(PrivateUserSchema, "The caller's own account, with email.")


def sends_email() -> bool:
    """Whether a PATCH /auth/me body names an email: each one probes whether it is taken."""
    data = peek_json_object()
    return data is not None and "email" in data


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
        return log_in(body["username"], body["password"])


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
        return rotate(signed_in(), get_jwt())


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
    def post(self, body: dict[str, Any]) -> Response:
        """Revoke and answer 204."""
        user = signed_in()
        tokens = [get_jwt()]
        if "refresh_token" in body:
            tokens.append(refresh_payload_of(body["refresh_token"], user))
        log_out(user, tokens, everywhere=body["all"])
        return no_content()


class Me(Resource):
    """The caller's own account."""

    @reusable
    @endpoint(
        summary="Who am I",
        description="The caller's account. Personal access tokens may call this too.",
        tag="auth",
        auth=ACCESS.with_token(ANY_SCOPE),
        responses={200: ME},
    )
    def get(self) -> dict[str, Any]:
        """The caller's profile, with email."""
        profile: dict[str, Any] = private_user_schema.dump(signed_in())
        return profile

    @endpoint(
        summary="Update my profile",
        description="Change email, display name or bio. Role and active state cannot be set "
        "here. Requests that send `email` are rate-limited per user and per client address "
        "(LOGIN_RATE_LIMIT), as registration is; 409 when the address is taken.",
        tag="auth",
        auth=ACCESS,
        body=MeUpdateSchema,
        example={"display_name": "Ada Lovelace", "bio": "Poet of science"},
        limits=per_user(auth_limit, "email-change", also_per_address=True, only_when=sends_email),
        responses={200: ME, 409: "The email is taken."},
    )
    def patch(self, body: dict[str, Any]) -> dict[str, Any]:
        """Change email, display name or bio."""
        user = signed_in()
        update_profile(user, body)
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
        change_password(user, body["current_password"], body["new_password"])
        return issue_token_pair(user, fresh=True)
