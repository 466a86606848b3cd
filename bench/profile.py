"""Profile blogapi's hot paths in-process: cProfile over many requests straight into the WSGI
app (no HTTP, no test client), on a seeded production-mode database.

    python -m bench.profile                      # SQLite, 2,000 posts, every request type
    python -m bench.profile --only me,list --requests 5000 --top 25
    python -m devtools.with_server postgres -- python -m bench.profile --database postgresql

It prints, per request type, the time per request and the top entries by own time and by
cumulative time, which is what the notes of bench/README.md quote.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from bench.databases import new_database
from bench.run import PASSWORD, manage
from blogapi.web.fast_reads import drained
from devtools.live import migrate, production_env

WSGI = {"wsgi.url_scheme": "http", "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80"}


def environ_for(method: str, path: str, headers: dict[str, str], body: bytes = b"") -> dict:
    """A WSGI environ for one request, as gunicorn would build it."""
    path_info, _, query = path.partition("?")
    environ: dict[str, Any] = dict(
        WSGI,
        REQUEST_METHOD=method,
        PATH_INFO=path_info,
        QUERY_STRING=query,
        SCRIPT_NAME="",
        SERVER_PROTOCOL="HTTP/1.1",
        REMOTE_ADDR="127.0.0.1",
        HTTP_HOST="127.0.0.1",
    )
    for name, value in headers.items():
        key = name.upper().replace("-", "_")
        environ[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"] = value
    if body:
        environ["CONTENT_LENGTH"] = str(len(body))
    environ["blogapi.profile_body"] = body
    return environ


def call(app: Callable[..., Iterable[bytes]], environ: dict[str, Any]) -> tuple[str, bytes]:
    """Run one request through the WSGI app; its status and body."""
    environ = dict(environ)
    environ["wsgi.input"] = io.BytesIO(environ["blogapi.profile_body"])
    environ["wsgi.errors"] = sys.stderr
    seen: list[str] = []

    def start_response(status: str, _headers: list, _exc: Any = None) -> Callable[..., None]:
        seen.append(status)
        return lambda _data: None

    body = drained(app(environ, start_response))
    return seen[0], body


def prepare(database: str, posts: int, workdir: Path) -> dict[str, str]:
    """A migrated, seeded database with an editor to sign in as; the app's environment."""
    url = new_database(
        database, workdir, "profile", os.environ.get("DATABASE_URL"), "bench.profile"
    )
    env = production_env(url, POST_WRITE_RATE_LIMIT="1000000 per minute")
    migrate(env)
    manage(env, "seed", "--users", "20", "--posts", str(posts), "--seed", "1")
    manage(
        env,
        "create-user",
        "profiler",
        "--email",
        "profiler@example.com",
        "--role",
        "editor",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    return env


def scenarios(app: Any) -> dict[str, Callable[[], dict[str, Any]]]:
    """Request makers by name (a write makes a new environ each time)."""
    login = environ_for(
        "POST",
        "/api/v1/auth/login",
        {"Content-Type": "application/json"},
        json.dumps({"username": "profiler", "password": PASSWORD}).encode(),
    )
    token = json.loads(call(app, login)[1])["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    slug = json.loads(call(app, environ_for("GET", "/api/v1/posts?per_page=1", {}))[1])["items"][0][
        "slug"
    ]
    write = {**bearer, "Content-Type": "application/json"}
    post = json.dumps({"title": "Profiled post", "body": "Some *Markdown* body."}).encode()
    return {
        "list": lambda: environ_for("GET", "/api/v1/posts?per_page=20", {}),
        "post": lambda: environ_for("GET", f"/api/v1/posts/{slug}", {}),
        "page": lambda: environ_for("GET", f"/posts/{slug}", {}),
        "feed": lambda: environ_for("GET", "/feed.atom", {}),
        "me": lambda: environ_for("GET", "/api/v1/auth/me", bearer),
        "all": lambda: environ_for("GET", "/api/v1/posts?status=all&per_page=20", bearer),
        "create": lambda: environ_for("POST", "/api/v1/posts", write, post),
    }


def profile(app: Any, make: Callable[[], dict[str, Any]], requests: int, top: int) -> str:
    """Time and profile `requests` requests of one kind; the report's text."""
    for _ in range(20):  # warm caches and connections
        call(app, make())
    environs = [make() for _ in range(requests)]
    started = time.perf_counter()
    for environ in environs[: requests // 2]:
        call(app, environ)
    per_request = (time.perf_counter() - started) / (requests // 2) * 1e6
    profiler = cProfile.Profile()
    profiler.enable()
    for environ in environs[requests // 2 :]:
        status, _ = call(app, environ)
    profiler.disable()
    out = io.StringIO()
    out.write(f"  {per_request:.0f} µs per request unprofiled; last status {status}\n")
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    """Seed, then profile each request type."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument(
        "--only", default="", help="comma-separated: list,post,page,feed,me,all,create"
    )
    parser.add_argument("--env-file", type=Path, help="reuse a prepared database (JSON env)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="blogapi-profile-") as tmp:
        if args.env_file and args.env_file.exists():
            env = json.loads(args.env_file.read_text())
        else:
            env = prepare(
                args.database, args.posts, Path(tmp) if not args.env_file else args.env_file.parent
            )
            if args.env_file:
                args.env_file.write_text(json.dumps(env))
        os.environ.update(env)
        from blogapi import create_app

        app = create_app()
        wanted = {name for name in args.only.split(",") if name}
        for name, make in scenarios(app).items():
            if wanted and name not in wanted:
                continue
            print(f"== {name}")
            print(profile(app, make, args.requests, args.top))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
