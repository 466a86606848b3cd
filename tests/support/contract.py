"""A test client that holds every reply to the OpenAPI document the app serves."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from flask.testing import FlaskClient
from openapi_schema_validator import OAS30ReadValidator, oas30_format_checker
from werkzeug.test import TestResponse

from blogapi.docs.openapi import openapi_path
from blogapi.routes import API_PREFIX

NO_BODY = (204, 304)


def operation_of(app: Flask, document: dict[str, Any], method: str, url: str) -> dict[str, Any]:
    """The document's operation for a request, found through the app's own URL map."""
    rule, _args = app.url_map.bind("localhost").match(
        urlsplit(url).path, method=method, return_rule=True
    )
    path = openapi_path(rule.rule)
    path = path.removeprefix(API_PREFIX) if path.startswith(API_PREFIX + "/") else path
    operation: dict[str, Any] = document["paths"][path][method.lower()]
    return operation


def schema_problems(document: dict[str, Any], schema: dict[str, Any], body: Any) -> list[str]:
    """What is wrong with a reply body for its schema (required, nullable and readOnly kept)."""
    rooted = {"components": document["components"], "allOf": [schema]}
    validator = OAS30ReadValidator(rooted, format_checker=oas30_format_checker)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]


def contract_problems(
    document: dict[str, Any], operation: dict[str, Any], response: TestResponse
) -> list[str]:
    """How a reply differs from what the document declares for its operation and status."""
    declared = operation["responses"].get(str(response.status_code))
    if declared is None:
        return [f"status {response.status_code} is not documented"]
    problems = [
        f"header {name} is documented but missing"
        for name in declared.get("headers", {})
        if name not in response.headers
    ]
    content = declared.get("content")
    if content is None:
        if response.data or "Content-Type" in response.headers:
            problems.append(f"no content is documented, got {response.content_type!r}")
        return problems
    if response.mimetype not in content:
        return [*problems, f"{response.mimetype!r} is not among {sorted(content)}"]
    if response.mimetype.endswith("json"):
        schema = content[response.mimetype]["schema"]
        problems += schema_problems(document, schema, response.get_json())
    return problems


class ContractClient:
    """Calls the app like FlaskClient.open, and fails on any reply the document does not allow."""

    def __init__(self, app: Flask, client: FlaskClient, document: dict[str, Any]) -> None:
        self.app, self.client, self.document = app, client, document
        self.checked: list[tuple[str, str, int]] = []

    def call(self, method: str, url: str, **kwargs: Any) -> TestResponse:
        """Send the request; assert that its reply matches the document."""
        response = self.client.open(url, method=method, **kwargs)
        operation = operation_of(self.app, self.document, method, url)
        problems = contract_problems(self.document, operation, response)
        where = f"{method} {url} -> {response.status_code} ({operation['operationId']})"
        assert not problems, f"{where}: {problems}\n{response.get_data(as_text=True)[:500]}"
        self.checked.append((operation["operationId"], method, response.status_code))
        return response
