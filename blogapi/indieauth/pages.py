"""The sign-in and consent page, in the reader pages' look, with the pages' headers and a form
that may go back to the client (the CSP's form-action names its origin: browsers check the
redirect after a form post against it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app
from jinja2 import ChoiceLoader, Environment, FileSystemLoader

from blogapi.indieauth.authorization import AuthRequest
from blogapi.indieauth.scopes import DESCRIPTIONS
from blogapi.site.pages import origin_of, page_csp, page_headers, template_helpers

TEMPLATES = Path(__file__).parent / "templates"
ENV_KEY = "blogapi.indieauth.templates"


def templates(app: Flask) -> Environment:
    """The app's Jinja environment with this package's templates first (the site's base.html
    stays reachable)."""
    if ENV_KEY not in app.extensions:
        loader = ChoiceLoader([FileSystemLoader(TEMPLATES), app.jinja_env.loader])  # type: ignore[list-item]
        app.extensions[ENV_KEY] = app.jinja_env.overlay(loader=loader)
    env: Environment = app.extensions[ENV_KEY]
    return env


def consent_page(
    auth: AuthRequest,
    client_name: str,
    form_token: str,
    *,
    username: str = "",
    client_url: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    """The page asking the writer to sign in and allow the client what it asked for."""
    context: dict[str, Any] = {
        **template_helpers(),
        "client_name": client_name,
        "client_id": auth.client_id,
        "client_url": client_url or auth.client_id,
        "redirect_uri": auth.redirect_uri,
        "scopes": [(scope, DESCRIPTIONS[scope]) for scope in auth.scopes],
        "username": username,
        "error": error,
        "csrf_token": form_token,
    }
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    app.update_template_context(context)
    html = templates(app).get_template("consent.html").render(context)
    response = page_headers(Response(html, status=status, mimetype="text/html"))
    csp = page_csp().replace(
        "form-action 'self'", f"form-action 'self' {origin_of(auth.redirect_uri)}"
    )
    response.headers["Content-Security-Policy"] = csp
    response.headers["Cache-Control"] = "no-store"
    return response
