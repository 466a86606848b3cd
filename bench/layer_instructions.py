"""What the request layer (request id, request metrics, access line) costs, in CPU instructions
counted by Valgrind: unlike a timing, the same on a busy machine as on a quiet one.

    python -m bench.layer_instructions                      # every hot path, ~4 minutes
    python -m bench.layer_instructions --only list,post-stale
See bench/README.md ("Observability").

On a seeded production-mode SQLite database (bench.profile's), one process per count builds
the app in prometheus_client's multiprocess mode with the access log on and stderr going to a
file, as a gunicorn worker has them, warms up, and answers N requests straight into the WSGI
app, either through the whole app (`layer`) or through the app inside the layer (`bare`), under
`valgrind --tool=cachegrind`. A request's instructions are the difference between a run of
SMALL and one of LARGE requests, divided by the difference, so start-up cancels out. The
process's chores (access lines written out) run when their buffer fills, as under load.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from devtools.live import ROOT

SMALL, LARGE = 200, 1200
WARM_UP = 300
PATHS = ("list", "post", "me", "list-304", "post-stale")
SIDES = ("layer", "bare")


def child(env_file: Path, side: str, name: str, count: int) -> None:
    """Build the app and answer `count` requests of one kind (the process Valgrind counts)."""
    os.environ.update(json.loads(env_file.read_text()))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="blogapi-layer-metrics-")
    os.environ["ACCESS_LOG"] = "true"
    stderr = os.open(env_file.with_suffix(f".{side}.{name}.{count}.log"), os.O_WRONLY | os.O_CREAT)
    os.dup2(stderr, 2)  # the access lines go to a file, as a worker's do
    from bench.profile import call, environ_for, scenarios
    from blogapi import create_app
    from blogapi.observability.background import CHORES
    from blogapi.observability.http_requests import EXTENSION_KEY

    app = create_app()
    CHORES.every = 3600.0  # a round would land at a different request in each run
    layer = app.extensions[EXTENSION_KEY]
    wsgi = layer if side == "layer" else layer.wsgi_app
    made = scenarios(app)
    headers: dict[str, str] = {}  # the list's, for its ETag

    def start_response(_status: str, sent: list[tuple[str, str]], _exc: object = None) -> object:
        headers.update(sent)
        return lambda _data: None

    environ = environ_for("GET", "/api/v1/posts?per_page=20", {})
    environ["wsgi.input"], environ["wsgi.errors"] = io.BytesIO(), sys.stderr
    slug = json.loads(b"".join(app(environ, start_response)))["items"][0]["slug"]
    kinds = {
        "list": made["list"],
        "post": made["post"],
        "me": made["me"],
        "list-304": lambda: environ_for(
            "GET", "/api/v1/posts?per_page=20", {"If-None-Match": headers["ETag"]}
        ),
        "post-stale": lambda: environ_for(
            "GET", f"/api/v1/posts/{slug}", {"If-None-Match": '"stale"'}
        ),
    }
    environs = [kinds[name]() for _ in range(WARM_UP + count)]
    for environ in environs:
        call(wsgi, environ)


def instructions(env_file: Path, side: str, name: str, count: int) -> int:
    """Instructions Valgrind counted for one child run."""
    out = env_file.with_suffix(f".{side}.{name}.{count}.cachegrind")
    command = [
        "valgrind", "--tool=cachegrind", "--cache-sim=no", f"--cachegrind-out-file={out}",
        sys.executable, "-m", "bench.layer_instructions", "--child", str(env_file), side, name,
        str(count),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": str(ROOT)}
    subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
    for line in out.read_text().splitlines():
        if line.startswith("summary:"):
            return int(line.split()[1])
    raise RuntimeError(f"no summary in {out}")


def main(argv: list[str] | None = None) -> int:
    """Count each hot path's instructions a request, with and without the layer."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", default=",".join(PATHS), help="comma-separated: " + ",".join(PATHS)
    )
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument(
        "--child", nargs=4, metavar=("ENV", "SIDE", "PATH", "COUNT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.child:
        env_file, side, name, count = args.child
        child(Path(env_file), side, name, int(count))
        return 0
    if shutil.which("valgrind") is None:
        subprocess.run(["apt-get", "install", "-y", "-qq", "valgrind"], check=True)
    from bench.profile import prepare

    names = [name for name in args.only.split(",") if name]
    with tempfile.TemporaryDirectory(prefix="blogapi-layer-") as tmp:
        env_file = Path(tmp) / "env.json"
        env_file.write_text(json.dumps(prepare("sqlite", args.posts, Path(tmp))))
        jobs = [(side, name, count) for name in names for side in SIDES for count in (SMALL, LARGE)]
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            counted = dict(
                zip(jobs, pool.map(lambda job: instructions(env_file, *job), jobs), strict=True)
            )
    print("| request | layer | bare | the layer's share |")
    print("|---|---:|---:|---:|")
    for name in names:
        per = {
            side: (counted[(side, name, LARGE)] - counted[(side, name, SMALL)]) / (LARGE - SMALL)
            for side in SIDES
        }
        extra = per["layer"] - per["bare"]
        print(
            f"| {name} | {per['layer'] / 1000:.1f} k | {per['bare'] / 1000:.1f} k "
            f"| +{extra / 1000:.1f} k ({extra / per['layer']:.0%}) |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
