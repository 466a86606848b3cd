"""An authorization request, read and checked: which client, where to send the writer back,
the PKCE challenge, the scopes asked for and the `me` hinted at.

Until the redirect URI is known to be the client's, every refusal is a page here (sending the
writer anywhere would be an open redirect); after it, refusals go back to the client as OAuth
errors on its redirect URI, as the spec says."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from blogapi.indieauth.clients import Client, client_of
from blogapi.indieauth.scopes import known_scopes
from blogapi.indieauth.urls import BadUrl, canonical, client_id_url, redirect_url, with_params
from blogapi.web.errors import ApiError
from blogapi.web.urls import external_url

CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")  # base64url of a SHA-256, unpadded
MAX_STATE = 1024
MAX_SCOPE = 1000
RESPONSE_TYPES = ("code", "id")  # `id`: older clients' name for the same flow


@dataclass(frozen=True)
class AuthRequest:
    """A checked authorization request."""

    client_id: str
    redirect_uri: str
    state: str
    code_challenge: str
    scopes: tuple[str, ...]
    me: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The request as plain data (what the consent form carries, signed)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AuthRequest:
        """The request back from as_dict's data."""
        return cls(**{**data, "scopes": tuple(data["scopes"])})


class ClientRedirect(Exception):
    """A refusal to send back to the client's (checked) redirect URI as an OAuth error."""

    def __init__(self, redirect_uri: str, params: dict[str, str]) -> None:
        super().__init__(params.get("error_description", ""))
        self.location = back_to(redirect_uri, params)


def issuer() -> str:
    """This authorization server's issuer identifier (a prefix of its metadata URL)."""
    return external_url("/")


def back_to(redirect_uri: str, params: dict[str, str]) -> str:
    """Where the writer goes back to the client: its redirect URI with `params` and our `iss`
    (RFC 9207, so a client talking to several servers knows which one answered)."""
    return with_params(redirect_uri, {**params, "iss": issuer()})


def refused_page(detail: str) -> ApiError:
    """A 400 shown to the writer (no redirect: the client is not known to be who it says)."""
    return ApiError(400, f"This sign-in request cannot be used: {detail}")


def one(args: Mapping[str, str], name: str) -> str | None:
    """A parameter's value, or None when absent or empty."""
    value = args.get(name)
    return value if value else None


def read_client(args: Mapping[str, str]) -> tuple[Client, str]:
    """The client and the redirect URI it may use; a page for anything else."""
    raw_client, raw_redirect = one(args, "client_id"), one(args, "redirect_uri")
    if raw_client is None:
        raise refused_page("it names no client_id.")
    if raw_redirect is None:
        raise refused_page("it names no redirect_uri.")
    try:
        client_id, redirect = client_id_url(raw_client), redirect_url(raw_redirect)
    except BadUrl as bad:
        raise refused_page(str(bad)) from None
    client = client_of(client_id)
    if not client.allows_redirect(redirect):
        raise refused_page(
            "its redirect_uri is not on the client's own site, and the client does not list it."
        )
    return client, redirect


def read_request(args: Mapping[str, str]) -> tuple[AuthRequest, Client]:
    """The authorization request in `args` (a GET's query), checked."""
    client, redirect = read_client(args)
    state = args.get("state", "")

    def refuse(error: str, description: str) -> ClientRedirect:
        params = {"error": error, "error_description": description}
        return ClientRedirect(redirect, {**params, **({"state": state} if state else {})})

    response_type = args.get("response_type", "")
    if response_type not in RESPONSE_TYPES:
        raise refuse("unsupported_response_type", "response_type must be code.")
    if not state:
        raise refuse("invalid_request", "state is required.")
    if len(state) > MAX_STATE:
        raise refuse("invalid_request", f"state is longer than {MAX_STATE} characters.")
    challenge, method = args.get("code_challenge", ""), args.get("code_challenge_method", "")
    if not challenge:
        raise refuse("invalid_request", "PKCE is required: send code_challenge (S256).")
    if method != "S256":
        raise refuse("invalid_request", "code_challenge_method must be S256.")
    if not CHALLENGE.fullmatch(challenge):
        raise refuse("invalid_request", "code_challenge must be 43 base64url characters.")
    scope = args.get("scope", "")
    if len(scope) > MAX_SCOPE:
        raise refuse("invalid_scope", f"scope is longer than {MAX_SCOPE} characters.")
    me = profile_hint(args.get("me", ""))
    request = AuthRequest(
        client.client_id, redirect, state, challenge, known_scopes(scope.split()), me
    )
    return request, client


def profile_hint(raw: str) -> str | None:
    """The `me` a client passed, canonicalised (None when absent or not a URL)."""
    if not raw or len(raw) > 2048:
        return None
    try:
        return canonical(raw)
    except ValueError:
        return None


def hinted_username(me: str | None) -> str | None:
    """The username of the author page `me` names, when it is one of ours."""
    if me is None:
        return None
    ours = urlsplit(canonical(external_url("/authors/")))
    found = urlsplit(me)
    if (found.scheme, found.netloc) != (ours.scheme, ours.netloc):
        return None
    if not found.path.startswith(ours.path):
        return None
    name = unquote(found.path.removeprefix(ours.path)).rstrip("/")
    return name if name and "/" not in name else None
