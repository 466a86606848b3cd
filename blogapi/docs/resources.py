"""The API describing itself: GET /openapi.json, and Swagger UI at /docs from local files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import flask_swagger_ui
from flask import Response, send_from_directory
from flask_restful import Resource

from blogapi.docs.openapi import openapi_document
from blogapi.web.endpoint import Reply, endpoint

SWAGGER_DIST = Path(flask_swagger_ui.__file__).parent / "dist"
STATIC = Path(__file__).parent / "static"
# Only our own scripts and styles; Swagger UI sets inline style attributes, hence 'unsafe-inline'.
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)


class OpenApiDocument(Resource):
    """GET /openapi.json."""

    @endpoint(
        summary="The OpenAPI document",
        description="This document: OpenAPI 3, generated from the schemas that validate requests.",
        tag="service",
        responses={200: Reply({"type": "object"}, "The OpenAPI 3 document (JSON).")},
    )
    def get(self) -> tuple[dict[str, Any], int, dict[str, str]]:
        """The OpenAPI 3 document; public and cacheable."""
        return openapi_document(), 200, {"Cache-Control": "public, max-age=300"}


def with_csp(response: Response) -> Response:
    """Add the docs page's Content-Security-Policy."""
    response.headers["Content-Security-Policy"] = DOCS_CSP
    return response


class DocsPage(Resource):
    """GET /docs: the interactive documentation page."""

    @endpoint(
        summary="Interactive documentation",
        description="Swagger UI on this document, served from local assets. Use Authorize with "
        "an access token from POST /auth/login to try protected operations.",
        tag="service",
        uses_database=False,
        responses={200: Reply({"type": "string"}, "The HTML page.", media_type="text/html")},
    )
    def get(self) -> Response:
        """The page; revalidated on every use."""
        response = send_from_directory(STATIC, "docs.html", mimetype="text/html")
        response.headers["Cache-Control"] = "no-cache"
        return with_csp(response)


class DocsAsset(Resource):
    """GET /docs/assets/{filename}: Swagger UI's files, and our small start-up script."""

    def get(self, filename: str) -> Response:
        """A static file, cacheable for an hour."""
        folder = STATIC if (STATIC / filename).is_file() else SWAGGER_DIST
        response = send_from_directory(folder, filename, max_age=3600)
        response.headers["Cache-Control"] = "public, max-age=3600"
        return with_csp(response)
