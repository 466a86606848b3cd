"""OpenApiDocument: the machine-readable description of the API."""

from __future__ import annotations

from typing import Any

from flask_restful import Resource

from blogapi.apidoc import Reply, document
from blogapi.openapi import openapi_document


class OpenApiDocument(Resource):
    """GET /openapi.json."""

    @document(
        summary="The OpenAPI document",
        description="This document: OpenAPI 3, generated from the schemas that validate requests.",
        tag="service",
        responses={200: Reply(None, "The OpenAPI 3 document (JSON).")},
    )
    def get(self) -> tuple[dict[str, Any], int, dict[str, str]]:
        """The OpenAPI 3 document; public and cacheable."""
        return openapi_document(), 200, {"Cache-Control": "public, max-age=300"}
