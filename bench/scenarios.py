"""What `make bench` measures on one database (issue 20): every request type against bare Flask,
create + publish pairs with the queue worker running, SQL statements per request type, and the
peak memory of each process.

    measure_database(args, "sqlite", "sqlite:///…", workdir)   # bench.run calls it per database
"""

from __future__ import annotations

import argparse
import shutil
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from bench.media import Uploads, measure_serving, photo, served_file, upload_batch
from bench.run import (
    WRITER_LIMITS,
    bare_and_blogapi,
    create_and_publish_rate,
    create_user,
    cursor_at_depth,
    login,
    process_memory_mb,
    queries_per_request,
    seed_posts,
    worker_memory_mb,
)
from bench.site import scenarios as site_requests
from bench.wrk import Request, Runs, alternate
from devtools.live import LiveServer, LiveWorker, migrate, production_env

# Issue 20's goals, as ratios to bare Flask measured in the same round.
ANONYMOUS_GOAL = 0.70
PUBLIC_FACE_GOAL = 0.70
SIGNED_IN_GOAL = 0.60
# What bare Flask serves for the media row: the same file through send_file (bench/bare_app.py).
SAME_FILE = "bare Flask's `send_file` of the same file"
ANY_JSON = 'bare Flask\'s `{"ok": true}`'
MEDIA_NAME = "media variant file `GET /media/<key>`"
EDITOR = "editor"
# Long enough for every token to outlive the longest run; expiry is not what is measured.
TOKEN_MINUTES = "1440"
VARIANT_WAIT_SECONDS = 120


@dataclass(frozen=True)
class Scenario:
    """One request type: its name in the table, the request, its goal and its yardstick."""

    name: str
    request: Request
    goal: float
    yardstick: str = ANY_JSON


@dataclass(frozen=True)
class Blog:
    """What the requests need from the prepared blog."""

    author_token: str
    editor_token: str
    slug: str
    depth: int
    deep_cursor: str
    variant_key: str


