"""History benchmark (issue 14): what keeping revisions costs, in storage and in write throughput.

    python -m devtools.with_server postgres -- python -m bench.history           # both DBs
    python -m bench.history --databases sqlite --edits 20 --rounds 1 --seconds 3
See bench/README.md ("History").

1. Storage: through the real API (gunicorn, production config), a post of 200,000 characters is
   edited 100 times with small edits (one sentence) and with large ones (about half the
   paragraphs rewritten), and a 2,000-character post 100 times with small edits; then the bytes
   its revisions take (rows and the table on disk), against the naive 100 whole bodies, and how
   long a PATCH, reading an old revision and its diff take.
2. Writes: `POST /posts` + publish pairs/s (bench.run.create_and_publish_rate) on this tree and
   on the code before revisions existed (BASE_COMMIT, checked out in a git worktree and served
   by the same venv), alternating rounds, each on its own database seeded alike.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import create_engine, text

from bench.databases import drop_database, new_database
from bench.run import PASSWORD, create_and_publish_rate, login, prepare_database
from bench.search import Vocabulary, _sentences, machine
from blogapi.backup.seed_text import TextMaker
from blogapi.posts.schemas import BODY_MAX
from devtools.live import ROOT, LiveServer

BENCH = "bench.history"  # how to run this benchmark, for messages

RESULTS = ROOT / "bench" / "results"
# The last commit before revisions and the trash (issue 14): the write benchmark's baseline.
BASE_COMMIT = "ba9c870"
# id, post_id, number, author_id, keyframe (4 bytes each) and created_at (8): what a row holds
# besides its body and its text columns (PostgreSQL's widths; SQLite's varints are smaller).
FIXED_ROW_BYTES = 28
READS = 5  # repetitions of each timed read


# --- bodies and their edits ----------------------------------------------------------------


class Writer:
    """Bodies and edits from one kind of text, repeatable for a seed.

    `prose`: sentences of Zipf-distributed words (bench/search.py's vocabulary); zlib shrinks
    it about 2.2x, a little less than English prose (about 3x), so it is the harder case.
    `seed`: what `manage.py seed` writes (blogapi/backup/seed_text.py): blocks drawn from a pool
    of 400 paragraphs built from 14 sentence templates, which zlib shrinks about 14x.
    """

    def __init__(self, kind: str, seed: int = 1) -> None:
        """A writer of `kind` ("prose" or "seed")."""
        self.kind = kind
        self.rng = random.Random(seed)
        self.vocabulary = Vocabulary(seed) if kind == "prose" else None
        self.maker = TextMaker(random.Random(seed))

    def sentence(self) -> str:
        """One new sentence."""
        if self.vocabulary is not None:
            return _sentences(self.rng, self.vocabulary.draw(self.rng, self.rng.randint(6, 16)))
        return self.maker.summary()

    def paragraph(self) -> str:
        """One new paragraph of plain sentences."""
        if self.vocabulary is not None:
            words = self.vocabulary.draw(self.rng, self.rng.randint(20, 60))
            return _sentences(self.rng, words)
        return " ".join(self.maker.summary() for _ in range(self.rng.randint(2, 4)))

    def block(self) -> str:
        """The next block of a new body (a seed body may hold headings, lists and code)."""
        return self.paragraph() if self.vocabulary is not None else self.maker.body()[0]

    def body(self, length: int) -> str:
        """A body of exactly `length` characters, blocks separated by blank lines."""
        blocks: list[str] = []
        size = -2
        while True:
            block = self.block()
            if size + 2 + len(block) > length:
                break
            blocks.append(block)
            size += 2 + len(block)
        if length - size > 3:  # the last block, cut to fit
            blocks.append(same_length(" " * (length - size - 2), self.paragraph))
        body = "\n\n".join(blocks)
        return body + "." * (length - len(body))

    def small_edit(self, body: str) -> str:
        """The body with one sentence of one paragraph rewritten (the same length or less)."""
        blocks = body.split("\n\n")
        plain = [i for i, b in enumerate(blocks) if is_plain(b) and ". " in b]
        i = self.rng.choice(plain or [len(blocks) - 1])
        sentences = blocks[i].split(". ")
        j = self.rng.randrange(len(sentences))
        old = new = sentences[j].rstrip(".")
        while new.rstrip(".") == old:  # an edit that changes nothing would save no revision
            new = same_length(sentences[j], self.sentence)
        sentences[j] = new if j == len(sentences) - 1 else new.rstrip(".")  # split took its "."
        blocks[i] = ". ".join(sentences)
        return "\n\n".join(blocks)

    def large_edit(self, body: str) -> str:
        """The body with about half its blocks rewritten (each the same length or less)."""
        blocks = body.split("\n\n")
        for i in self.rng.sample(range(len(blocks)), (len(blocks) + 1) // 2):
            blocks[i] = same_length(blocks[i], self.paragraph)
        return "\n\n".join(blocks)


def is_plain(block: str) -> bool:
    """A paragraph of sentences: one line, not a heading, quote, list or code."""
    return "\n" not in block and not block.startswith(("#", ">", "-", "`", "1.", "<"))


def same_length(old: str, make: Callable[[], str]) -> str:
    """New text from `make`, cut to `old`'s length (at most one character shorter), ending with a
    full stop, so an edited body stays as long and within BODY_MAX."""
    new = ""
    while len(new) < len(old):
        new += (" " if new else "") + make()
    return new[: max(1, len(old) - 1)].rstrip(" .") + "."


# --- databases -------------------------------------------------------------------------------


def query_one(url: str, sql: str, **params: Any) -> Any:
    """The first row of one query."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql), params).one()
    finally:
        engine.dispose()


def table_bytes(url: str) -> int:
    """Bytes post_revisions takes on disk with its indexes (PostgreSQL: heap, TOAST and indexes;
    SQLite: the pages of the table and its index, from dbstat)."""
    if url.startswith("postgresql"):
        return int(query_one(url, "SELECT pg_total_relation_size('post_revisions')")[0])
    sql = (
        "SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name IN "
        "(SELECT name FROM sqlite_master WHERE tbl_name = 'post_revisions')"
    )
    return int(query_one(url, sql)[0])


@dataclass
class Stored:
    """The revisions one post keeps."""

    rows: int
    keyframes: int
    body_bytes: int
    row_bytes: int
    oldest: int
    newest: int


def stored_revisions(url: str, post_id: int) -> Stored:
    """What the post's revisions hold: rows, keyframes, body bytes and row bytes."""
    row = query_one(
        url,
        "SELECT count(*), sum(CASE WHEN keyframe IS NULL THEN 1 ELSE 0 END), "
        "sum(length(body_data)), "
        "sum(length(title) + length(slug) + length(summary) + length(tags)), "
        "min(number), max(number) FROM post_revisions WHERE post_id = :post_id",
        post_id=post_id,
    )
    rows, keyframes, body, texts, oldest, newest = row
    return Stored(rows, keyframes, body, body + texts + FIXED_ROW_BYTES * rows, oldest, newest)


# --- 1. storage --------------------------------------------------------------------------------


@dataclass
class Case:
    """One post edited `edits` times."""

    text: str
    length: int
    edit: str  # "small" or "large"


@dataclass
class StorageResult:
    """What one case cost."""

    database: str
    case: Case
    edits: int
    stored: Stored
    disk_growth: int
    patch_ms: list[float]
    read_ms: float
    diff_ms: float
    far_diff_ms: float
    failures: int = 0


def timed(call: Callable[[], requests.Response], expect: int = 200) -> float:
    """Milliseconds one request took; raises unless it answered `expect`."""
    started = time.perf_counter()
    response = call()
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != expect:
        raise RuntimeError(f"{response.request.method} {response.url}: {response.status_code}")
    return elapsed


def run_case(
    api: str, session: requests.Session, url: str, database: str, case: Case, edits: int
) -> StorageResult:
    """Create the post, edit it `edits` times, measure its revisions and read old ones."""
    writer = Writer(case.text, seed=case.length + len(case.edit))
    edit = writer.small_edit if case.edit == "small" else writer.large_edit
    before = table_bytes(url)
    body = writer.body(case.length)
    created = session.post(
        f"{api}/posts", json={"title": f"History {case.text} {case.edit}", "body": body}
    )
    if created.status_code != 201:
        raise RuntimeError(f"POST /posts: {created.status_code} {created.text[:200]}")
    post = f"{api}/posts/{created.json()['id']}"
    patch_ms = []
    for _ in range(edits):
        body = edit(body)
        assert len(body) <= BODY_MAX
        patch_ms.append(timed(partial(session.patch, post, json={"body": body})))
    stored = stored_revisions(url, created.json()["id"])
    old, far = stored.oldest, stored.newest
    reads = [timed(lambda: session.get(f"{post}/revisions/{old}")) for _ in range(READS)]
    diffs = [timed(lambda: session.get(f"{post}/revisions/{old + 1}/diff")) for _ in range(READS)]
    far_diffs = [
        timed(lambda: session.get(f"{post}/revisions/{far}/diff", params={"against": old}))
        for _ in range(READS)
    ]
    result = StorageResult(
        database,
        case,
        edits,
        stored,
        table_bytes(url) - before,
        patch_ms,
        statistics.median(reads),
        statistics.median(diffs),
        statistics.median(far_diffs),
    )
    print(
        f"{database} {case.text} {case.length:,} {case.edit}: {stored.rows} revisions, "
        f"{stored.row_bytes / stored.rows:,.0f} B/revision, PATCH p50 "
        f"{statistics.median(patch_ms):.0f} ms",
        flush=True,
    )
    return result


def measure_storage(
    args: argparse.Namespace, kind: str, workdir: Path, stack: ExitStack
) -> list[StorageResult]:
    """Every case on one new database of this kind, through one server."""
    url = new_database(kind, workdir, "history_storage", args.postgres_admin_url, BENCH)
    if kind != "sqlite":
        stack.callback(drop_database, url, args.postgres_admin_url)
    env = prepare_database(workdir, 0, url)
    cases = [
        case
        for text_kind in args.texts
        for case in (
            Case(text_kind, args.length, "small"),
            Case(text_kind, args.length, "large"),
            Case(text_kind, args.small_length, "small"),
        )
    ]
    with LiveServer(env, workers=args.workers, log_path=workdir / "storage.log") as server:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {login(server.api)}"
        return [run_case(server.api, session, url, kind, c, args.edits) for c in cases]


# --- 2. write throughput ---------------------------------------------------------------------


@dataclass
class WriteResult:
    """Alternating rounds of create + publish on the base code and on this tree."""

    database: str
    rounds: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    load: list[float] = field(default_factory=list)
    statements: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    in_process: dict[str, list[dict[str, float]]] = field(default_factory=dict)


@contextmanager
def base_tree(args: argparse.Namespace, workdir: Path) -> Iterator[Path]:
    """The code before revisions: --base-tree as given, or BASE_COMMIT in a new git worktree
    (removed afterwards)."""
    if args.base_tree:
        yield args.base_tree.resolve()
        return
    tree = workdir / "base"
    git = ["git", "-C", str(ROOT)]
    subprocess.run([*git, "worktree", "add", "--detach", str(tree), args.base_commit], check=True)
    try:
        yield tree
    finally:
        subprocess.run([*git, "worktree", "remove", "--force", str(tree)], check=False)


def python_in(tree: Path, env: dict[str, str], code: str, *args: str) -> Any:
    """Run `code` with `tree`'s modules first on the path; the JSON its last line prints."""
    result = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=tree,
        env=dict(env, PYTHONPATH=str(tree)),
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if result.returncode != 0:
        raise RuntimeError(f"python in {tree} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def prepare_in(tree: Path, workdir: Path, posts: int, url: str) -> dict[str, str]:
    """bench.run.prepare_database as `tree`'s own code does it (its migrations, its seed); the
    server environment, whose gunicorn then serves `tree`'s code."""
    code = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from bench.run import prepare_database\n"
        "env = prepare_database(Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3])\n"
        "print(json.dumps(env))\n"
    )
    env: dict[str, str] = python_in(tree, dict(os.environ), code, str(workdir), str(posts), url)
    # LiveServer starts gunicorn in our tree, which gunicorn puts first on sys.path; --chdir
    # puts the base tree before it, but only when the tree is not on sys.path already (as
    # PYTHONPATH would put it, behind ours).
    env.pop("PYTHONPATH", None)
    env["GUNICORN_CMD_ARGS"] = f"--chdir {tree}"
    return env


# In a tree's own process: its app, signed in as the bench author, counting statements and
# the CPU record_revision takes (where it exists).
SETUP = """
import json, os, sys, time
from sqlalchemy import event
from blogapi import create_app
from blogapi.extensions import db
import blogapi.posts.service as service

app = create_app()
client = app.test_client()
site = {"base_url": os.environ["SITE_URL"]}  # production trusts only its own host
credentials = {"username": "bencher", "password": sys.argv[1]}
login = client.post("/api/v1/auth/login", json=credentials, **site)
headers = {"Authorization": "Bearer " + login.get_json()["access_token"]}
with app.app_context():
    engine = db.engine
seen = []
event.listen(engine, "before_cursor_execute", lambda _c, _k, sql, *_a: seen.append(sql))
spent = [0.0]
if hasattr(service, "record_revision"):  # the time revisions take, inside the requests
    record = service.record_revision

    def timed_record(*args, **kwargs):
        started = time.process_time()
        try:
            return record(*args, **kwargs)
        finally:
            spent[0] += time.process_time() - started

    service.record_revision = timed_record

run = os.urandom(4).hex()  # titles new to the database: no slug to retry
"""

PAIRS = """
def pair(n):
    post = {"title": f"In-process post {run} {n}", "body": "Some *Markdown* body."}
    created = client.post("/api/v1/posts", json=post, headers=headers, **site)
    assert created.status_code == 201, created.status_code
    created_statements = list(seen)
    seen.clear()
    published = client.post(
        f"/api/v1/posts/{created.get_json()['id']}/publish", headers=headers, **site
    )
    assert published.status_code == 200, published.status_code
    return {"POST /posts": created_statements, "POST /posts/{id}/publish": list(seen)}


for n in range(20):  # warm-up
    seen.clear()
    counted = pair(n)
pairs = int(sys.argv[2])
spent[0] = 0.0
wall, cpu = time.perf_counter(), time.process_time()
for n in range(pairs):
    seen.clear()
    pair(20 + n)
cpu_ms = (time.process_time() - cpu) * 1000 / pairs
wall_ms = (time.perf_counter() - wall) * 1000 / pairs
revision_ms = spent[0] * 1000 / pairs
print(json.dumps({"statements": counted, "cpu_ms": cpu_ms, "wall_ms": wall_ms,
                  "revision_ms": revision_ms}))
"""

PATCHES = """
import statistics
measured = {}
for edit, bodies in json.loads(open(sys.argv[2]).read()).items():
    post = {"title": f"Patched {run} {edit}", "body": bodies[0]}
    created = client.post("/api/v1/posts", json=post, headers=headers, **site)
    assert created.status_code == 201, created.status_code
    path = f"/api/v1/posts/{created.get_json()['id']}"
    walls, cpus, revisions = [], [], []
    for body in bodies[1:]:
        spent[0] = 0.0
        wall, cpu = time.perf_counter(), time.process_time()
        patched = client.patch(path, json={"body": body}, headers=headers, **site)
        assert patched.status_code == 200, patched.status_code
        cpus.append((time.process_time() - cpu) * 1000)
        walls.append((time.perf_counter() - wall) * 1000)
        revisions.append(spent[0] * 1000)
    measured[edit] = {"wall_ms": statistics.median(walls), "cpu_ms": statistics.median(cpus),
                      "revision_ms": statistics.median(revisions)}
print(json.dumps(measured))
"""


def in_process(tree: Path, env: dict[str, str], pairs: int) -> dict[str, Any]:
    """Create + publish pairs through the app in one process with `tree`'s code (no HTTP, no
    other clients): the SQL statements of one pair, and CPU and wall ms per pair (and the CPU
    ms record_revision takes, where it exists)."""
    measured: dict[str, Any] = python_in(tree, env, SETUP + PAIRS, PASSWORD, str(pairs))
    return measured


def edit_sequences(args: argparse.Namespace) -> dict[str, list[str]]:
    """For each edit kind, a long post's body and then `--patches` edited versions of it."""
    sequences = {}
    for edit in ("small", "large"):
        writer = Writer("prose", seed=args.length + len(edit))
        bodies = [writer.body(args.length)]
        for _ in range(args.patches):
            last = bodies[-1]
            bodies.append(writer.small_edit(last) if edit == "small" else writer.large_edit(last))
        sequences[edit] = bodies
    return sequences


@dataclass
class PatchResult:
    """PATCHes of a long post, in-process, on the base code and on this tree."""

    database: str
    # per side, one entry per round: per edit kind, median wall, CPU and record_revision ms
    rounds: dict[str, list[dict[str, dict[str, float]]]] = field(default_factory=dict)


def both_sides(
    args: argparse.Namespace,
    kind: str,
    workdir: Path,
    tree: Path,
    stack: ExitStack,
    name: str,
    posts: int,
) -> dict[str, dict[str, str]]:
    """A new database for each side (the base code, this tree), migrated and seeded with
    `posts` by that side's own code; each side's server environment."""
    urls = {}
    for side in ("base", "new"):
        urls[side] = new_database(
            kind, workdir, f"history_{name}_{side}", args.postgres_admin_url, BENCH
        )
        if kind != "sqlite":
            stack.callback(drop_database, urls[side], args.postgres_admin_url)
    return {
        "base": prepare_in(tree, workdir, posts, urls["base"]),
        "new": prepare_database(workdir, posts, urls["new"]),
    }


def measure_patches(
    args: argparse.Namespace, kind: str, workdir: Path, tree: Path, stack: ExitStack
) -> PatchResult:
    """The same PATCHes of a long post on the base code and on this tree, in-process,
    alternating rounds: what recording a revision adds to a save."""
    envs = both_sides(args, kind, workdir, tree, stack, "patch", 0)
    bodies = workdir / "bodies.json"
    bodies.write_text(json.dumps(edit_sequences(args)))
    trees = {"base": tree, "new": ROOT}
    result = PatchResult(kind, {"base": [], "new": []})
    for round_no in range(args.rounds):
        for side in ("base", "new") if round_no % 2 == 0 else ("new", "base"):
            measured = python_in(trees[side], envs[side], SETUP + PATCHES, PASSWORD, str(bodies))
            result.rounds[side].append(measured)
            print(f"{kind} PATCH {side}: {measured}", flush=True)
    return result


def serves_history(server: LiveServer) -> bool:
    """Whether the server's code has revisions and the trash (its OpenAPI document says)."""
    paths = requests.get(f"{server.api}/openapi.json", timeout=30).json()["paths"]
    return any(path.endswith("/trash") for path in paths)


def measure_writes(
    args: argparse.Namespace, kind: str, workdir: Path, tree: Path, stack: ExitStack
) -> WriteResult:
    """Alternate create + publish rounds between the base code and this tree."""
    envs = both_sides(args, kind, workdir, tree, stack, "writes", args.posts)
    result = WriteResult(kind, {"base": [], "new": []})
    with (
        LiveServer(envs["base"], workers=args.workers, log_path=workdir / "base.log") as base,
        LiveServer(envs["new"], workers=args.workers, log_path=workdir / "new.log") as new,
    ):
        servers = {"base": base, "new": new}
        if not serves_history(new) or (
            not (tree / "blogapi" / "posts" / "history").exists() and serves_history(base)
        ):
            raise RuntimeError("a server is not running the code it should")
        tokens = {side: login(server.api) for side, server in servers.items()}
        for round_no in range(args.rounds):
            order = ("base", "new") if round_no % 2 == 0 else ("new", "base")
            for side in order:
                rate = create_and_publish_rate(
                    servers[side].api, tokens[side], args.seconds, args.clients
                )
                result.rounds[side].append(rate)
                result.load.append(os.getloadavg()[0])
                print(
                    f"{kind} round {round_no + 1} {side}: {rate['pairs_per_second']:.1f} "
                    f"pairs/s, p50 {rate['p50_ms']:.1f} ms, failures {rate['failures']}",
                    flush=True,
                )
    trees = {"base": tree, "new": ROOT}
    for round_no in range(args.rounds):  # servers stopped: one process at a time
        for side in ("base", "new") if round_no % 2 == 0 else ("new", "base"):
            measured = in_process(trees[side], envs[side], args.in_process_pairs)
            result.statements[side] = measured.pop("statements")
            result.in_process.setdefault(side, []).append(measured)
            print(f"{kind} in-process {side}: {measured}", flush=True)
    return result


# --- the report ------------------------------------------------------------------------------


def shape(sql: str) -> str:
    """A statement's kind and table: `SELECT posts`, `INSERT post_revisions`, `SAVEPOINT`."""
    words = sql.replace("(", " ").split()
    verb = words[0].upper()
    upper = [w.upper() for w in words]
    if verb in ("SELECT", "DELETE") and "FROM" in upper:
        return f"{verb} {words[upper.index('FROM') + 1]}"
    if verb in ("INSERT", "UPDATE"):
        return f"{verb} {words[2] if verb == 'INSERT' else words[1]}"
    return " ".join(w for w in words[:3] if not w.startswith("sa_savepoint"))


def _kb(n: float) -> str:
    return f"{n / 1000:,.1f} kB" if n < 1_000_000 else f"{n / 1_000_000:,.2f} MB"


def median_of(rounds: list[dict[str, Any]], key: str) -> float:
    """The median of one figure over rounds."""
    return statistics.median(r[key] for r in rounds) if rounds else 0.0


def ratio(result: WriteResult) -> float:
    """This tree's median pairs/s over the base code's."""
    base = median_of(result.rounds["base"], "pairs_per_second")
    return median_of(result.rounds["new"], "pairs_per_second") / base if base else 0.0


def report(args: argparse.Namespace, results: Results) -> str:
    """The Markdown report: storage per revision and write throughput."""
    storage, writes, load = results.storage, results.writes, results.load
    lines = [
        "# History benchmark (issue 14)",
        "",
        f"Machine: {machine()}. gunicorn {args.workers} sync workers, production config, "
        f"loopback. Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        "",
        f"Command: `{' '.join(['python -m bench.history', *sys.argv[1:]])}`",
        "",
        "Load (`uptime`): " + "; ".join(f"{k}: {v}" for k, v in load.items()),
        "",
    ]
    if storage:
        lines += [
            "## Storage per revision",
            "",
            f"Each post is created, then edited {args.edits} times by PATCH (body only); "
            "REVISIONS_KEEP is the default (100), so the oldest revision is pruned at the end. "
            "`body`: the stored bodies (`length(body_data)`); `row`: body plus title, slug, "
            f"summary, tags and {FIXED_ROW_BYTES} bytes for the integers and the timestamp; "
            "`on disk`: growth of post_revisions with its indexes while the case ran "
            "(SQLite: dbstat pages; PostgreSQL: pg_total_relation_size, heap + TOAST + "
            "indexes, before any vacuum). `naive`: every revision's body whole, uncompressed. "
            f"Read timings: median of {READS}, client-side, including the 200 kB JSON "
            "transfer; `GET rev`: the oldest revision kept (body and body_html); `diff`: the "
            "next against it; `far diff`: the newest against the oldest.",
            "",
            "| database | text | body chars | edit | revisions (keyframes) | body B/rev "
            "| row B/rev | on disk | naive | PATCH p50 ms | PATCH max ms | GET rev ms "
            "| diff ms | far diff ms |",
            "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in storage:
            s = r.stored
            lines.append(
                f"| {r.database} | {r.case.text} | {r.case.length:,} | {r.case.edit} "
                f"| {s.rows} ({s.keyframes}) | {s.body_bytes / s.rows:,.0f} "
                f"| {s.row_bytes / s.rows:,.0f} | {_kb(r.disk_growth)} "
                f"| {_kb(r.case.length * s.rows)} | {statistics.median(r.patch_ms):.0f} "
                f"| {max(r.patch_ms):.0f} | {r.read_ms:.0f} | {r.diff_ms:.0f} "
                f"| {r.far_diff_ms:.0f} |"
            )
        lines.append("")
    if writes:
        lines += [
            "## Write throughput: `POST /posts` + publish",
            "",
            f"{args.clients} client threads, {args.seconds}s per round, {args.rounds} rounds "
            f"per side alternating (base first in odd rounds); each side on its own database "
            f"seeded with {args.posts:,} posts by its own code. `base`: {args.base_commit} "
            "(before revisions), served from its own worktree by the same venv. Goal: this "
            "tree's median at least 0.90 of the base's.",
            "",
            "| database | base pairs/s (rounds) | new pairs/s (rounds) | ratio (medians) "
            "| goal | p50 ms base / new | p99 ms base / new | failures | load avg |",
            "|---|---|---|---:|---|---|---|---:|---:|",
        ]
        for w in writes:
            base, new = w.rounds["base"], w.rounds["new"]
            value = ratio(w)

            def each(rounds: list[dict[str, Any]]) -> str:
                return ", ".join(f"{r['pairs_per_second']:.1f}" for r in rounds)

            lines.append(
                f"| {w.database} | {median_of(base, 'pairs_per_second'):.1f} ({each(base)}) "
                f"| {median_of(new, 'pairs_per_second'):.1f} ({each(new)}) | {value:.2f} "
                f"| ≥ 0.90 ({'met' if value >= 0.9 else 'not met'}) "
                f"| {median_of(base, 'p50_ms'):.1f} / {median_of(new, 'p50_ms'):.1f} "
                f"| {median_of(base, 'p99_ms'):.1f} / {median_of(new, 'p99_ms'):.1f} "
                f"| {sum(r['failures'] for r in base + new)} "
                f"| {statistics.median(w.load) if w.load else 0:.1f} |"
            )
        lines += [
            "",
            f"In-process: {args.in_process_pairs} pairs through the app's test client in one "
            "process, no HTTP and no other client (servers stopped), on the same databases, "
            f"after 20 warm-up pairs; {args.rounds} alternating rounds per side, medians. CPU "
            "time is what the code costs, and varies much less with the machine's load than "
            "pairs/s do; `record_revision`: its share of the new side's CPU.",
            "",
            "| database | base CPU ms/pair (rounds) | new CPU ms/pair (rounds) | new / base "
            "| record_revision CPU ms/pair | wall ms/pair base / new |",
            "|---|---|---|---:|---:|---|",
        ]
        for w in writes:
            base_runs, new_runs = w.in_process.get("base", []), w.in_process.get("new", [])
            if not base_runs or not new_runs:
                continue
            base_cpu = statistics.median(r["cpu_ms"] for r in base_runs)
            new_cpu = statistics.median(r["cpu_ms"] for r in new_runs)
            each_base = ", ".join(f"{r['cpu_ms']:.2f}" for r in base_runs)
            each_new = ", ".join(f"{r['cpu_ms']:.2f}" for r in new_runs)
            lines.append(
                f"| {w.database} | {base_cpu:.2f} ({each_base}) | {new_cpu:.2f} ({each_new}) "
                f"| {new_cpu / base_cpu:.2f} "
                f"| {statistics.median(r['revision_ms'] for r in new_runs):.2f} "
                f"| {statistics.median(r['wall_ms'] for r in base_runs):.1f} / "
                f"{statistics.median(r['wall_ms'] for r in new_runs):.1f} |"
            )
        lines += ["", "SQL statements per request (in-process, after the warm-up pairs):", ""]
        for w in writes:
            for name in w.statements.get("new", {}):
                old = Counter(map(shape, w.statements["base"].get(name, [])))
                mine = Counter(map(shape, w.statements["new"][name]))
                more = "; ".join(f"`{k}` +{n}" for k, n in (mine - old).items())
                fewer = "; ".join(f"`{k}` -{n}" for k, n in (old - mine).items())
                changes = "; ".join(x for x in (more, fewer) if x)
                lines.append(
                    f"- {w.database} `{name}`: base {old.total()}, new {mine.total()}"
                    + (f" ({changes})" if changes else "")
                )
        lines.append("")
    if results.patches:
        lines += [
            "## PATCH of the long post: base code against this tree",
            "",
            f"In-process (the app's test client, one process, no HTTP): the same {args.patches} "
            f"PATCHes of a {args.length:,}-character prose body (small edits: one sentence; "
            "large: half the paragraphs) on each side's own new database, "
            f"{args.rounds} alternating rounds, medians of the per-PATCH medians. "
            "`record_revision`: the CPU it takes inside the new side's PATCH.",
            "",
            "| database | edit | base CPU ms | new CPU ms | new / base | record_revision CPU ms "
            "| wall ms base / new |",
            "|---|---|---:|---:|---:|---:|---|",
        ]
        for patch in results.patches:
            for edit in ("small", "large"):

                def figure(side: str, key: str, p: PatchResult = patch, e: str = edit) -> float:
                    return statistics.median(r[e][key] for r in p.rounds[side])

                base_cpu, new_cpu = figure("base", "cpu_ms"), figure("new", "cpu_ms")
                lines.append(
                    f"| {patch.database} | {edit} | {base_cpu:.1f} | {new_cpu:.1f} "
                    f"| {new_cpu / base_cpu:.2f} | {figure('new', 'revision_ms'):.1f} "
                    f"| {figure('base', 'wall_ms'):.1f} / {figure('new', 'wall_ms'):.1f} |"
                )
        lines.append("")
    return "\n".join(lines)


def uptime() -> str:
    """`uptime`'s load averages."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""

    def listed(s: str) -> list[str]:
        return [x for x in s.split(",") if x]

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--databases", type=listed, default=["sqlite", "postgresql"])
    parser.add_argument("--parts", type=listed, default=["storage", "writes", "patch"])
    parser.add_argument("--texts", type=listed, default=["prose", "seed"])
    parser.add_argument("--length", type=int, default=BODY_MAX, help="the long post's body")
    parser.add_argument("--small-length", type=int, default=2000, help="the short post's body")
    parser.add_argument("--edits", type=int, default=100, help="PATCHes per post")
    parser.add_argument(
        "--patches", type=int, default=30, help="in-process PATCHes per edit kind and round"
    )
    parser.add_argument("--posts", type=int, default=10_000, help="seeded for the write rounds")
    parser.add_argument("--rounds", type=int, default=3, help="write rounds per side")
    parser.add_argument("--seconds", type=float, default=10, help="length of each write round")
    parser.add_argument("--clients", type=int, default=4, help="client threads writing")
    parser.add_argument(
        "--in-process-pairs", type=int, default=300, help="pairs per in-process round"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--base-commit", default=BASE_COMMIT)
    parser.add_argument(
        "--base-tree", type=Path, help="a checkout of the base code (default: a new worktree)"
    )
    parser.add_argument("--postgres-admin-url", default=os.environ.get("TEST_PG_ADMIN_URL"))
    parser.add_argument("--output", type=Path, default=RESULTS / "history.md")
    return parser.parse_args(argv)


@dataclass
class Results:
    """Everything one run measured."""

    storage: list[StorageResult] = field(default_factory=list)
    writes: list[WriteResult] = field(default_factory=list)
    patches: list[PatchResult] = field(default_factory=list)
    load: dict[str, str] = field(default_factory=dict)  # `uptime`'s load averages, when


def run(args: argparse.Namespace) -> Results:
    """Measure storage and write throughput on each database, writing the report after each."""
    results = Results(load={"start": uptime()})
    with (
        tempfile.TemporaryDirectory(prefix="blogapi-history-bench-") as tmp,
        ExitStack() as stack,
    ):
        workdir = Path(tmp)
        compared = {"writes", "patch"} & set(args.parts)
        tree = stack.enter_context(base_tree(args, workdir)) if compared else ROOT
        for kind in args.databases:
            if "storage" in args.parts:
                results.storage += measure_storage(args, kind, workdir, stack)
                results.load[f"after {kind} storage"] = uptime()
            if "writes" in args.parts:
                results.writes.append(measure_writes(args, kind, workdir, tree, stack))
                results.load[f"after {kind} writes"] = uptime()
            if "patch" in args.parts:
                results.patches.append(measure_patches(args, kind, workdir, tree, stack))
                results.load[f"after {kind} patches"] = uptime()
            args.output.write_text(report(args, results))  # after each, in case of a stop
    return results


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; write the report."""
    args = parse_args(argv)
    run(args)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
