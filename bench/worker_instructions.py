"""What the instrumentation costs inside a gunicorn worker, in CPU instructions counted by
Valgrind: the share issue 21's budget is about, where bench.layer_instructions counts in process.

    python -m bench.worker_instructions                    # list and list-304, ~10 minutes
    python -m bench.worker_instructions --only list,me,post-stale
See bench/README.md ("Observability").

For each side (`now`: this tree, production's defaults, the access log on and written to a
file; `before`: bench.observability's BASE_COMMIT, the code before any instrumentation, on
a database its own code seeded) and each request, gunicorn (one sync worker, production config)
runs under `valgrind --tool=cachegrind --trace-children=yes` on loopback and answers, one at a
time over new connections, bench.observability's requests (WARM_UP of one kind, then SMALL or
LARGE more); the worker's count
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
import signal
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

from bench.history import base_tree
from bench.layer_instructions import need_valgrind, per_request, prepare_sides
from bench.observability import (
    BASE_COMMIT,
    HOT_PATHS,
    KEYS,
    blog_of,
    hot_path_keys,
    request_for,
)
from devtools.live import LOOPBACK_SITE, ROOT
from devtools.processes import children_of
from devtools.server import HOST, free_port

SMALL, LARGE = 100, 600
WARM_UP = 200
SIDES = ("now", "before")
STARTUP_SECONDS = 900  # a worker's imports and app under Valgrind
HOT_PATHS_BY_KEY = {hot.key: hot for hot in HOT_PATHS}


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
        children = children_of(process.pid)
        hot = HOT_PATHS_BY_KEY[name]
        request = request_for(hot, blog_of(f"http://{HOST}:{port}/api/v1", "profiler"))
        for _ in range(WARM_UP + count):
            status = get(port, request.path, request.headers)[0]
            if status != hot.status:
                raise RuntimeError(f"{side} {name}: {status}, not {hot.status}")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=300)
    (worker,) = children
    text = (run / f"cachegrind.{worker}").read_text()
    (run / "functions.json").write_text(json.dumps(by_function(text)))
    for line in text.splitlines():
        if line.startswith("summary:"):
            return int(line.split()[1])
    raise RuntimeError(f"no summary for the worker in {run}")


def by_function(text: str) -> dict[str, int]:
    """A cachegrind file's instructions by function (the function's own, not its callees'),
    named with the file of its object (`libpython3.11.so: _PyEval_EvalFrameDefault`)."""
    totals: dict[str, int] = {}
    where, name = "", ""
    for line in text.splitlines():
        if line.startswith("fl="):
            where = line[3:].rsplit("/", 1)[-1]
        elif line.startswith("fn="):
            name = f"{where}: {line[3:]}"
        elif line[:1].isdigit():
            totals[name] = totals.get(name, 0) + int(line.split()[1])
    return totals


def function_changes(workdir: Path, name: str, top: int) -> list[tuple[str, float, float]]:
    """The `top` functions whose own instructions a request changed most from before to now:
    (function, before, now), each per request, as per_request divides the whole count."""

    def per(side: str) -> dict[str, float]:
        small, large = (
            json.loads((workdir / f"{side}.{name}.{n}" / "functions.json").read_text())
            for n in (SMALL, LARGE)
        )
        return {
            function: (large.get(function, 0) - small.get(function, 0)) / (LARGE - SMALL)
            for function in small.keys() | large.keys()
        }

    now, before = per("now"), per("before")
    changes = [
        (function, before.get(function, 0.0), now.get(function, 0.0))
        for function in now.keys() | before.keys()
    ]
    changes.sort(key=lambda change: abs(change[2] - change[1]), reverse=True)
    return changes[:top]


def main(argv: list[str] | None = None) -> int:
    """Count each request's instructions in a gunicorn worker, now and before."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--only",
        type=hot_path_keys,
        default=["list", "list-304"],
        help="comma-separated: " + ",".join(KEYS),
    )
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--base-commit", default=BASE_COMMIT)
    parser.add_argument(
        "--base-tree", type=Path, help="a checkout of the base code (default: a new worktree)"
    )
    parser.add_argument(
        "--by-function",
        type=int,
        default=0,
        metavar="N",
        help="also list the N functions whose own instructions a request changed most",
    )
    args = parser.parse_args(argv)
    need_valgrind()
    with (
        tempfile.TemporaryDirectory(prefix="blogapi-worker-") as tmp,
        base_tree(args, Path(tmp)) as tree,
    ):
        workdir = Path(tmp)
        prepare_sides(args.posts, workdir, tree)
        counts = per_request(partial(worker_count, workdir), SIDES, args.only, SMALL, LARGE)
        changes = (
            {name: function_changes(workdir, name, args.by_function) for name in args.only}
            if args.by_function
            else {}
        )
    print(f"| request | now | before ({args.base_commit}) | the instrumentation |")
    print("|---|---:|---:|---:|")
    for name, per in counts.items():
        extra = per["now"] - per["before"]
        print(
            f"| {name} | {per['now'] / 1000:.1f} k | {per['before'] / 1000:.1f} k "
            f"| {extra / 1000:+.1f} k ({extra / per['before']:+.1%}) |"
        )
    for name, functions in changes.items():
        print(f"\n{name}, by function (its own instructions a request):\n")
        print("| function | before | now | change |")
        print("|---|---:|---:|---:|")
        for function, before, now in functions:
            print(f"| `{function}` | {before:,.0f} | {now:,.0f} | {now - before:+,.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