def deep_enough(api: str, wanted: int) -> int:
    """`wanted`, or 30% of the published posts when there are fewer (a small `--quick` seed)."""
    total = requests.get(f"{api}/posts?per_page=1", timeout=30).json()["meta"]["total"]
    return max(20, min(wanted, int(total * 0.3) // 20 * 20))


def upload_variant(api: str, token: str, media_root: Path) -> tuple[str, Path]:
    """Upload one photo as the bench author and wait (bounded) until its variants exist; the
    key and stored path of the variant bench.media serves."""
    uploads = Uploads(photo_bytes=0)
    upload_batch(api, token, photo(), range(1), 1, uploads)
    if not uploads.media:
        raise RuntimeError(f"the bench photo was refused: {uploads.failures}")
    media = uploads.media[0]
    deadline = time.monotonic() + VARIANT_WAIT_SECONDS
    while not media["variants"]:
        if time.monotonic() > deadline:
            raise RuntimeError(f"no variants after {VARIANT_WAIT_SECONDS}s: {media}")
        time.sleep(0.5)
        media = requests.get(
            f"{api}/media/{media['id']}", headers={"Authorization": f"Bearer {token}"}, timeout=30
        ).json()
    return served_file(media, media_root)


def upload_before_the_run(env: dict[str, str], workdir: Path) -> str:
    """The variant key of a photo uploaded through a server of its own, which stops before the
    measured servers start: decoding a photo lifts a worker's peak memory for good, and the
    memory rows are about what the measured requests take (bench.media measures uploads). The
    variant is also copied to the file bare Flask serves."""
    with LiveServer(env, workers=1, log_path=workdir / "upload.log") as server:
        key, path = upload_variant(server.api, login(server.api), Path(env["MEDIA_ROOT"]))
    shutil.copyfile(path, env["BARE_FILE"])
    return key


def prepare_blog(args: argparse.Namespace, ours: LiveServer, variant_key: str) -> Blog:
    """Tokens for the author and the editor, the newest slug and a deep cursor."""
    slug = requests.get(f"{ours.api}/posts?per_page=1", timeout=30).json()["items"][0]["slug"]
    depth = deep_enough(ours.api, args.deep)
    return Blog(
        author_token=login(ours.api),
        editor_token=login(ours.api, EDITOR),
        slug=slug,
        depth=depth,
        deep_cursor=cursor_at_depth(ours.api, depth),
        variant_key=variant_key,
    )


def request_types(api: str, blog: Blog) -> list[Scenario]:
    """Issue 20's request types, in the order of its goals table."""
    site = site_requests(api)
    me = {"Authorization": f"Bearer {blog.author_token}"}
    editor = {"Authorization": f"Bearer {blog.editor_token}"}
    return [
        Scenario("`GET /posts?per_page=20`", Request("/api/v1/posts?per_page=20"), ANONYMOUS_GOAL),
        Scenario(
            f"`GET /posts` cursor ~{blog.depth:,} deep",
            Request(f"/api/v1/posts?per_page=20&cursor={blog.deep_cursor}"),
            ANONYMOUS_GOAL,
        ),
        Scenario(
            "`GET /api/v1/posts/{slug}`", Request(f"/api/v1/posts/{blog.slug}"), ANONYMOUS_GOAL
        ),
        Scenario("cached `/feed.atom`", site["cached `/feed.atom`"], PUBLIC_FACE_GOAL),
        Scenario(
            "cached reader page `/posts/{slug}`",
            site["cached `/posts/{slug}` page"],
            PUBLIC_FACE_GOAL,
        ),
        Scenario(
            MEDIA_NAME, Request(f"/media/{blog.variant_key}"), PUBLIC_FACE_GOAL, yardstick=SAME_FILE
        ),
        Scenario("`GET /auth/me` (bearer)", Request("/api/v1/auth/me", me), SIGNED_IN_GOAL),
        Scenario(
            "editor's `GET /posts?status=all&per_page=20`",
            Request("/api/v1/posts?status=all&per_page=20", editor),
            SIGNED_IN_GOAL,
        ),
    ]


def check_answers(url: str, scenarios: list[Scenario]) -> None:
    """Every request answers 200 before any is measured (a 404 measured fast is no result)."""
    for scenario in scenarios:
        reply = requests.get(
            f"{url}{scenario.request.path}", headers=scenario.request.headers, timeout=30
        )
        if reply.status_code != 200:
            raise RuntimeError(f"{scenario.name}: {reply.status_code} {reply.text[:200]}")


def measure_reads(
    args: argparse.Namespace,
    bare: LiveServer,
    ours: LiveServer,
    scenarios: list[Scenario],
    label: str,
) -> Runs:
    """Alternating wrk rounds: each request against bare Flask's JSON, the media file against
    bare Flask serving the same file."""
    json_requests = {s.name: s.request for s in scenarios if s.yardstick == ANY_JSON}
    runs = alternate(args, bare.url, ours.url, json_requests, label=f"{label}: ")
    for scenario in scenarios:
        if scenario.yardstick == SAME_FILE:
            key = scenario.request.path.rsplit("/", 1)[1]
            runs[scenario.name] = measure_serving(args, bare, ours, key)
    return runs


def process_memory(ours: LiveServer, bare: LiveServer, worker: LiveWorker) -> dict[str, Any]:
    """Peak resident memory (VmHWM, MB) of each gunicorn worker, the queue worker and bare
    Flask's workers."""
    assert worker.process is not None
    return {
        "blogapi_workers": worker_memory_mb(ours),
        "queue_worker": process_memory_mb(worker.process.pid),
        "bare_workers": worker_memory_mb(bare),
    }


def measure_database(
    args: argparse.Namespace, database: str, url: str, workdir: Path
) -> dict[str, Any]:
    """Seed `url`, start blogapi, bare Flask and a queue worker on it, and measure everything."""
    workdir.mkdir(parents=True, exist_ok=True)
    env = production_env(
        url,
        **WRITER_LIMITS,
        # The SQLite job queue file of this run's own, never the checkout's instance/.
        BLOGAPI_INSTANCE_DIR=str(workdir),
        MEDIA_ROOT=str(workdir / "media"),
        BARE_FILE=str(workdir / "bare-file.jpg"),
        JWT_ACCESS_TOKEN_EXPIRES=TOKEN_MINUTES,
    )
    migrate(env)
    seed_seconds = seed_posts(env, args.posts)
    create_user(env, "bencher", "author")
    create_user(env, EDITOR, "editor")
    with ExitStack() as running:
        # As production runs it: manage.py worker's own defaults (4 threads, polling every 0.5 s).
        worker = running.enter_context(
            LiveWorker(env, threads=4, poll=0.5, log_path=workdir / "worker.log")
        )
        variant_key = upload_before_the_run(env, workdir)
        bare, ours = running.enter_context(bare_and_blogapi(env, args.workers, workdir))
        blog = prepare_blog(args, ours, variant_key)
        scenarios = request_types(ours.api, blog)
        check_answers(ours.url, scenarios)
        runs = measure_reads(args, bare, ours, scenarios, database)
        writes = create_and_publish_rate(ours.api, blog.author_token, args.seconds)
        print(f"{database}: {writes['pairs_per_second']:.0f} create + publish pairs/s", flush=True)
        memory = process_memory(ours, bare, worker)
        site_url = ours.env["SITE_URL"]
    queries = queries_per_request(
        dict(env, SITE_URL=site_url),
        {s.name: ("GET", s.request.path, s.request.headers) for s in scenarios},
        base_url=site_url,
    )
    return {
        "database": database,
        "seed_seconds": seed_seconds,
        "scenarios": [
            {"name": s.name, "goal": s.goal, "same_file": s.yardstick == SAME_FILE}
            for s in scenarios
        ],
        "runs": runs,
        "writes": writes,
        "memory": memory,
        "queries": queries,
    }
