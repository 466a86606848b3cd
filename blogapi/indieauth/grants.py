"""What a spent code gives its client: the signed-in writer's `me` and profile, and (at the
token endpoint) a personal access token named after the client with the granted scopes."""

from __future__ import annotations

from typing import Any

from blogapi.accounts.personal_tokens import create_token, token_created
from blogapi.db.models import AuthorizationCode, User
from blogapi.extensions import db
from blogapi.indieauth.codes import REPLAYED, attach_token, grant_error
from blogapi.indieauth.scopes import token_scopes
from blogapi.site.links import author_url
from blogapi.web.errors import ApiError

NO_ACCESS = (
    "This code grants no scope a token could use (only profile or email): redeem it at the "
    "authorization endpoint instead."
)


def profile_reply(code: AuthorizationCode) -> dict[str, Any]:
    """`me`, and `profile` when the writer granted it (with `email` when granted too)."""
    user = code.user
    reply: dict[str, Any] = {"me": author_url(user.username)}
    if "profile" in code.scope_set:
        profile: dict[str, Any] = {"name": user.public_name, "url": reply["me"]}
        if "email" in code.scope_set:
            profile["email"] = user.email
        reply["profile"] = profile
    return reply


def active_user(code: AuthorizationCode) -> User:
    """The code's writer, still able to sign in (deactivation since the code: refused)."""
    if not code.user.active:
        raise grant_error("This account has been deactivated.")
    return code.user


def token_reply(code: AuthorizationCode) -> dict[str, Any]:
    """A personal access token for the code's client and scopes, with `me` (and profile);
    commit. The token and its record on the code are one transaction."""
    user = active_user(code)
    scopes = token_scopes(code.scope_set)
    if not scopes:
        raise grant_error(NO_ACCESS)
    try:
        token, secret = create_token(
            user, code.client_name, scopes, None, client_id=code.client_id, commit=False
        )
    except ApiError as refused:  # the writer's token limit
        db.session.rollback()
        raise ApiError(400, refused.detail, extra={"error": "invalid_request"}) from None
    if not attach_token(code, token.id):
        db.session.rollback()
        raise grant_error(REPLAYED)
    db.session.commit()
    token_created(user, token)
    return {
        "access_token": secret,
        "token_type": "Bearer",
        "scope": code.scopes,  # what was granted, profile and email included
        **profile_reply(code),
    }
