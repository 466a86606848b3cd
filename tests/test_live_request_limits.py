"""Over a raw socket to gunicorn, as production runs: a chunked body over the limit is a 413
problem, and a URL longer than gunicorn's default request line a 414 problem, not HTML."""

from __future__ import annotations

import socket

import orjson
import pytest

from devtools.live import LiveServer, fresh_database_url, migrate, production_env
from tests.support.accounts import PASSWORD

pytestmark = pytest.mark.database_agnostic

LIMIT = 1000


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """blogapi under gunicorn (reading the repository's gunicorn.conf.py), small body limit."""
    workdir = tmp_path_factory.mktemp("live-limits")
    env = production_env(
        fresh_database_url(workdir), RATELIMIT_ENABLED="false", MAX_CONTENT_LENGTH=str(LIMIT)
    )
    migrate(env)
    with LiveServer(env, workers=1, log_path=workdir / "gunicorn.log") as live:
        yield live


def exchange(server: LiveServer, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes, read the whole answer: status, headers (lowercase names), body."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines)
    return int(status_line.split()[1]), {k.lower(): v for k, v in headers.items()}, body


def chunked(body: bytes, size: int = 300) -> bytes:
    """A body in Transfer-Encoding: chunked framing."""
    parts = [body[i : i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in parts) + b"0\r\n\r\n"


def assert_problem(status: int, headers: dict[str, str], body: bytes, expected: int) -> None:
    """A problem+json answer with this status."""
    assert (status, headers["content-type"]) == (expected, "application/problem+json"), body
    assert orjson.loads(body)["status"] == expected


@pytest.mark.parametrize("size", [LIMIT + 1, 5 * LIMIT])
def test_a_chunked_body_over_the_limit_is_a_413_problem(server, size):
    body = b'{"username": "' + b"a" * size + b'", "password": "' + PASSWORD.encode() + b'"}'
    request = (
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
        b"Connection: close\r\n\r\n" + chunked(body)
    )
    assert_problem(*exchange(server, request), 413)


def test_a_small_chunked_body_is_read(server):
    body = b'{"username": "nobody", "password": "' + PASSWORD.encode() + b'"}'
    request = (
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
        b"Connection: close\r\n\r\n" + chunked(body, 10)
    )
    assert_problem(*exchange(server, request), 401)


@pytest.mark.parametrize("length", [5_000, 8_000])
def test_a_url_longer_than_gunicorns_default_line_is_a_414_problem(server, length):
    target = b"/api/v1/posts?q=" + b"a" * length
    request = b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    assert_problem(*exchange(server, request), 414)
