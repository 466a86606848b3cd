"""Errors a browser meets on the site's pages, shown as a page rather than problem+json."""

from __future__ import annotations

import orjson
from flask import Response, current_app, render_template, request

from blogapi.site.pages import page_headers, template_helpers
from blogapi.web.errors import status_title
from blogapi.web.urls import API_PREFIX

# Site-root paths whose clients are programs, not readers: their errors stay problem+json.
MACHINE_PATHS = (API_PREFIX + "/", "/media/", "/feed.", "/sitemap", "/robots.txt", "/.well-known/")
PAGE_TYPES = ("text/html", "application/xhtml+xml")
DATA_TYPES = ("application/json", "application/problem+json")


def wants_page() -> bool:
    """Whether this request is a reader's browser on a page path: it prefers HTML to JSON
    (a browser's Accept does; `*/*`, curl's and most clients', does not)."""
    if not current_app.config.get("PUBLIC_SITE", True):
        return False
    if request.path.startswith(MACHINE_PATHS) or request.path == API_PREFIX:
        return False
    accept = request.accept_mimetypes
    return accept.best_match([*DATA_TYPES, *PAGE_TYPES]) in PAGE_TYPES


def error_page(problem: Response) -> Response:
    """The problem as an HTML page (same status and headers) when a browser asked for a page."""
    if not wants_page():
        return problem
    detail = str(orjson.loads(problem.get_data()).get("detail", ""))
    status = problem.status_code
    html = render_template(
        "error.html", status=status, title=status_title(status), detail=detail, **template_helpers()
    )
    page = Response(html, status=status, mimetype="text/html")
    for name, value in problem.headers.items():
        if name.lower() not in {"content-type", "content-length"}:
            page.headers[name] = value
    return page_headers(page)
