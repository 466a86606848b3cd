"""What each request of the round-two attacker costs a production server, over real HTTP.

    python -m bench.hostile_requests           # gunicorn (production) from this checkout
    python -m devtools.with_server postgres -- python -m bench.hostile_requests   # on PostgreSQL
    python -m bench.hostile_requests --url http://127.0.0.1:8000   # a server already running
A server given by --url must have registration open as `author` and rate limits off, so that
each request is measured rather than refused by a limit. Each line is one request: its status,
the size of the reply and the wall time the client waited.
"""

from __future__ import annotations

import argparse
import http.client
import json
import secrets
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

PASSWORD = "correct horse battery staple 42"
PLANTED = 5  # posts of 200,000 characters the search has to look through
QUERY = "zq" * 50  # 100 characters: a valid query on every version, found nowhere
NEAR_MISS = "zq" * 49 + "z "  # QUERY but for its last letter

# The bodies of one POST /posts each: what any contributor may send.
BODIES: dict[str, Callable[[], dict[str, object]]] = {
    "body <dl>*49,750": lambda: {"title": "t", "body": "<dl>" * 49_750},
    "body <ul>*49,750": lambda: {"title": "t", "body": "<ul>" * 49_750},
    "body <div>*39,800": lambda: {"title": "t", "body": "<div>" * 39_800},
    "body [*199,000": lambda: {"title": "t", "body": "[" * 199_000},
    "body ![*99,500": lambda: {"title": "t", "body": "![" * 99_500},
    "body '- a' items, 199 KB": lambda: {"title": "t", "body": "- a\n" * 49_750},
    "body '*a* ' runs, 199 KB": lambda: {"title": "t", "body": "*a* " * 49_750},
    "tags ['']*240,000": lambda: {"title": "t", "body": "b", "tags": [""] * 240_000},
    "80,000 unknown fields": lambda: (
        {"title": "t", "body": "b"} | {f"f{n:05}": 1 for n in range(80_000)}
    ),
}


class Client:
    """A keep-alive HTTP/1.1 connection to the API."""

    def __init__(self, url: str) -> None:
        """Connect to the server at `url` (scheme, host and port)."""
        parts = urlsplit(url)
        self.connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=600)
        self.token = ""

    def send(self, method: str, path: str, payload: object = None) -> tuple[int, bytes, float]:
        """One request: (status, reply body, seconds waited)."""
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        body = None if payload is None else json.dumps(payload).encode()
        start = time.perf_counter()
        self.connection.request(method, f"/api/v1{path}", body=body, headers=headers)
        reply = self.connection.getresponse()
        data = reply.read()
        return reply.status, data, time.perf_counter() - start


def sign_in(client: Client) -> None:
    """Register a new author and keep its access token."""
    name = f"attacker{secrets.token_hex(4)}"
    account = {"username": name, "email": f"{name}@example.com", "password": PASSWORD}
    status, data, _ = client.send("POST", "/auth/register", account)
    if status != 201:
        raise SystemExit(f"registration refused ({status}): open it as author on that server")
    _, data, _ = client.send("POST", "/auth/login", {"username": name, "password": PASSWORD})
    client.token = json.loads(data)["access_token"]


def plant_long_posts(client: Client) -> None:
    """Publish the posts a search must read through: 200,000 characters each, almost matching
    QUERY at every position, so that a substring scan compares nearly all of it each time."""
    for n in range(PLANTED):
        post = {"title": f"long {n}", "body": (NEAR_MISS * 2_100)[:200_000]}
        status, data, _ = client.send("POST", "/posts", post)
        if status != 201:
            raise SystemExit(f"could not plant a post ({status}): {data[:200]!r}")
        client.send("POST", f"/posts/{json.loads(data)['id']}/publish", {})


def report(name: str, status: int, data: bytes, seconds: float) -> None:
    """One aligned line of results."""
    print(f"{name:<32} {status:>4} {len(data):>12,} B {seconds:>8.2f} s", flush=True)


def measure(url: str) -> None:
    """Send every hostile request once to the server at `url` and print what each cost."""
    client = Client(url)
    sign_in(client)
    print(f"{'request':<32} {'code':>4} {'reply':>14} {'waited':>10}")
    for name, make in BODIES.items():
        report(name, *client.send("POST", "/posts", make()))
    plant_long_posts(client)
    client.token = ""
    report(f"anonymous q over {PLANTED} x 200 KB", *client.send("GET", f"/posts?q={QUERY}"))


@contextmanager
def local_server() -> Iterator[str]:
    """gunicorn (2 workers, production) from this checkout on a fresh database: SQLite, or
    PostgreSQL under `python -m devtools.with_server postgres -- …`."""
    from devtools.live import (
        OPEN_REGISTRATION,
        LiveServer,
        fresh_database_url,
        migrate,
        production_env,
    )

    with tempfile.TemporaryDirectory() as workdir:
        url = fresh_database_url(Path(workdir))
        env = production_env(url, RATELIMIT_ENABLED="false", **OPEN_REGISTRATION)
        migrate(env)
        with LiveServer(env) as server:
            yield server.url


def main() -> None:
    """Measure a server given by --url, or one started here."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running server (registration open, limits off)")
    args = parser.parse_args()
    if args.url:
        measure(args.url)
        return
    with local_server() as url:
        measure(url)


if __name__ == "__main__":
    main()
