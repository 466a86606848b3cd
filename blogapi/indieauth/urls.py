"""The URLs IndieAuth deals in: a client's id and redirect URI as the spec allows them, a
profile URL canonicalised as it says, and a redirect back to a client with parameters."""

from __future__ import annotations

import ipaddress
from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit, urlunsplit

MAX_URL = 2048
LOOPBACK_ADDRESSES = ("127.0.0.1", "::1")  # the only IP literals a client_id may use


class BadUrl(ValueError):
    """A URL IndieAuth does not allow where it was given; the message says why."""


def is_ip_literal(host: str) -> bool:
    """Whether a URL's host is an IP address rather than a name."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def parsed(raw: str, name: str) -> SplitResult:
    """An absolute http or https URL's parts (its port readable), or BadUrl naming `name`."""
    if len(raw) > MAX_URL:
        raise BadUrl(f"{name} is longer than {MAX_URL} characters.")
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 (raises on a port that is not a number)
    except ValueError:
        raise BadUrl(f"{name} is not a valid URL.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadUrl(f"{name} must be an http or https URL.")
    if any(ord(char) < 33 or ord(char) == 127 for char in raw):
        raise BadUrl(f"{name} must not contain spaces or control characters.")
    return parts


def client_id_url(raw: str) -> str:
    """A client_id as the spec allows it (section 3.2: http or https, a path, no fragment, no
    user or password, no dot segments, a domain name or a loopback address), canonicalised."""
    parts = parsed(raw, "client_id")
    if parts.fragment or "#" in raw:
        raise BadUrl("client_id must not have a fragment.")
    if parts.username is not None or parts.password is not None:
        raise BadUrl("client_id must not carry a user name or password.")
    segments = parts.path.split("/")
    if "." in segments or ".." in segments:
        raise BadUrl("client_id must not have . or .. path segments.")
    host = parts.hostname or ""
    if is_ip_literal(host) and host not in LOOPBACK_ADDRESSES:
        raise BadUrl("client_id must name a host, not an IP address (loopback excepted).")
    return canonical(raw)


def redirect_url(raw: str) -> str:
    """A redirect_uri: an absolute http or https URL without a fragment, canonicalised."""
    parts = parsed(raw, "redirect_uri")
    if parts.fragment or "#" in raw:
        raise BadUrl("redirect_uri must not have a fragment.")
    if parts.username is not None or parts.password is not None:
        raise BadUrl("redirect_uri must not carry a user name or password.")
    return canonical(raw)


def canonical(raw: str) -> str:
    """A URL as IndieAuth compares them (section 3.4): scheme and host lower-cased, an empty
    path made `/`, a missing scheme taken for http; BadUrl when it cannot be read."""
    text = raw.strip()
    if "://" not in text:
        text = "http://" + text
    try:
        parts = urlsplit(text)
    except ValueError:  # a bracketed host that is no IPv6 address
        raise BadUrl("Not a valid URL.") from None
    netloc = parts.netloc.lower()
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", parts.query, ""))


def origin(url: str) -> tuple[str, str, int | None]:
    """A URL's scheme, host and port, the part two URLs must share to be the same origin."""
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default


def with_params(url: str, params: dict[str, str]) -> str:
    """`url` with `params` added to its query (any it had kept)."""
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), *params.items()]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def comparable(raw: str | None) -> str | None:
    """A URL a client sent back, canonicalised to compare with what it sent first (as it
    came when it cannot be read: it then matches nothing)."""
    if not raw:
        return None
    try:
        return canonical(raw)
    except BadUrl:
        return raw
