"""The Api object and its routing table: every endpoint of blogapi is listed here."""

from __future__ import annotations

from typing import Any

import orjson
from flask import Flask, Response
from flask_restful import Api

from blogapi.docs import blueprint as docs_blueprint
from blogapi.resources.auth import Login, Logout, Me, Password, Register, TokenRefresh
from blogapi.resources.health import Health
from blogapi.resources.posts import PostItem, PostList, PostPublish, PostUnpublish, TagList
from blogapi.resources.service import OpenApiDocument
from blogapi.resources.users import UserItem, UserList

API_PREFIX = "/api/v1"


class BlogApi(Api):
    """Flask-RESTful's Api, but errors go to the app's own handlers (errors.py)."""

    def handle_error(self, e: Exception) -> Response:
        """Re-raise, so Flask's registered handlers answer with problem+json."""
        raise e


def output_json(data: Any, code: int, headers: dict | None = None) -> Response:
    """Serialize a resource's return value with orjson (no body for 204 and 304)."""
    body = b"" if code in (204, 304) else orjson.dumps(data)
    response = Response(body, status=code, mimetype="application/json")
    response.headers.update(headers or {})
    return response


ROUTES: list[tuple[type, str, str]] = [
    (Health, "/health", "health"),
    (OpenApiDocument, "/openapi.json", "openapi"),
    (Register, "/auth/register", "auth_register"),
    (Login, "/auth/login", "auth_login"),
    (TokenRefresh, "/auth/refresh", "auth_refresh"),
    (Logout, "/auth/logout", "auth_logout"),
    (Me, "/auth/me", "auth_me"),
    (Password, "/auth/password", "auth_password"),
    (UserList, "/users", "user_list"),
    (UserItem, "/users/<string:username>", "user_item"),
    (PostList, "/posts", "post_list"),
    (PostItem, "/posts/<string:ident>", "post_item"),
    (PostPublish, "/posts/<string:ident>/publish", "post_publish"),
    (PostUnpublish, "/posts/<string:ident>/unpublish", "post_unpublish"),
    (TagList, "/tags", "tag_list"),
]


def register_api(app: Flask) -> BlogApi:
    """Bind every resource of the routing table to the app."""
    api = BlogApi(prefix=API_PREFIX, default_mediatype="application/json")
    api.representations = {"application/json": output_json}
    for resource, path, endpoint in ROUTES:
        api.add_resource(resource, path, endpoint=endpoint)
    api.init_app(app)
    app.register_blueprint(docs_blueprint, url_prefix=API_PREFIX)
    return api
