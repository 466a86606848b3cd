"""Introspection and revocation of the personal access tokens IndieAuth issues (any personal
access token, in fact: they are one kind)."""

from __future__ import annotations

from typing import Any

from blogapi.accounts.personal_tokens import revoke_token
from blogapi.db.models import User
from blogapi.security.personal_tokens import (
    TokenRefused,
    is_personal_token,
    live_token,
    token_by_secret,
)
from blogapi.security.roles import at_least
from blogapi.site.links import author_url
from blogapi.web.urls import external_url

INACTIVE = {"active": False}


def introspection(raw: str, caller: User) -> dict[str, Any]:
    """RFC 7662's answer for `raw`, as `caller` may see it: inactive for anything but a live
    personal access token of the caller's own (any user's, for an admin)."""
    if not is_personal_token(raw):
        return INACTIVE
    try:
        token = live_token(raw)
    except TokenRefused:
        return INACTIVE
    if token.user_id != caller.id and not at_least(caller.role, "admin"):
        return INACTIVE
    answer: dict[str, Any] = {
        "active": True,
        "me": author_url(token.user.username),
        "client_id": token.client_id or external_url("/"),
        "scope": token.scopes,
        "iat": int(token.created_at.timestamp()),
    }
    if token.expires_at is not None:
        answer["exp"] = int(token.expires_at.timestamp())
    return answer


def revocable(raw: str | None) -> None:
    """Revoke the personal access token `raw` is, if it is one (nothing to say otherwise:
    RFC 7009 answers alike); commit."""
    if not raw or not is_personal_token(raw):
        return
    token = token_by_secret(raw)
    if token is not None:
        revoke_token(token, by="indieauth")
