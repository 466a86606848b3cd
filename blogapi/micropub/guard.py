"""The @endpoint guard of Micropub's operations: a personal access token, wherever Micropub
lets it travel, made the request's caller."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from blogapi.micropub.auth import authenticate
from blogapi.web.endpoint import Auth


def no_body_token() -> str | None:
    """Queries carry their token in the header only."""
    return None


@dataclass(frozen=True)
class MicropubGuard:
    """Accept the request's personal access token (its scope is checked once the action is
    known); `body_token` finds a token sent in the body."""

    body_token: Callable[[], str | None] = no_body_token
    kind: Auth = "access"

    def __call__(self) -> None:
        """400 for two tokens, 401 for none or one that does not hold."""
        authenticate(self.body_token())
