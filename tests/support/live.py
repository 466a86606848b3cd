"""blogapi under gunicorn in production mode, as clients meet it over real HTTP."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import requests

from devtools.live import OPEN_REGISTRATION, LiveServer, fresh_database_url, migrate, production_env
from tests.support.accounts import PASSWORD, bearer

TIMEOUT = 60


@contextmanager
def production_server(workdir: Path, **settings: str) -> Iterator[LiveServer]:
    """One production instance (two workers) on a fresh, migrated database in `workdir`, with
    open registration and no rate limits unless `settings` say otherwise."""
    env = production_env(
        fresh_database_url(workdir),
        **{"RATELIMIT_ENABLED": "false", **OPEN_REGISTRATION, **settings},
    )
    migrate(env)
    with LiveServer(env, log_path=workdir / "gunicorn.log") as live:
        yield live


@contextmanager
def two_instances(env: Mapping[str, str], workdir: Path) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Instances A and B (one worker each) started together from one environment, so on one
    database with the same secrets, as instances behind one balancer are; stopped after."""
    migrate(env)
    with ExitStack() as stack:
        servers = [LiveServer(env, workers=1, log_path=workdir / f"{name}.log") for name in "ab"]
        for server in servers:
            stack.callback(server.stop)
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(LiveServer.start, servers))
        yield servers[0], servers[1]


def reply_html(handler: BaseHTTPRequestHandler, body: bytes) -> None:
    """Answer a test's own little web server's request with a 200 HTML page."""
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html; charset=utf-8")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def sign_up_over_http(api: str, username: str) -> dict[str, str]:
    """Register (open registration makes authors) and log in; the Authorization header."""
    registered = requests.post(
        f"{api}/auth/register",
        json={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
        timeout=TIMEOUT,
    )
    assert registered.status_code == 201, registered.text
    pair = requests.post(
        f"{api}/auth/login", json={"username": username, "password": PASSWORD}, timeout=TIMEOUT
    )
    assert pair.status_code == 200, pair.text
    return bearer(pair.json()["access_token"])


def eventually(check: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll `check` until it returns something true, and return that; fail saying `what` did
    not happen within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout} s: {what}")
