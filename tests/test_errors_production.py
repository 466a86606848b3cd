"""Errors as users meet them in production (TESTING off): always problem+json, never internals."""

from __future__ import annotations

import pytest
from sqlalchemy import text

import config as settings
from blogapi import create_app
from blogapi.accounts.auth_resources import Me
from blogapi.extensions import db
from tests.support.accounts import bearer, register, sign_up
from tests.support.apps import make_app
from tests.support.logs import json_line
from tests.support.personal_tokens import as_app
from tests.support.posts import write_post
from tests.support.problems import assert_problem

API = "/api/v1"


@pytest.fixture
def prod_app():
    """An app with TESTING off: Flask-RESTful and Flask handle errors as in production."""
    return make_app(testing=False)


@pytest.fixture
def prod(prod_app):
    """A client of the production-like app."""
    return prod_app.test_client()


def test_unknown_routes_are_404_problems(prod):
    for path in ("/nothing", "/api/v1/nothing", "/api/v1/auth/me/", "/favicon.ico"):
        assert_problem(prod.get(path), 404)


def test_wrong_methods_are_405_with_allow(prod):
    body = assert_problem(prod.delete(f"{API}/auth/login"), 405)
    assert "method" in body["detail"].lower()
    response = prod.put(f"{API}/health")
    assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [
        ("{bad json", "application/json", 400),
        ("[1, 2]", "application/json", 400),
        ('"just a string"', "application/json", 400),
        ("null", "application/json", 400),
        ("", "application/json", 400),
        ('{"username": "a"}', "text/plain", 415),
        ("username=a&password=b", "application/x-www-form-urlencoded", 415),
        ('{"username": "a"}', None, 415),
        (b'{"username": "\xff"}', "application/json", 400),
        ('{"a": NaN}', "application/json", 400),
    ],
)
def test_malformed_bodies_are_problems(prod, data, content_type, status):
    response = prod.post(f"{API}/auth/login", data=data, content_type=content_type)
    assert_problem(response, status)


def test_a_json_charset_parameter_is_fine(prod):
    response = prod.post(
        f"{API}/auth/login",
        data='{"username": "nobody", "password": "x"}',
        content_type="application/json; charset=utf-8",
    )
    assert_problem(response, 401)


def test_bodies_over_the_limit_are_413(prod_app):
    client = prod_app.test_client()
    big = '{"username": "' + "a" * (prod_app.config["MAX_CONTENT_LENGTH"] + 10) + '"}'
    body = assert_problem(
        client.post(f"{API}/auth/register", data=big, content_type="application/json"), 413
    )
    assert body["title"] == "Content Too Large"


def test_validation_errors_are_422_per_field(prod):
    body = assert_problem(prod.post(f"{API}/auth/register", json={"email": 5}), 422)
    assert set(body["errors"]) == {"username", "email", "password"}
    assert all(isinstance(msgs, list) and msgs for msgs in body["errors"].values())


def test_conflicts_are_409(prod):
    assert register(prod, "ada", "ada@example.com").status_code == 201
    assert_problem(register(prod, "ada", "other@example.com"), 409)


def test_a_missing_token_is_401_not_500(prod):
    assert_problem(prod.get(f"{API}/auth/me"), 401)
    assert_problem(prod.get(f"{API}/auth/me", headers={"Authorization": "Bearer x"}), 401)


def test_an_unexpected_exception_is_a_500_without_internals(prod_app, monkeypatch):
    def explode(self):
        raise RuntimeError("secret internal detail /srv/app.py line 42")

    monkeypatch.setattr(Me, "get", explode)
    client = prod_app.test_client()
    register(client, "ada", "ada@example.com")
    token = client.post(
        f"{API}/auth/login", json={"username": "ada", "password": "correct horse battery staple"}
    ).get_json()["access_token"]
    response = client.get(f"{API}/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert_problem(response, 500)
    text = response.get_data(as_text=True)
    assert "secret internal" not in text and "Traceback" not in text and "RuntimeError" not in text


def test_an_unexpected_database_error_is_logged_with_its_request_id_and_no_values(
    prod_app, monkeypatch, caplog
):
    """A failing statement is logged as one JSON line, with the request id the client got and
    the traceback, but not the values bound to the statement (here, the user's address)."""

    def query_gone_wrong(self):
        statement = text("SELECT id FROM users WHERE email = :email AND id = :id")
        address = "@".join(("ada", "example.com"))  # a traceback quotes this line's source
        db.session.execute(statement, {"email": address, "id": object()})

    monkeypatch.setattr(Me, "get", query_gone_wrong)
    caplog.set_level("ERROR", logger="blogapi")
    client = prod_app.test_client()
    register(client, "ada", "ada@example.com")
    token = client.post(
        f"{API}/auth/login", json={"username": "ada", "password": "correct horse battery staple"}
    ).get_json()["access_token"]
    response = client.get(f"{API}/auth/me", headers=bearer(token))
    body = assert_problem(response, 500)
    [line] = [json_line(r) for r in caplog.records if r.levelname == "ERROR"]
    assert line["request_id"] == body["request_id"] == response.headers["X-Request-Id"]
    assert "SELECT id FROM users" in line["error"]  # the operator sees what failed
    assert "ada@example.com" not in line["error"] and token not in line["error"]


def test_a_lost_database_is_503_and_health_says_so(tmp_path):
    config = settings.TestingConfig()
    config.TESTING = False
    unreachable = f"sqlite:///{tmp_path}/no-such-dir/blogapi.db"
    client = create_app(config, SQLALCHEMY_DATABASE_URI=unreachable).test_client()
    health = client.get(f"{API}/health")
    body = assert_problem(health, 503)
    assert body["database"] == "unavailable"
    assert health.headers["Retry-After"]
    login = client.post(f"{API}/auth/login", json={"username": "ada", "password": "whatever1"})
    assert_problem(login, 503)


def test_health_is_ok_with_a_database(prod):
    response = prod.get(f"{API}/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_the_api_never_returns_html_even_to_a_browser(prod):
    for response in (
        prod.get(f"{API}/nope", headers={"Accept": "text/html"}),
        prod.get("/media/nope", headers={"Accept": "text/html"}),
        prod.get("/nope", headers={"Accept": "*/*"}),
        prod.post(f"{API}/auth/login", data="x", headers={"Accept": "text/html"}),
    ):
        assert response.headers["Content-Type"] == "application/problem+json"
        assert b"<html" not in response.data.lower()


def test_personal_token_refusals_are_problems_in_production(prod_app, prod):
    account = sign_up(prod, prod_app, "tokenwriter")
    app_account, token = as_app(prod, account, ["media"])
    assert_problem(write_post(prod, app_account), 403)  # no `create` scope
    assert_problem(prod.get(f"{API}/auth/tokens", headers=app_account.headers), 403)
    assert_problem(prod.get(f"{API}/auth/me", headers=bearer("blogapi_pat_nothing")), 401)
    assert (
        prod.delete(f"{API}/auth/tokens/{token['id']}", headers=account.headers).status_code == 204
    )
    assert_problem(prod.get(f"{API}/auth/me", headers=app_account.headers), 401)
