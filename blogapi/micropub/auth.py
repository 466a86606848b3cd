"""Who a Micropub request speaks for: a personal access token, in the Authorization header or
the `access_token` field (never both), with the scope the action needs."""

from __future__ import annotations

from blogapi.micropub.errors import insufficient_scope, invalid_request, unauthorized
from blogapi.security.personal_tokens import (
    TokenCaller,
    TokenRefused,
    accept,
    bearer_in_header,
    is_personal_token,
    token_caller,
    use_as_caller,
)

NO_TOKEN = "Send a personal access token as `Authorization: Bearer …` or `access_token`."
NOT_PERSONAL = (
    "Micropub takes a personal access token (blogapi_pat_…, made at POST /api/v1/auth/tokens), "
    "not a session's access token."
)
TWO_TOKENS = "Send the access token in the Authorization header or in `access_token`, not both."


def authenticate(body_token: str | None) -> TokenCaller:
    """Accept the request's one token and make its user the caller; 400 for two, 401 for
    none, a JWT, or a token that does not hold."""
    header = bearer_in_header()
    if header is not None and body_token is not None:
        raise invalid_request(TWO_TOKENS)
    raw = header if header is not None else body_token
    if not raw:
        raise unauthorized(NO_TOKEN)
    if not is_personal_token(raw):
        raise unauthorized(NOT_PERSONAL)
    try:
        token = accept(raw)
    except TokenRefused as refused:
        raise unauthorized(refused.detail) from None
    return use_as_caller(token)


def require_scope(scope: str) -> None:
    """401 insufficient_scope unless the accepted token holds `scope`."""
    found = token_caller()
    if found is None or scope not in found.scopes:
        raise insufficient_scope(scope)
