"""What a client says of itself at its client_id URL: its name, home page and redirect URIs,
as a JSON client metadata document or an HTML page with an h-app (or h-x-app) and
`rel="redirect_uri"` links. Fetched only when the address is public, briefly and bounded."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, TypeGuard
from urllib.parse import urljoin, urlsplit

import orjson
from flask import current_app

from blogapi.indieauth.urls import BadUrl, origin, redirect_url
from blogapi.security.outbound import OutboundFailed, OutboundRefused, fetch
from blogapi.web.urls import external_url

FETCH_TIMEOUT = 3.0  # seconds: the writer waits on this page
MAX_PAGE_BYTES = 512 * 1024
MAX_NAME = 80
APP_TYPES = ("h-app", "h-x-app")
LOOPBACK_NAMES = ("127.0.0.1", "::1", "localhost")
LINK_RELS = re.compile(r"<([^>]*)>\s*;[^,]*?\brel\s*=\s*\"?([^\";,]+)\"?", re.IGNORECASE)


@dataclass(frozen=True)
class Client:
    """A client as its page describes it (or, unfetched, as its client_id does)."""

    client_id: str
    name: str
    url: str
    redirect_uris: tuple[str, ...] = ()
    fetched: bool = False

    def allows_redirect(self, redirect_uri: str) -> bool:
        """Whether the client may be sent to `redirect_uri`: on its own origin, or listed."""
        return origin(redirect_uri) == origin(self.client_id) or redirect_uri in self.redirect_uris


def client_of(client_id: str) -> Client:
    """The client behind `client_id`; its page is read only when its address is public (or
    WEBHOOK_ALLOW_PRIVATE allows private ones), never for a loopback client."""
    host = urlsplit(client_id).hostname or ""
    fallback = Client(client_id, short_name(host or client_id), client_id)
    if host in LOOPBACK_NAMES or host.endswith(".localhost"):
        return fallback  # a client on the writer's own machine: nothing to fetch (section 4.2)
    try:
        page = fetch(
            client_id,
            headers={
                "Accept": "application/json, text/html;q=0.9",
                "User-Agent": f"blogapi IndieAuth (+{external_url('/')})",
            },
            timeout=FETCH_TIMEOUT,
            max_bytes=MAX_PAGE_BYTES,
            allow_private=current_app.config.get("WEBHOOK_ALLOW_PRIVATE", False),
        )
    except (OutboundRefused, OutboundFailed):
        return fallback
    if not 200 <= page.status < 300:
        return fallback
    content_type = (page.headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type == "application/json" or content_type.endswith("+json"):
        return from_metadata(fallback, page.body)
    if content_type in ("text/html", "application/xhtml+xml"):
        links = page.headers.get_all("link") or []
        return from_page(fallback, page.body, links)
    return fallback


def from_metadata(fallback: Client, body: bytes) -> Client:
    """A client from its JSON metadata document (client_name, client_uri, redirect_uris);
    ignored unless it names this client_id."""
    try:
        data: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        return fallback
    if not isinstance(data, dict) or data.get("client_id") != fallback.client_id:
        return fallback
    name = data.get("client_name")
    home = data.get("client_uri")
    uris = data.get("redirect_uris")
    listed = uris if isinstance(uris, list) else []
    return Client(
        fallback.client_id,
        short_name(name) if isinstance(name, str) and name.strip() else fallback.name,
        home
        if isinstance(home, str) and home.startswith(("https://", "http://"))
        else fallback.url,
        valid_redirects(fallback.client_id, [uri for uri in listed if isinstance(uri, str)]),
        fetched=True,
    )


def from_page(fallback: Client, body: bytes, links: list[str]) -> Client:
    """A client from its HTML page: the first h-app's name and url, and every redirect_uri
    rel (in the page or its Link headers)."""
    import mf2py  # with BeautifulSoup, html5lib, lxml and requests: only for sign-ins

    try:
        parsed = mf2py.parse(doc=body.decode("utf-8", "replace"), url=fallback.client_id)
    except Exception:  # a hostile page must not break the writer's sign-in: read it as empty
        return fallback
    name, home = fallback.name, fallback.url
    for item in parsed.get("items", []):
        if any(kind in APP_TYPES for kind in item.get("type", [])):
            props = item.get("properties", {})
            found_name = next((v for v in props.get("name", []) if isinstance(v, str)), None)
            found_url = next((v for v in props.get("url", []) if isinstance(v, str)), None)
            name = short_name(found_name) if found_name and found_name.strip() else name
            home = (
                found_url if found_url and found_url.startswith(("https://", "http://")) else home
            )
            break
    uris = list(parsed.get("rels", {}).get("redirect_uri", []))
    for header in links:
        for target, rels in LINK_RELS.findall(header):
            if "redirect_uri" in rels.split():
                uris.append(urljoin(fallback.client_id, target.strip()))
    return Client(
        fallback.client_id, name, home, valid_redirects(fallback.client_id, uris), fetched=True
    )


def is_web_url(value: object) -> TypeGuard[str]:
    """Whether a value is an http(s) URL (a client's home page, shown as a link)."""
    return isinstance(value, str) and value.startswith(("https://", "http://"))


def valid_redirects(client_id: str, uris: list[str]) -> tuple[str, ...]:
    """The listed redirect URIs that are valid URLs, canonicalised, each once."""
    kept: list[str] = []
    for uri in uris[:20]:
        try:
            found = redirect_url(urljoin(client_id, uri))
        except BadUrl:
            continue
        if found not in kept:
            kept.append(found)
    return tuple(kept)


def short_name(name: str) -> str:
    """A client's name as shown and as its token is named: one line, at most MAX_NAME."""
    one_line = " ".join(name.split())
    return one_line if len(one_line) <= MAX_NAME else one_line[: MAX_NAME - 1] + "…"
