"""Replies as the document describes them: what is always sent is required, what has no body
declares no content, null where the wire sends null, and roles as an enum."""

from __future__ import annotations

import pytest

from blogapi.routes import API_PREFIX
from blogapi.security.roles import ROLES

METHODS = {"get", "post", "put", "patch", "delete"}
# Reply fields the server leaves out at times: validation details, and key-type parameters.
SOMETIMES_SENT = {
    ("Problem", "errors"),
    ("Problem", "errors_omitted"),
    ("Post", "match"),  # in search results only
    *(("Jwk", name) for name in ("crv", "x", "n", "e")),
}


@pytest.fixture
def document(client):
    """The served document."""
    return client.get(f"{API_PREFIX}/openapi.json").get_json()


def operations(document):
    """Every (where, operation object) of the document."""
    for path, item in document["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                yield f"{method.upper()} {path}", op


def test_every_reply_with_a_body_declares_its_media_type_and_no_other_does(document):
    for where, op in operations(document):
        for status, response in op["responses"].items():
            # Micropub's 201 says where the post is in Location, with no body (W3C Micropub 3.3),
            # as IndieAuth's 302s send the writer back to the client.
            has_body = status not in ("204", "302", "304") and not (
                status == "201" and " /micropub" in where
            )
            assert ("content" in response) == has_body, (where, status)
    served = document["paths"]["/openapi.json"]["get"]["responses"]["200"]
    assert served["content"] == {"application/json": {"schema": {"type": "object"}}}


def reply_schemas(document) -> set[str]:
    """Names of the component schemas replies use, directly or nested."""
    schemas = document["components"]["schemas"]
    found: set[str] = set()
    todo = [
        media["schema"]
        for _where, op in operations(document)
        for response in op["responses"].values()
        for media in response.get("content", {}).values()
    ]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            name = ref.removeprefix("#/components/schemas/")
            if ref and name not in found:
                found.add(name)
                todo.append(schemas[name])
            todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)
    return found


def test_reply_schemas_require_every_field_the_server_always_sends(document):
    schemas = document["components"]["schemas"]
    names = reply_schemas(document)
    assert {"PrivateUser", "PublicUser", "Problem", "Post", "TokenPair", "Tag", "PageMeta"} <= names
    for name in names:
        always = {
            field for field in schemas[name]["properties"] if (name, field) not in SOMETIMES_SENT
        }
        assert set(schemas[name].get("required", [])) == always, name


def test_a_cursor_page_may_have_no_page_number(document):
    page = document["components"]["schemas"]["PageMeta"]["properties"]["page"]
    assert page["type"] == "integer" and page["nullable"] is True
    assert "page" in document["components"]["schemas"]["PageMeta"]["required"]


def test_role_is_an_enum_of_the_roles_everywhere(document):
    roles = [
        prop
        for schema in document["components"]["schemas"].values()
        for name, prop in schema.get("properties", {}).items()
        if name == "role"
    ]
    roles += [
        param["schema"]
        for _where, op in operations(document)
        for param in op.get("parameters", [])
        if param.get("name") == "role"
    ]
    assert len(roles) >= 4  # PublicUser, PrivateUser, AdminUserUpdate, GET /users?role=
    for role in roles:
        assert role["enum"] == list(ROLES)


def test_every_operation_documents_the_long_url_refusal(document):
    for path, item in document["paths"].items():
        for method in METHODS & item.keys():
            assert "414" in item[method]["responses"], (method, path)
    assert "errors_omitted" in document["components"]["schemas"]["Problem"]["properties"]
