"""Guards for @endpoint: which token an operation needs, and the least role it needs."""

from __future__ import annotations

from dataclasses import dataclass

from flask_jwt_extended import current_user, get_current_user, verify_jwt_in_request

from blogapi.db.models import User
from blogapi.security.roles import at_least
from blogapi.web.endpoint import Auth
from blogapi.web.errors import ApiError


@dataclass(frozen=True)
class TokenGuard:
    """A valid token of a kind (access, fresh access or refresh), or, if optional, none."""

    kind: Auth

    def __call__(self) -> None:
        """401 unless the request carries the token this guard asks for."""
        verify_jwt_in_request(
            optional=self.kind == "optional",
            fresh=self.kind == "fresh",
            refresh=self.kind == "refresh",
        )


@dataclass(frozen=True)
class RoleGuard:
    """A valid access token whose user has at least `minimum` role."""

    minimum: str
    kind: Auth = "access"

    def __call__(self) -> None:
        """401 without a valid access token, 403 below the role."""
        verify_jwt_in_request()
        if not at_least(current_user.role, self.minimum):
            raise ApiError(403, f"This needs the {self.minimum} role or above.")


OPTIONAL = TokenGuard("optional")
ACCESS = TokenGuard("access")
FRESH = TokenGuard("fresh")
REFRESH = TokenGuard("refresh")


def role(minimum: str) -> RoleGuard:
    """The guard for operations that need at least `minimum` role."""
    return RoleGuard(minimum)


def caller() -> User | None:
    """The user whose token a guard accepted; None for an anonymous caller of an OPTIONAL one."""
    user: User | None = get_current_user()
    return user


def signed_in() -> User:
    """The user whose token a guard accepted (an operation that needs one)."""
    user: User = get_current_user()  # the object: through the proxy every field read is a lookup
    return user
