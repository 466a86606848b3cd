"""Guards for @endpoint: which token an operation needs, the least role it needs, and whether
(and with which scope) a personal access token may call it."""

from __future__ import annotations

from dataclasses import dataclass, replace

from flask_jwt_extended import get_current_user, verify_jwt_in_request

from blogapi.db.models import User
from blogapi.security.jwt import invalid_token_headers
from blogapi.security.personal_tokens import (
    TokenRefused,
    accept,
    personal_token_in_header,
    token_caller,
    use_as_caller,
)
from blogapi.security.roles import at_least
from blogapi.web.endpoint import Auth
from blogapi.web.errors import BEARER_REALM, ApiError

ANY_SCOPE = "any"  # a personal access token with whatever scopes may call (reads)
NOT_FOR_TOKENS = "Personal access tokens cannot be used here; sign in with a username and password."


def insufficient_scope(scope: str) -> ApiError:
    """RFC 6750's 403 for a token without the scope an operation needs."""
    return ApiError(
        403,
        f"This token lacks the '{scope}' scope this needs.",
        headers={
            "WWW-Authenticate": f'{BEARER_REALM}, error="insufficient_scope", scope="{scope}"'
        },
    )


def require_scope(scope: str) -> None:
    """403 when the caller's personal access token lacks `scope` (sessions have every scope)."""
    found = token_caller()
    if found is not None and scope != ANY_SCOPE and scope not in found.scopes:
        raise insufficient_scope(scope)


def personal_token_accepted(scope: str | None) -> bool:
    """Check a personal access token in the header, if there is one: 401 when it is not live,
    403 where tokens may not go (`scope` None) or lack `scope`. Whether one was accepted."""
    raw = personal_token_in_header()
    if raw is None:
        return False
    try:
        token = accept(raw)
    except TokenRefused as refused:
        raise ApiError(401, refused.detail, headers=invalid_token_headers(refused.detail)) from None
    if scope is None:
        raise ApiError(403, NOT_FOR_TOKENS)
    use_as_caller(token)
    require_scope(scope)
    return True


@dataclass(frozen=True)
class TokenGuard:
    """A valid token of a kind (access, fresh access or refresh), or, if optional, none; a
    personal access token instead where `scope` names what it needs."""

    kind: Auth
    scope: str | None = None

    def __call__(self) -> None:
        """401 unless the request carries the token this guard asks for."""
        if personal_token_accepted(self.scope):
            return
        verify_jwt_in_request(
            optional=self.kind == "optional",
            fresh=self.kind == "fresh",
            refresh=self.kind == "refresh",
        )

    def with_token(self, scope: str) -> TokenGuard:
        """This guard, also accepting a personal access token with `scope`."""
        return replace(self, scope=scope)


@dataclass(frozen=True)
class RoleGuard:
    """A valid access token (or, where `scope` allows, personal access token) whose user has
    at least `minimum` role."""

    minimum: str
    kind: Auth = "access"
    scope: str | None = None

    def __call__(self) -> None:
        """401 without a valid token, 403 below the role or without the scope."""
        if not personal_token_accepted(self.scope):
            verify_jwt_in_request()
        if not at_least(signed_in().role, self.minimum):
            raise ApiError(403, f"This needs the {self.minimum} role or above.")

    def with_token(self, scope: str) -> RoleGuard:
        """This guard, also accepting a personal access token with `scope`."""
        return replace(self, scope=scope)


OPTIONAL = TokenGuard("optional")
ACCESS = TokenGuard("access")
FRESH = TokenGuard("fresh")
REFRESH = TokenGuard("refresh")


def role(minimum: str) -> RoleGuard:
    """The guard for operations that need at least `minimum` role."""
    return RoleGuard(minimum)


def caller() -> User | None:
    """The user whose token a guard accepted; None for an anonymous caller of an OPTIONAL one."""
    by_token = token_caller()
    if by_token is not None:
        return by_token.user
    user: User | None = get_current_user()
    return user


def signed_in() -> User:
    """The user whose token a guard accepted (an operation that needs one)."""
    by_token = token_caller()
    if by_token is not None:
        return by_token.user
    user: User = get_current_user()  # the object: through the proxy every field read is a lookup
    return user
