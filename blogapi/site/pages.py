"""What every reader page shares: its page number, its headers (a strict CSP) and its rendering."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Response, current_app, render_template, request
from markupsafe import Markup
from werkzeug.exceptions import NotFound
from werkzeug.http import http_date

from blogapi.db.models import Post
from blogapi.media.service import media_url
from blogapi.site.content import changed_at, last_modified
from blogapi.site.links import (
    FEED_KINDS,
    author_url,
    authorization_endpoint_url,
    entry_id,
    feed_url,
    indieauth_metadata_url,
    micropub_url,
    post_url,
    tag_url,
    token_endpoint_url,
)
from blogapi.timeutil import isoformat_z
from blogapi.web.errors import ApiError
from blogapi.web.paging import MAX_PAGE, page_count

STATIC = Path(__file__).parent / "static"
PAGE_NUMBER = re.compile(r"[1-9][0-9]{0,6}")
FEED_TYPES = {
    "atom": ("application/atom+xml", "Atom"),
    "rss": ("application/rss+xml", "RSS"),
    "json": ("application/feed+json", "JSON Feed"),
}
# Outbound links tell other sites which site sent a reader (not which page); our own pages
# see the whole URL. The API keeps no-referrer.
PAGE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SCROLLABLE_PRE = '<pre tabindex="0">'
SCROLLABLE_TABLE = '<table tabindex="0">'


def site_enabled() -> None:
    """Refuse every page when the site is headless (PUBLIC_SITE=false): the 404 of a URL the
    app does not serve."""
    if not current_app.config.get("PUBLIC_SITE", True):
        raise NotFound()


def page_number() -> int:
    """The `?page=` asked for (1 without one); anything but a positive integer is a 404."""
    raw = request.args.get("page")
    if raw is None:
        return 1
    if not PAGE_NUMBER.fullmatch(raw) or int(raw) > MAX_PAGE:
        raise ApiError(404, "There is no such page: give ?page= a positive whole number.")
    return int(raw)


def check_page(page: int, total: int, per_page: int) -> None:
    """A page past the last one does not exist (an empty list still has its first page)."""
    last = page_count(total, per_page)
    if page > last:
        raise ApiError(404, f"There is no page {page}; the last is {last}.")


def paged(url: str, page: int) -> str:
    """A list's address at its `page`th page (the first has no ?page)."""
    return url if page <= 1 else f"{url}?page={page}"


def feed_links(*, tag: str | None = None, author: str | None = None) -> list[dict[str, str]]:
    """The `<link rel="alternate">` of the three feeds matching a page."""
    return [
        {"href": feed_url(kind, tag=tag, author=author), "type": FEED_TYPES[kind][0],
         "title": FEED_TYPES[kind][1]}
        for kind in FEED_KINDS
    ]  # fmt: skip


def iso(moment: datetime | None) -> str:
    """A timestamp for `datetime` attributes and meta tags: ISO 8601 UTC with `Z`, to seconds."""
    return isoformat_z(moment, "seconds") or ""


def origin_of(url: str) -> str:
    """The scheme and host of an absolute URL ("" for anything else)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def page_csp() -> str:
    """The pages' policy: our stylesheet and images (and the media host's), no script at all."""
    images = " ".join(
        filter(None, ["'self'", origin_of(current_app.config.get("MEDIA_PUBLIC_URL", "")), "data:"])
    )
    return (
        f"default-src 'none'; style-src 'self'; img-src {images}; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    )


def page_headers(response: Response) -> Response:
    """The headers every page (and error page) carries besides the app's defaults."""
    response.headers["Content-Security-Policy"] = page_csp()
    response.headers["Referrer-Policy"] = PAGE_REFERRER_POLICY
    return response


def asset_version() -> str:
    """A digest of the static files: their URLs change with their content, so browsers may
    keep them long."""
    key = "blogapi.site.asset_version"
    if key not in current_app.extensions:
        digest = hashlib.sha256()
        for path in sorted(STATIC.iterdir()):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
        current_app.extensions[key] = digest.hexdigest()[:16]
    version: str = current_app.extensions[key]
    return version


def asset_url(filename: str) -> str:
    """A static file's address, versioned by content (a path on this host: the CSP's 'self'
    is the host the reader reached, whatever SITE_URL says)."""
    return f"{request.script_root}/assets/{filename}?v={asset_version()}"


def readable_body(body_html: str) -> Markup:
    """A post's (sanitized) HTML with its code blocks and tables reachable from the keyboard:
    they scroll sideways on a phone, and a region that scrolls must take focus (WCAG 2.1.1).
    Only tags match: a "<pre>" in the text is escaped in body_html."""
    return Markup(body_html.replace("<pre>", SCROLLABLE_PRE).replace("<table>", SCROLLABLE_TABLE))


def template_helpers() -> dict[str, Any]:
    """What the templates call: addresses, timestamps, post bodies."""
    return {
        "asset_url": asset_url,
        "iso": iso,
        "changed_at": changed_at,
        "media_url": media_url,
        "entry_id": entry_id,
        "readable_body": readable_body,
        "post_url": post_url,
        "tag_url": tag_url,
        "author_url": author_url,
    }


def discovery_links() -> list[tuple[str, str]]:
    """Where writers' apps publish and sign in, as (rel, URL): Micropub, and IndieAuth's
    metadata with the older endpoint rels clients still look for."""
    return [
        ("micropub", micropub_url()),
        ("indieauth-metadata", indieauth_metadata_url()),
        ("authorization_endpoint", authorization_endpoint_url()),
        ("token_endpoint", token_endpoint_url()),
    ]


def with_discovery(response: Response) -> Response:
    """A page that names where its writers' apps publish and sign in, as the `<link>`s its
    template shows when given `discovery` do, for clients that read headers only."""
    response.headers["Link"] = ", ".join(f'<{url}>; rel="{rel}"' for rel, url in discovery_links())
    return response


def render_page(template: str, shown: list[Post], **context: Any) -> Response:
    """A page rendered from its template, with the pages' headers and Last-Modified (when
    what it shows, the posts `shown` among it, last changed)."""
    html = render_template(template, **template_helpers(), **context)
    response = page_headers(Response(html, mimetype="text/html"))
    modified = last_modified(shown)
    if modified is not None:
        response.headers["Last-Modified"] = http_date(modified)
    return response
