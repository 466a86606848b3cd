"""What the instrumentation costs inside a gunicorn worker, in CPU instructions counted by
Valgrind: the share issue 21's budget is about, where bench.layer_instructions counts in process.

    python -m bench.worker_instructions                    # list and list-304, ~10 minutes
    python -m bench.worker_instructions --only list,me,post-stale
See bench/README.md ("Observability").

For each side (`now`: this tree, production's defaults, the access log on and written to a
file; `before`: bench.layer_instructions' BASE_COMMIT, the code before any instrumentation, on
a database its own code seeded) and each request, gunicorn (one sync worker, production config)
runs under `valgrind --tool=cachegrind --trace-children=yes` on loopback and answers, one at a
time over new connections, WARM_UP requests and then SMALL or LARGE more; the worker's count
(its own file, the master's left out) over two runs gives a request's instructions, start-up,
sign-in and warm-up cancelling out. Not counted: the kernel's share of the socket work, which
is the same on both sides. Each second the worker's chores (access lines written, gauges
published) run once: under Valgrind a run takes about twenty times as long, so they weigh
more here than at full speed, on the `now` side only.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.layer_instructions import BASE_COMMIT, PATHS, prepare_sides
from bench.run import PASSWORD
from devtools.live import LOOPBACK_SITE, ROOT
from devtools.server import HOST, free_port

SMALL, LARGE = 100, 600
WARM_UP = 200
SIDES = ("now", "before")
STARTUP_SECONDS = 900  # a worker's imports and app under Valgrind


def get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, Any, bytes]:
    """One request over a new connection, as a sync worker serves them."""
    connection = http.client.HTTPConnection(HOST, port, timeout=STARTUP_SECONDS)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def wait_until_up(port: int, process: subprocess.Popen[bytes]) -> None:
    """Until /health answers: one request once the socket accepts, so the worker answers the
    same number of health checks in every run."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        try:
            status = get(port, "/api/v1/health")[0]
        except ConnectionRefusedError:
            time.sleep(0.5)
            continue
        if status != 200:
            raise RuntimeError(f"/health answered {status}")
        return
    raise RuntimeError("gunicorn did not start in time")


def requests_of(port: int, name: str) -> tuple[str, dict[str, str]]:
    """The path and headers of one kind of request, from what the running server tells."""
    listed = "/api/v1/posts?per_page=20"
    _status, headers, body = get(port, listed)
    slug = json.loads(body)["items"][0]["slug"]
    if name == "list":
        return listed, {}
    if name == "post":
        return f"/api/v1/posts/{slug}", {}
    if name == "list-304":
        return listed, {"If-None-Match": headers["ETag"]}
    if name == "post-stale":
        return f"/api/v1/posts/{slug}", {"If-None-Match": '"stale"'}
    connection = http.client.HTTPConnection(HOST, port, timeout=STARTUP_SECONDS)
    try:
        login = json.dumps({"username": "profiler", "password": PASSWORD})
        connection.request(
            "POST", "/api/v1/auth/login", login, {"Content-Type": "application/json"}
        )
        token = json.loads(connection.getresponse().read())["access_token"]
    finally:
        connection.close()
    return "/api/v1/auth/me", {"Authorization": f"Bearer {token}"}


def worker_count(workdir: Path, side: str, name: str, count: int) -> int:
    """Instructions the worker counted over one run: start-up, set-up, warm-up and `count`."""
    run = workdir / f"{side}.{name}.{count}"
    run.mkdir()
    if side == "now":
        env, cwd = json.loads((workdir / "env.json").read_text()), ROOT
        env.update(ACCESS_LOG="true", LOG_FORMAT="json", LOG_LEVEL="INFO")
    else:
        base = json.loads((workdir / "before.json").read_text())
        env, cwd = base["env"], Path(base["tree"])
    port = free_port()
    if env.get("SITE_URL") == LOOPBACK_SITE:
        env["SITE_URL"] = f"http://{HOST}:{port}"
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # production's default: gunicorn.conf.py's folder
    env.update(PYTHONHASHSEED="0", BLOGAPI_INSTANCE_DIR=str(run))
    command = [
        "valgrind", "--tool=cachegrind", "--cache-sim=no", "--trace-children=yes",
        f"--cachegrind-out-file={run}/cachegrind.%p", sys.executable, "-m", "gunicorn",
        "--workers", "1", "--bind", f"{HOST}:{port}", "--timeout", str(STARTUP_SECONDS),
        "--graceful-timeout", "60", "blogapi:create_app()",
    ]  # fmt: skip
    with open(run / "server.log", "wb") as log:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=log)
    try:
        wait_until_up(port, process)
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
        path, headers = requests_of(port, name)
        expected = 304 if name == "list-304" else 200
        for _ in range(WARM_UP + count):
            status = get(port, path, headers)[0]
            if status != expected:
                raise RuntimeError(f"{side} {name}: {status}, not {expected}")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=300)
    (worker,) = children
    for line in (run / f"cachegrind.{worker}").read_text().splitlines():
        if line.startswith("summary:"):
            return int(line.split()[1])
    raise RuntimeError(f"no summary for the worker in {run}")


def main(argv: list[str] | None = None) -> int:
    """Count each request's instructions in a gunicorn worker, now and before."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--only", default="list,list-304", help="comma-separated: " + ",".join(PATHS)
    )
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--base-commit", default=BASE_COMMIT)
    parser.add_argument(
        "--base-tree", type=Path, help="a checkout of the base code (default: a new worktree)"
    )
    args = parser.parse_args(argv)
    names = [name for name in args.only.split(",") if name]
    if unknown := set(names) - set(PATHS):
        parser.error(f"unknown: {', '.join(sorted(unknown))}")
    if shutil.which("valgrind") is None:
        subprocess.run(["apt-get", "install", "-y", "-qq", "valgrind"], check=True)
    from bench.history import base_tree

    with (
        tempfile.TemporaryDirectory(prefix="blogapi-worker-") as tmp,
        base_tree(args, Path(tmp)) as tree,
    ):
        workdir = Path(tmp)
        prepare_sides(args.posts, workdir, tree)
        jobs = [(side, name, count) for name in names for side in SIDES for count in (SMALL, LARGE)]
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            counted = dict(
                zip(jobs, pool.map(lambda job: worker_count(workdir, *job), jobs), strict=True)
            )
    print(f"| request | now | before ({args.base_commit}) | the instrumentation |")
    print("|---|---:|---:|---:|")
    for name in names:
        per = {
            side: (counted[(side, name, LARGE)] - counted[(side, name, SMALL)]) / (LARGE - SMALL)
            for side in SIDES
        }
        extra = per["now"] - per["before"]
        print(
            f"| {name} | {per['now'] / 1000:.1f} k | {per['before'] / 1000:.1f} k "
            f"| {extra / 1000:+.1f} k ({extra / per['before']:+.1%}) |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
