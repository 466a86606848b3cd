"""GET /api/v1/docs: Swagger UI from the flask-swagger-ui package's own files, no CDN."""

from __future__ import annotations

from pathlib import Path

import flask_swagger_ui
from flask import Blueprint, Response, render_template, send_from_directory

SWAGGER_DIST = Path(flask_swagger_ui.__file__).parent / "dist"
STATIC = Path(__file__).parent / "static" / "docs"
# Only our own scripts and styles; Swagger UI sets inline style attributes, hence 'unsafe-inline'.
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)

blueprint = Blueprint("docs", __name__, template_folder="templates")


def with_csp(response: Response) -> Response:
    """Add the docs page's Content-Security-Policy and let browsers cache the assets."""
    response.headers["Content-Security-Policy"] = DOCS_CSP
    return response


@blueprint.get("/docs")
def docs_page() -> Response:
    """The interactive documentation page."""
    response = Response(render_template("docs.html"), mimetype="text/html")
    response.headers["Cache-Control"] = "no-cache"
    return with_csp(response)


@blueprint.get("/docs/assets/<path:filename>")
def docs_asset(filename: str) -> Response:
    """Swagger UI's files, and our small start-up script."""
    folder = STATIC if (STATIC / filename).is_file() else SWAGGER_DIST
    response = send_from_directory(folder, filename, max_age=3600)
    response.headers["Cache-Control"] = "public, max-age=3600"
    return with_csp(response)
