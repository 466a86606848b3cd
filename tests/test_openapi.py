"""The OpenAPI document describes the whole API truthfully, and the docs page is self-contained."""

from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate

from blogapi.routes import API_PREFIX, ROUTES

METHODS = {"get", "post", "put", "patch", "delete"}
NOT_DOCUMENTED = {route.endpoint for route in ROUTES if not route.documented}  # static files
OPTIONAL_READS = {("/posts", "get"), ("/posts/{ident}", "get"), ("/users/{username}", "get")}


@pytest.fixture
def document(client):
    """The served document."""
    response = client.get(f"{API_PREFIX}/openapi.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    return response.get_json()


def app_operations(app) -> set[tuple[str, str]]:
    """Every (path, method) the app routes, in OpenAPI's path notation."""
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint in NOT_DOCUMENTED:
            continue
        site_root = (
            "/.well-known", "/media/", "/feed.", "/sitemap", "/robots.txt", "/micropub",
            "/indieauth/", "/metrics",
        )  # fmt: skip
        site_page = rule.endpoint.startswith("site_")  # the reader pages (blogapi/site)
        assert site_page or rule.rule.startswith((API_PREFIX, *site_root)), rule.rule
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule.removeprefix(API_PREFIX))
        found |= {(path, m.lower()) for m in rule.methods if m.lower() in METHODS}
    return found


def documented_operations(document) -> set[tuple[str, str]]:
    """Every (path, method) the document describes."""
    return {(p, m) for p, item in document["paths"].items() for m in item if m in METHODS}


def test_the_document_is_valid_openapi_3(document):
    validate(document)
    assert document["openapi"].startswith("3.")
    assert document["servers"] == [{"url": API_PREFIX}]


def test_every_route_is_documented_and_every_documented_operation_exists(app, document):
    assert app_operations(app) == documented_operations(document)


def test_the_routing_table_lists_every_url_the_app_serves(app):
    served = {(rule.endpoint, rule.rule) for rule in app.url_map.iter_rules()}
    assert served == {(route.endpoint, route.path) for route in ROUTES}
    assert {"docs_asset", "site_asset"} == NOT_DOCUMENTED


def test_the_key_set_is_documented_at_the_site_root(document):
    jwks = document["paths"]["/.well-known/jwks.json"]["get"]
    assert jwks["servers"] == [{"url": "/"}] and jwks["security"] == []
    assert set(jwks["responses"]) >= {"200", "404", "503"}


OAUTH_PATHS = ("/micropub", "/indieauth/token", "/indieauth/introspect", "/indieauth/revoke")


def test_every_operation_is_explained_with_its_errors(document):
    for path, item in document["paths"].items():
        for method, op in item.items():
            if method not in METHODS:
                continue
            where = f"{method.upper()} {path}"
            assert op["summary"] and op["description"] and op["tags"], where
            no_database = path in (
                "/docs",
                "/robots.txt",
                "/.well-known/oauth-authorization-server",
            )
            # Micropub's and IndieAuth's clients read OAuth's error body (W3C Micropub 3.9,
            # RFC 6749 5.2); IndieAuth's sign-in page answers programs with problem+json.
            oauth = path.startswith(OAUTH_PATHS) or (path, method) == ("/indieauth/auth", "post")
            assert no_database or "503" in op["responses"], where
            for status, response in op["responses"].items():
                if int(status) >= 400 and oauth:
                    media = response["content"]["application/json"]
                    assert "error_description" in media["schema"]["properties"], where
                elif int(status) >= 400:
                    media = response["content"]["application/problem+json"]
                    assert media["schema"] == {"$ref": "#/components/schemas/Problem"}, where
                if status == "401":
                    assert "WWW-Authenticate" in response["headers"], where
                if status in ("429", "503"):
                    assert "Retry-After" in response["headers"], where
            if "application/json" in op.get("requestBody", {}).get("content", {}):
                assert {"400", "415", "422"} <= set(op["responses"]), where
            elif "requestBody" in op:  # forms: every field is text, so a fault is a 400
                assert "400" in op["responses"], where


def test_protected_operations_name_the_bearer_scheme(document):
    scheme = document["components"]["securitySchemes"]["bearerAuth"]
    assert scheme == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    assert document["paths"]["/auth/password"]["put"]["security"] == [{"bearerAuth": []}]
    # Where a personal access token may call, the document says so.
    assert document["components"]["securitySchemes"]["personalToken"]["scheme"] == "bearer"
    tokens_too = [{"bearerAuth": []}, {"personalToken": []}]
    assert document["paths"]["/auth/me"]["get"]["security"] == tokens_too
    assert document["paths"]["/posts"]["post"]["security"] == tokens_too
    assert "`create` scope" in document["paths"]["/posts"]["post"]["description"]
    assert document["paths"]["/auth/tokens"]["post"]["security"] == [{"bearerAuth": []}]
    assert document["paths"]["/auth/login"]["post"]["security"] == []
    assert "401" in document["paths"]["/auth/me"]["get"]["responses"]


def test_optional_reads_take_the_documents_optional_bearer_default(document):
    # An operation-level `security` of any kind makes openapi-python-client demand an
    # AuthenticatedClient; the root default says "a token or none" without that effect.
    assert document["security"] == [{}, {"bearerAuth": []}]
    for path, method in documented_operations(document):
        op = document["paths"][path][method]
        assert ("security" not in op) == ((path, method) in OPTIONAL_READS), (method, path)


def test_request_schemas_come_from_the_validating_schemas(document):
    register = document["components"]["schemas"]["Register"]
    assert set(register["required"]) == {"username", "email", "password"}
    assert register["additionalProperties"] is False
    assert register["properties"]["password"]["writeOnly"] is True
    user = document["components"]["schemas"]["PrivateUser"]
    assert "password_hash" not in user["properties"] and "email" in user["properties"]
    public = document["components"]["schemas"]["PublicUser"]
    assert "email" not in public["properties"]


def test_list_operations_document_paging(document):
    users = document["paths"]["/users"]["get"]
    names = {p["name"] for p in users["parameters"]}
    assert {"page", "per_page"} <= names
    assert {"Link", "X-Total-Count"} <= set(users["responses"]["200"]["headers"])


def test_the_docs_page_uses_only_local_assets(client):
    page = client.get(f"{API_PREFIX}/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "http://" not in html and "https://" not in html and "<script>" not in html
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    for asset in re.findall(r'(?:src|href)="([^"]+)"', html):
        response = client.get(f"{API_PREFIX}/{asset}")
        assert response.status_code == 200, asset
    assert client.get(f"{API_PREFIX}/docs/assets/../config.py").status_code == 404
