"""Stories about requests too large to take: bodies without a length, and very long URLs.

A chunked body (no Content-Length) over MAX_CONTENT_LENGTH used to be cut at the limit and
read as if whole: a 400 "not valid JSON", or a shorter body taken for the real one. A URL
longer than gunicorn's request line got gunicorn's HTML page. Both are problems now: 413 and
414. tests/test_live_request_limits.py sends the same over a socket to gunicorn.
"""

from __future__ import annotations

import io

import pytest

from tests.support.accounts import PASSWORD
from tests.support.apps import dispose, make_app
from tests.support.posts import API
from tests.support.problems import assert_problem

LIMIT = 1000


def login_body(size: int) -> bytes:
    """A JSON login body of exactly `size` bytes."""
    head, tail = b'{"username": "', b'", "password": "' + PASSWORD.encode() + b'"}'
    return head + b"a" * (size - len(head) - len(tail)) + tail


def send_chunked(client, body: bytes):
    """POST /auth/login with a body of no declared length, as a chunked one reaches the app."""
    return client.post(
        f"{API}/auth/login",
        input_stream=io.BytesIO(body),
        content_type="application/json",
        # What gunicorn passes on for a chunked body: werkzeug then ignores Content-Length.
        environ_overrides={"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input_terminated": True},
    )


@pytest.fixture(params=[False, True], ids=["limits off", "limits on"])
def small_client(request):
    """A client of an app taking bodies of up to LIMIT bytes; with rate limits on, the login
    limit's key function reads the body first."""
    app = make_app(MAX_CONTENT_LENGTH=LIMIT, RATELIMIT_ENABLED=request.param)
    yield app.test_client()
    dispose(app)


@pytest.mark.parametrize("size", [LIMIT + 1, LIMIT + 2, 5 * LIMIT])
def test_a_body_of_no_length_over_the_limit_is_413(small_client, size):
    body = assert_problem(send_chunked(small_client, login_body(size)), 413)
    assert body["title"] == "Content Too Large"


def test_a_body_of_no_length_at_the_limit_is_read_whole(small_client):
    # The 254-character username limit speaks: the body was read whole and parsed.
    refused = assert_problem(send_chunked(small_client, login_body(LIMIT)), 422)
    assert list(refused["errors"]) == ["username"]


def test_a_url_over_the_limit_is_a_414_problem(app, client):
    limit = app.config["MAX_URL_LENGTH"]
    assert limit == 4096
    query = "?q=" + "a" * 5000
    body = assert_problem(client.get(f"{API}/posts{query}"), 414)
    assert body["title"] == "URI Too Long" and str(limit) in body["detail"]
    assert_problem(client.get(f"{API}/nowhere/{'a' * limit}"), 414)


def test_a_url_at_the_limit_is_answered_as_usual(app, client):
    path = f"{API}/posts?q=a&page=1"
    padded = path + "&x=" + "a" * (app.config["MAX_URL_LENGTH"] - len(path) - 3)
    assert len(padded) == app.config["MAX_URL_LENGTH"]
    assert client.get(padded).status_code == 200
