"""What the request layer (request id, request metrics, access line) costs, in CPU instructions
counted by Valgrind: unlike a timing, the same on a busy machine as on a quiet one.

    python -m bench.layer_instructions                      # every hot path, ~6 minutes
    python -m bench.layer_instructions --only list,post-stale
See bench/README.md ("Observability").

On a seeded production-mode SQLite database (bench.profile's), one process per count builds
the app in prometheus_client's multiprocess mode with the access log on and stderr going to a
file, as a gunicorn worker has them, warms up, and answers N requests straight into the WSGI
app, either through the whole app (`layer`) or through the app inside the layer (`bare`), under
`valgrind --tool=cachegrind`. The third side, `before`, is the code before any instrumentation
(bench.observability's BASE_COMMIT, in a temporary git worktree, on a database its own code
seeded), answering the same requests through its whole app: `layer` less `before` is all that
the instrumentation costs, the layer and what it added inside the app (the route note, the
cache counters). A request's instructions are the difference between a run of SMALL and one of
LARGE requests, divided by the difference, so start-up cancels out. The process's chores
(access lines written out) run when their buffer fills, as under load.
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
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

from devtools.live import ROOT

SMALL, LARGE = 200, 1200
WARM_UP = 300
PATHS = ("list", "post", "me", "list-304", "post-stale")
SIDES = ("layer", "bare", "before")


def base_child(base: dict[str, Any], name: str, count: int) -> None:
    """The code before any instrumentation, from its own tree, answering `count` requests of one
    kind through its whole app."""
    os.environ.update(base["env"])
    stale = [module for module in sys.modules if module.split(".")[0] in ("bench", "devtools")]
    for module in stale:  # this tree's, imported to get here
        del sys.modules[module]
    sys.path.insert(0, base["tree"])
    from bench.profile import call, environ_for, scenarios  # the base tree's own
    from blogapi import create_app

    app = create_app()
    made = scenarios(app)
    kinds = dict(made, **requests_needing_state(app, call, environ_for))
    environs = [kinds[name]() for _ in range(WARM_UP + count)]
    for environ in environs:
        call(app.wsgi_app, environ)


def requests_needing_state(
    app: Any, call: Callable[..., tuple[str, bytes]], environ_for: Callable[..., dict[str, Any]]
) -> dict[str, Callable[[], dict[str, Any]]]:
    """The two conditional requests, made from the list's current ETag and its newest slug."""
    headers: dict[str, str] = {}

    def start_response(_status: str, sent: list[tuple[str, str]], _exc: object = None) -> object:
        headers.update(sent)
        return lambda _data: None

    environ = environ_for("GET", "/api/v1/posts?per_page=20", {})
    environ["wsgi.input"], environ["wsgi.errors"] = io.BytesIO(), sys.stderr
    slug = json.loads(b"".join(app(environ, start_response)))["items"][0]["slug"]
    return {
        "list-304": lambda: environ_for(
            "GET", "/api/v1/posts?per_page=20", {"If-None-Match": headers["ETag"]}
        ),
        "post-stale": lambda: environ_for(
            "GET", f"/api/v1/posts/{slug}", {"If-None-Match": '"stale"'}
        ),
    }


def child(env_file: Path, side: str, name: str, count: int) -> None:
    """Build the app and answer `count` requests of one kind (the process Valgrind counts)."""
    if side == "before":
        base_child(json.loads(env_file.with_name("before.json").read_text()), name, count)
        return
    os.environ.update(json.loads(env_file.read_text()))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(
        prefix="metrics-", dir=env_file.parent
    )
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
    kinds = dict(scenarios(app), **requests_needing_state(app, call, environ_for))
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


def need_valgrind() -> None:
    """Install Valgrind when missing."""
    if shutil.which("valgrind") is None:
        subprocess.run(["apt-get", "install", "-y", "-qq", "valgrind"], check=True)


def per_request(
    count: Callable[[str, str, int], int],
    sides: tuple[str, ...],
    names: list[str],
    small: int,
    large: int,
) -> dict[str, dict[str, float]]:
    """Each request's instructions on each side: `count(side, name, requests)` run for `small`
    and for `large` requests (as many at once as there are cores), the difference divided by
    theirs, so that what every run does once cancels out."""
    jobs = [(side, name, n) for name in names for side in sides for n in (small, large)]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        counted = dict(zip(jobs, pool.map(lambda job: count(*job), jobs), strict=True))
    return {
        name: {
            side: (counted[(side, name, large)] - counted[(side, name, small)]) / (large - small)
            for side in sides
        }
        for name in names
    }


def prepare_sides(posts: int, workdir: Path, tree: Path) -> None:
    """This tree's database (env.json) and the base tree's, seeded by its own code
    (before.json), prepared at once."""
    from bench.history import python_in
    from bench.profile import prepare

    (workdir / "before").mkdir()
    code = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from bench.profile import prepare\n"
        "print(json.dumps(prepare('sqlite', int(sys.argv[1]), Path(sys.argv[2]))))\n"
    )
    with ThreadPoolExecutor(max_workers=2) as pool:
        base = pool.submit(
            python_in, tree, dict(os.environ), code, str(posts), str(workdir / "before")
        )
        ours = pool.submit(prepare, "sqlite", posts, workdir)
        (workdir / "env.json").write_text(json.dumps(ours.result()))
        (workdir / "before.json").write_text(json.dumps({"env": base.result(), "tree": str(tree)}))


def main(argv: list[str] | None = None) -> int:
    """Count each hot path's instructions a request: with the layer, without it, and before
    any instrumentation."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", default=",".join(PATHS), help="comma-separated: " + ",".join(PATHS)
    )
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument(
        "--base-commit", help="default: bench.observability's, the last before any instrumentation"
    )
    parser.add_argument(
        "--base-tree", type=Path, help="a checkout of the base code (default: a new worktree)"
    )
    parser.add_argument(
        "--child", nargs=4, metavar=("ENV", "SIDE", "PATH", "COUNT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.child:
        env_file, side, name, count = args.child
        child(Path(env_file), side, name, int(count))
        return 0
    # Not imported by a child: it would import this tree's blogapi before the child's own.
    from bench.history import base_tree
    from bench.observability import BASE_COMMIT

    args.base_commit = args.base_commit or BASE_COMMIT
    need_valgrind()
    names = [name for name in args.only.split(",") if name]
    with (
        tempfile.TemporaryDirectory(prefix="blogapi-layer-") as tmp,
        base_tree(args, Path(tmp)) as tree,
    ):
        env_file = Path(tmp) / "env.json"
        prepare_sides(args.posts, Path(tmp), tree)
        counts = per_request(partial(instructions, env_file), SIDES, names, SMALL, LARGE)
    print(
        f"| request | layer | bare | before ({args.base_commit}) | the layer's share "
        "| all the instrumentation (layer less before) |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for name, per in counts.items():
        extra, whole = per["layer"] - per["bare"], per["layer"] - per["before"]
        print(
            f"| {name} | {per['layer'] / 1000:.1f} k | {per['bare'] / 1000:.1f} k "
            f"| {per['before'] / 1000:.1f} k | +{extra / 1000:.1f} k ({extra / per['layer']:.0%}) "
            f"| {whole / 1000:+.1f} k ({whole / per['before']:+.1%}) |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
