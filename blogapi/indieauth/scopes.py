"""The scopes IndieAuth clients may ask for: the personal access tokens' scopes, plus
`profile` and `email`, which grant no access but what the sign-in tells the client."""

from __future__ import annotations

from collections.abc import Iterable

from blogapi.security.personal_tokens import SCOPES as TOKEN_SCOPES

PROFILE_SCOPES = ("profile", "email")
SUPPORTED = (*TOKEN_SCOPES, *PROFILE_SCOPES)
DESCRIPTIONS = {
    "create": "Create posts",
    "update": "Edit, publish and unpublish your posts",
    "delete": "Delete and undelete your posts",
    "media": "Upload images",
    "draft": "Keep everything it creates a draft",
    "profile": "See your name and author page",
    "email": "See your email address",
}


def known_scopes(words: Iterable[str]) -> tuple[str, ...]:
    """The scopes among `words` that this server grants, each once, in its own order (others
    are ignored, as OAuth lets a server narrow a request)."""
    wanted = set(words)
    return tuple(scope for scope in SUPPORTED if scope in wanted)


def token_scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    """The scopes a personal access token carries."""
    granted = set(scopes)
    return tuple(scope for scope in TOKEN_SCOPES if scope in granted)
