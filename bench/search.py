"""Search benchmark: ranked full-text search at 100,000 and 1,000,000 posts on both databases,
against bare Flask measured in the same run.

    python -m devtools.with_server postgres -- python -m bench.search            # both DBs
    python -m bench.search --databases sqlite --sizes 100000 --seconds 5 --rounds 1
See bench/README.md ("Search").

The posts come from a fast bulk loader (not `manage.py seed`): a Zipf-distributed vocabulary of
real English function words and 200,000 made-up content words, plus recurring two-word
collocations, so that rare terms (tens of posts), common terms (1-5% of posts) and phrases occur.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests
from sqlalchemy import create_engine, make_url, text

from bench.databases import drop_database, new_database
from bench.run import bare_and_blogapi, manage
from bench.wrk import WrkResult, add_wrk_options, run_wrk
from blogapi.backup.seed import STATUS_WEIGHTS, TAG_COUNT_WEIGHTS, timeline
from blogapi.posts.search import schema
from blogapi.posts.search.document import plain_text, tag_text
from blogapi.posts.search.language import ENGLISH_STOP_WORDS
from blogapi.security.roles import at_least
from devtools.live import ROOT, migrate, production_env

RESULTS = ROOT / "bench" / "results"
LANGUAGE = "english"
# The most frequent words of English text, most frequent first: they head the Zipf ranking, as
# in real prose (most are stop words, which PostgreSQL drops and FTS5 indexes).
_FUNCTION_WORDS = (
    "the of and to a in is that for it as was with be by on not he this are or his from at "
    "which but have an they you were her she there been one all we their has would when if so "
    "no will more can about what up out them into only some could time than other then its "
    "also new two may these first any like now over such our even most after well very"
)
FUNCTION_WORDS = _FUNCTION_WORDS.split()
ONSETS = ("b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w",
          "z", "br", "dr", "gr", "kl", "pl", "st", "tr", "sk", "ch", "sh", "th")  # fmt: skip
VOWELS = ("a", "e", "i", "o", "u", "a", "e", "i", "o", "u", "ai", "ou", "ea")
# Final consonants: no made-up word ends in -s, -e, -y, -ing or -ly, and endings the English
# stemmer strips (-ed, -er, -al) are skipped, so that each word is its own stem and its document
# frequency is the one planned.
CODAS = ("n", "r", "k", "t", "m", "l", "p", "d", "g", "x", "z", "v")
STEMMED_ENDINGS = ("ed", "er", "al")
ZIPF_EXPONENT = 1.0
CONTENT_WORDS = 200_000
COLLOCATIONS = 3_000
TOKENS_PER_POST = 175  # about: title 6, summary 17, body 150 (+ ~5 collocations)


class Vocabulary:
    """Words ranked by frequency, drawn with Zipf weights (rank r has weight 1 / r**s)."""

    def __init__(self, seed: int = 1, content_words: int = CONTENT_WORDS) -> None:
        """The same seed gives the same words in the same order."""
        rng = random.Random(seed)
        taken = set(FUNCTION_WORDS) | set(ENGLISH_STOP_WORDS)
        words = list(FUNCTION_WORDS)
        while len(words) < len(FUNCTION_WORDS) + content_words:
            syllables = rng.choice((1, 2, 2, 2, 3, 3))
            word = "".join(rng.choice(ONSETS) + rng.choice(VOWELS) for _ in range(syllables))
            word += rng.choice(CODAS)
            if word not in taken and not word.endswith(STEMMED_ENDINGS):
                taken.add(word)
                words.append(word)
        self.words = words
        weights = [1 / rank**ZIPF_EXPONENT for rank in range(1, len(words) + 1)]
        self.total = sum(weights)
        self.probability = [w / self.total for w in weights]
        self.cumulative = list(_accumulate(weights))
        # Collocations: pairs of mid-frequency content words that recur together ("connection
        # pool"), themselves Zipf-distributed, so phrase queries have something to find.
        start = len(FUNCTION_WORDS) + 100
        self.pairs = [
            (words[rng.randrange(start, start + 5000)], words[rng.randrange(start, start + 5000)])
            for _ in range(COLLOCATIONS)
        ]
        pair_weights = [1 / rank for rank in range(1, COLLOCATIONS + 1)]
        self.pair_total = sum(pair_weights)
        self.pair_cumulative = list(_accumulate(pair_weights))

    def draw(self, rng: random.Random, count: int) -> list[str]:
        """`count` words drawn independently by frequency."""
        return rng.choices(self.words, cum_weights=self.cumulative, k=count)

    def draw_pairs(self, rng: random.Random, count: int) -> list[tuple[str, str]]:
        """`count` collocations drawn by frequency."""
        return rng.choices(self.pairs, cum_weights=self.pair_cumulative, k=count)

    def expected_share(self, rank: int, tokens: int = TOKENS_PER_POST) -> float:
        """The expected share of posts holding the word of this rank (0-based)."""
        return 1 - (1 - self.probability[rank]) ** tokens

    def ranks_with_share(self, low: float, high: float) -> list[int]:
        """Content-word ranks whose expected share of posts lies in [low, high]."""
        start = len(FUNCTION_WORDS)
        return [r for r in range(start, len(self.words)) if low <= self.expected_share(r) <= high]

    def pair_share(self, index: int, pairs_per_post: float = 5.0) -> float:
        """The expected share of posts holding collocation `index` as a phrase."""
        q = (1 / (index + 1)) / self.pair_total
        return 1 - (1 - q) ** pairs_per_post


def _accumulate(values: list[float]) -> Iterator[float]:
    running = 0.0
    for value in values:
        running += value
        yield running


def _sentences(rng: random.Random, words: list[str]) -> str:
    """Words as sentences of 6 to 16 words, capitalized, with full stops."""
    out, i = [], 0
    while i < len(words):
        n = rng.randint(6, 16)
        sentence = words[i : i + n]
        i += n
        joined = " ".join(sentence)
        out.append(joined[0].upper() + joined[1:] + ".")
    return " ".join(out)


@dataclass
class Writers:
    """Who may write the posts: ids of users allowed to publish, and of everyone."""

    publishers: list[int]
    everyone: list[int]
    tags: list[tuple[int, str]]  # (id, name)


@dataclass
class GeneratedPost:
    """One post's row and its tag links."""

    row: tuple[Any, ...]
    tags: list[tuple[int, str]]


POST_COLUMNS = (
    "id", "slug", "title", "summary", "body", "body_html", "body_text", "tag_names",
    "author_id", "created_at", "updated_at", "published_at", "version",
)  # fmt: skip


def generate_posts(
    vocabulary: Vocabulary,
    writers: Writers,
    count: int,
    first_id: int,
    *,
    seed: int = 1,
    now: datetime | None = None,
) -> Iterator[GeneratedPost]:
    """`count` posts with ids from first_id, one at a time (memory stays flat)."""
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    statuses, weights = list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values())
    for post_id in range(first_id, first_id + count):
        title_words = vocabulary.draw(rng, rng.randint(4, 9))
        title = " ".join(title_words).capitalize()
        summary = _sentences(rng, vocabulary.draw(rng, rng.randint(10, 25)))
        body_words = vocabulary.draw(rng, rng.randint(90, 210))
        for a, b in vocabulary.draw_pairs(rng, rng.randint(2, 8)):
            at = rng.randrange(len(body_words) + 1)
            body_words[at:at] = [a, b]
        paragraphs, i = [], 0
        while i < len(body_words):
            n = rng.randint(20, 60)
            paragraphs.append(_sentences(rng, body_words[i : i + n]))
            i += n
        body = "\n\n".join(paragraphs)
        body_html = "".join(f"<p>{p}</p>\n" for p in paragraphs)
        status = rng.choices(statuses, weights)[0]
        author = rng.choice(writers.everyone if status == "draft" else writers.publishers)
        created, updated, published = timeline(rng, now, status)
        chosen = rng.sample(writers.tags, rng.choices(range(5), TAG_COUNT_WEIGHTS)[0])
        slug = "-".join(title_words[:5])[:60] + f"-{post_id}"
        row = (
            post_id, slug, title, summary, body, body_html, plain_text(body_html),
            tag_text(name for _id, name in chosen), author,
            _naive(created), _naive(updated), _naive(published) if published else None, 1,
        )  # fmt: skip
        yield GeneratedPost(row, chosen)


def _naive(moment: datetime) -> datetime:
    """UTC without tzinfo, as UTCDateTime stores it."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def read_writers(url: str) -> tuple[Writers, int]:
    """The users and tags already in the database (seeded first), and the next free post id."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            users = conn.execute(text("SELECT id, role FROM users WHERE active")).all()
            tags = conn.execute(text("SELECT id, name FROM tags ORDER BY id")).all()
            last = conn.execute(text("SELECT coalesce(max(id), 0) FROM posts")).scalar_one()
    finally:
        engine.dispose()
    publishers = [u.id for u in users if at_least(u.role, "author")]
    if not publishers:
        raise RuntimeError("seed users (at least one author) and tags before loading posts")
    return Writers(publishers, [u.id for u in users], [(t.id, t.name) for t in tags]), last + 1


def load_posts(url: str, count: int, *, seed: int = 1, batch: int = 20_000) -> int:
    """Bulk-insert `count` generated posts and their tag links; returns how many."""
    writers, first_id = read_writers(url)
    vocabulary = Vocabulary(seed)
    posts = generate_posts(vocabulary, writers, count, first_id, seed=seed)
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        _load_postgres(parsed.set(drivername="postgresql"), posts, batch)
    else:
        _load_sqlite(parsed.database or "", posts, batch)
    return count


def _batches(posts: Iterator[GeneratedPost], size: int) -> Iterator[list[GeneratedPost]]:
    chunk: list[GeneratedPost] = []
    for post in posts:
        chunk.append(post)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _load_postgres(url: Any, posts: Iterator[GeneratedPost], batch: int) -> None:
    """COPY, batch by batch, in one transaction; then move the id sequence past the new ids."""
    import psycopg

    columns = ", ".join(POST_COLUMNS)
    with psycopg.connect(url.render_as_string(hide_password=False)) as conn:
        for chunk in _batches(posts, batch):
            with conn.cursor().copy(f"COPY posts ({columns}) FROM STDIN") as copy:
                for post in chunk:
                    copy.write_row(post.row)
            with conn.cursor().copy("COPY post_tags (post_id, tag_id, name) FROM STDIN") as copy:
                for post in chunk:
                    for tag_id, name in post.tags:
                        copy.write_row((post.row[0], tag_id, name))
        conn.execute("SELECT setval(pg_get_serial_sequence('posts', 'id'), max(id)) FROM posts")
        conn.commit()


def _load_sqlite(path: str, posts: Iterator[GeneratedPost], batch: int) -> None:
    """executemany, batch by batch, in one transaction."""
    conn = sqlite3.connect(path)
    marks = ", ".join("?" for _ in POST_COLUMNS)
    stamp = "%Y-%m-%d %H:%M:%S.%f"  # SQLAlchemy's SQLite DateTime format (string comparisons)
    try:
        for chunk in _batches(posts, batch):
            rows = [
                tuple(v.strftime(stamp) if isinstance(v, datetime) else v for v in post.row)
                for post in chunk
            ]
            conn.executemany(
                f"INSERT INTO posts ({', '.join(POST_COLUMNS)}) VALUES ({marks})", rows
            )
            links = [(p.row[0], tag_id, name) for p in chunk for tag_id, name in p.tags]
            conn.executemany(
                "INSERT INTO post_tags (post_id, tag_id, name) VALUES (?, ?, ?)", links
            )
        conn.commit()
    finally:
        conn.close()


# --- the queries --------------------------------------------------------------------------


@dataclass
class QueryKinds:
    """Search-box texts of each kind, rotated through by wrk."""

    kinds: dict[str, list[str]]


def choose_queries(vocabulary: Vocabulary, posts: int, seed: int = 1) -> QueryKinds:
    """Rare terms (expected in 10-100 posts), common ones (1-5% of posts), phrases that occur
    (collocations in ~1% of posts) and a common term minus another common term."""
    rng = random.Random(seed)
    rare = vocabulary.ranks_with_share(20 / posts, 80 / posts)
    common = vocabulary.ranks_with_share(0.01, 0.05)
    phrases = [i for i in range(COLLOCATIONS) if 0.005 <= vocabulary.pair_share(i) <= 0.02]
    words = vocabulary.words

    def some(ranks: list[int], n: int) -> list[str]:
        return [words[r] for r in rng.sample(ranks, min(n, len(ranks)))]

    common_words = some(common, 40)
    return QueryKinds(
        {
            "rare term": some(rare, 500),
            "common term": common_words[:20],
            "phrase": [
                '"{} {}"'.format(*vocabulary.pairs[i])
                for i in rng.sample(phrases, min(20, len(phrases)))
            ],
            "exclusion": [
                f"{a} -{b}" for a, b in zip(common_words[:20], common_words[20:], strict=True)
            ],
        }
    )


def search_path(q: str) -> str:
    """The API path searching for q, one page of 20."""
    return f"/api/v1/posts?per_page=20&q={quote(q)}"


def rotation_script(paths: list[str], path: Path) -> Path:
    """A wrk Lua script sending these paths in turn, each with a unique ignored parameter so
    that no request is answered by the public response cache (as bench/uncached.lua)."""
    listed = ",\n".join(json.dumps(p) for p in paths)
    path.write_text(
        "paths = {\n" + listed + "\n}\n"
        "counter = 0\n"
        "request = function()\n"
        "  counter = counter + 1\n"
        "  local p = paths[(counter % #paths) + 1]\n"
        '  return wrk.format(nil, p .. "&miss=" .. counter .. "-" .. math.random(1, 1000000000))\n'
        "end\n"
    )
    return path


def totals(api: str, queries: list[str]) -> list[int]:
    """How many posts (published, as an anonymous reader sees) each query finds."""
    found = []
    for q in queries:
        response = requests.get(f"{api}/posts", params={"q": q, "per_page": 1}, timeout=60)
        response.raise_for_status()
        found.append(response.json()["meta"]["total"])
    return found


# --- sizes and timings ----------------------------------------------------------------------


def index_size(url: str) -> dict[str, int]:
    """Bytes the search index takes: PostgreSQL's GIN index and tsvector column; SQLite's FTS5
    shadow tables (dbstat)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                return {
                    "GIN index ix_posts_search": conn.execute(
                        text("SELECT pg_relation_size('ix_posts_search')")
                    ).scalar_one(),
                    "search_vector column": conn.execute(
                        text("SELECT sum(pg_column_size(search_vector)) FROM posts")
                    ).scalar_one(),
                    "posts table (heap + TOAST)": conn.execute(
                        text("SELECT pg_table_size('posts')")
                    ).scalar_one(),
                }
            rows = conn.execute(
                text(
                    "SELECT name, sum(pgsize) FROM dbstat WHERE name LIKE 'posts_fts%' "
                    "GROUP BY name ORDER BY name"
                )
            ).all()
            sizes = {f"FTS5 {name}": int(size) for name, size in rows}
            sizes["FTS5 total"] = sum(sizes.values())
            (posts,) = conn.execute(
                text("SELECT sum(pgsize) FROM dbstat WHERE name = 'posts'")
            ).one()
            sizes["posts table"] = int(posts)
            return sizes
    finally:
        engine.dispose()


def timed_schema(url: str, action: str) -> float:
    """Seconds to run schema.rebuild / install / uninstall in one transaction."""
    engine = create_engine(url)
    try:
        started = time.perf_counter()
        with engine.begin() as conn:
            if action == "rebuild":
                schema.rebuild(conn, LANGUAGE)
            elif action == "install":
                schema.install(conn, LANGUAGE)
            else:
                schema.uninstall(conn)
        return time.perf_counter() - started
    finally:
        engine.dispose()


def settle(url: str) -> float:
    """What autovacuum would do after a bulk load: VACUUM ANALYZE (PostgreSQL), ANALYZE
    (SQLite); returns the seconds taken."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        started = time.perf_counter()
        with engine.connect() as conn:
            conn.execute(
                text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE")
            )
        return time.perf_counter() - started
    finally:
        engine.dispose()


# --- one database at one size --------------------------------------------------------------


@dataclass
class SizeResult:
    """Everything measured for one database at one size."""

    database: str
    posts: int
    seed_seconds: float
    index_build_seconds: float
    reindex_seconds: float
    settle_seconds: float
    index_bytes: dict[str, int]
    # per request kind and round: bare Flask, blogapi under load, blogapi with as many connections
    # as workers
    runs: dict[str, list[tuple[WrkResult, WrkResult, WrkResult]]] = field(default_factory=dict)
    matches: dict[str, list[int]] = field(default_factory=dict)
    # the machine's 1-minute load average after each blogapi run: above the core count, something
    # else was competing for the CPU and the numbers are low
    load: dict[str, list[float]] = field(default_factory=dict)


def prepare(
    args: argparse.Namespace, kind: str, posts: int, workdir: Path
) -> tuple[str, SizeResult]:
    """Migrate, seed users and tags, bulk-load the posts, build and rebuild the index."""
    url = new_database(
        kind, workdir, f"search_bench_{posts}", args.postgres_admin_url, "bench.search"
    )
    env = production_env(url)
    migrate(env)
    manage(env, "seed", "--users", "50", "--posts", "0", "--seed", str(args.seed))
    if not args.index_during_load:
        timed_schema(url, "uninstall")
    started = time.perf_counter()
    load_posts(url, posts, seed=args.seed)
    seeded = time.perf_counter() - started
    built = 0.0 if args.index_during_load else timed_schema(url, "install")
    print(f"{kind} {posts:,}: loaded in {seeded:.1f}s, index built in {built:.1f}s", flush=True)
    reindex = timed_schema(url, "rebuild")
    settled = settle(url)
    print(f"{kind} {posts:,}: reindex {reindex:.1f}s, settle {settled:.1f}s", flush=True)
    result = SizeResult(kind, posts, seeded, built, reindex, settled, index_size(url))
    return url, result


def measure(args: argparse.Namespace, url: str, result: SizeResult, workdir: Path) -> None:
    """Alternate wrk runs, `rounds` times: for each query kind bare Flask, then blogapi under
    the same load, then blogapi with as many connections as workers (little queueing)."""
    env = production_env(url)
    queries = choose_queries(Vocabulary(args.seed), result.posts, args.seed).kinds
    scripts = {
        kind: rotation_script(
            [search_path(q) for q in texts], workdir / f"{kind.replace(' ', '-')}.lua"
        )
        for kind, texts in queries.items()
    }
    wrk = dict(seconds=args.seconds, connections=args.connections, threads=args.threads)
    quiet = dict(wrk, connections=args.workers, threads=min(args.threads, args.workers))
    with bare_and_blogapi(env, args.workers, workdir) as (bare, ours):
        for kind, texts in queries.items():
            result.matches[kind] = totals(ours.api, texts)
        cached = search_path(queries["rare term"][0])
        plan: dict[str, tuple[str, Path | None]] = {
            f"{kind} (uncached)": (ours.url + "/", scripts[kind]) for kind in queries
        }
        plan["rare term (cached: same URL)"] = (ours.url + cached, None)
        for round_no in range(args.rounds):
            for name, (target, script) in plan.items():
                base = run_wrk(f"{bare.url}/", **wrk)
                mine = run_wrk(target, script=script, **wrk)
                alone = run_wrk(target, script=script, **quiet)
                result.runs.setdefault(name, []).append((base, mine, alone))
                result.load.setdefault(name, []).append(os.getloadavg()[0])
                print(
                    f"{result.database} {result.posts:,} round {round_no + 1} {name}: "
                    f"{mine.requests_per_second:.0f}/s p50 {mine.p50_ms:.1f} p99 "
                    f"{mine.p99_ms:.1f} ms (bare {base.requests_per_second:.0f}/s); "
                    f"{args.workers} connections: p50 {alone.p50_ms:.1f} p99 {alone.p99_ms:.1f}",
                    flush=True,
                )


# --- the report ----------------------------------------------------------------------------


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def _mb(n: int | None) -> str:
    return f"{(n or 0) / 1048576:,.1f} MB"


def machine() -> str:
    """A line describing this machine."""
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = 0
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        memory = int(meminfo.read_text().split()[1]) // 1048576
    return f"{os.cpu_count()} cores ({cpu}), {memory} GiB, Python {platform.python_version()}"


def report(args: argparse.Namespace, results: list[SizeResult]) -> str:
    """The Markdown table of every run, with sizes and timings."""
    lines = [
        "# Search benchmark",
        "",
        f"Machine: {machine()}. gunicorn {args.workers} sync workers (production config) for "
        f"blogapi and bare Flask; wrk {args.threads} threads, {args.connections} connections, "
        f"{args.seconds}s per run, {args.rounds} alternating round(s), medians shown. "
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        "",
        f"Command: `{' '.join(['python -m bench.search', *sys.argv[1:]])}`",
        "",
        "`(uncached)`: wrk rotates through many queries of the kind, each request with a unique "
        "ignored parameter, so the public response cache never answers; the page's total is "
        "counted once per query and worker (the app's count cache), the page, its tags and the "
        "snippets every time. `(cached: same URL)`: one rare term over and over, answered from "
        "the response cache after one content-version read. `matches`: published posts found "
        "(min / median / max over the rotated queries).",
        "",
        f"Under load: {args.connections} connections, as for bare Flask. Alone: "
        f"{args.workers} connections, as many as workers, so little queueing (gunicorn does "
        "not promise one per worker).",
        "",
        "| database | posts | query kind | req/s | p50 ms | p99 ms | alone p50 ms "
        "| alone p99 ms | bare Flask req/s | ratio | matches | errors | load avg |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for r in results:
        for name, runs in r.runs.items():
            mine = [m for _b, m, _a in runs]
            base = [b for b, _m, _a in runs]
            alone = [a for _b, _m, a in runs]
            ratio = _median([m.requests_per_second / b.requests_per_second for b, m, _a in runs])
            kind = name.split(" (")[0]
            found = sorted(r.matches.get(kind, []))
            matched = f"{found[0]:,} / {_median(found):,.0f} / {found[-1]:,}" if found else ""
            lines.append(
                f"| {r.database} | {r.posts:,} | {name} "
                f"| {_median([m.requests_per_second for m in mine]):,.0f} "
                f"| {_median([m.p50_ms for m in mine]):.1f} "
                f"| {_median([m.p99_ms for m in mine]):.1f} "
                f"| {_median([a.p50_ms for a in alone]):.1f} "
                f"| {_median([a.p99_ms for a in alone]):.1f} "
                f"| {_median([b.requests_per_second for b in base]):,.0f} | {ratio:.2f} "
                f"| {matched} | {sum(m.errors + m.non_2xx for m in mine + alone)} "
                f"| {_median(r.load.get(name, [])):.1f} |"
            )
    lines += [
        "",
        "| database | posts | bulk load s | index build s | reindex s | VACUUM/ANALYZE s "
        "| index size |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        if not r.seed_seconds:  # measured again with --existing: loaded by an earlier run
            continue
        sizes = "; ".join(f"{k} {_mb(v)}" for k, v in r.index_bytes.items())
        build = "during load" if args.index_during_load else f"{r.index_build_seconds:.1f}"
        lines.append(
            f"| {r.database} | {r.posts:,} | {r.seed_seconds:.1f} | {build} "
            f"| {r.reindex_seconds:.1f} | {r.settle_seconds:.1f} | {sizes} |"
        )
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--sizes", type=lambda s: [int(x) for x in s.split(",") if x], default=[100_000, 1_000_000]
    )
    parser.add_argument(
        "--databases",
        type=lambda s: [x for x in s.split(",") if x],
        default=["sqlite", "postgresql"],
    )
    add_wrk_options(parser, rounds=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--index-during-load",
        action="store_true",
        help="keep the search index while loading (default: drop it, build it after)",
    )
    parser.add_argument("--postgres-admin-url", default=os.environ.get("TEST_PG_ADMIN_URL"))
    parser.add_argument(
        "--keep", type=Path, metavar="DIR", help="keep the databases (SQLite files go in DIR)"
    )
    parser.add_argument(
        "--existing",
        action="append",
        default=[],
        metavar="POSTS=URL",
        help="only measure a database this benchmark loaded before (kept with --keep), "
        "e.g. 1000000=postgresql+psycopg://…; repeatable; sizes and databases are then ignored",
    )
    parser.add_argument("--output", type=Path, default=RESULTS / "search.md")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Load, index and measure each database at each size; write the report."""
    args = parse_args(argv)
    subprocess.run([str(ROOT / "scripts" / "install-system-deps"), "--bench"], check=True)
    results: list[SizeResult] = []
    with tempfile.TemporaryDirectory(prefix="blogapi-search-bench-") as tmp:
        workdir = args.keep or Path(tmp)
        for existing in args.existing:
            posts, url = existing.split("=", 1)
            kind = make_url(url).get_backend_name()
            result = SizeResult(kind, int(posts), 0.0, 0.0, 0.0, 0.0, index_size(url))
            measure(args, url, result, workdir)
            results.append(result)
            args.output.write_text(report(args, results))
        for posts in [] if args.existing else args.sizes:
            for kind in args.databases:
                url, result = prepare(args, kind, posts, workdir)
                try:
                    measure(args, url, result, workdir)
                finally:
                    if not args.keep:
                        drop_database(url, args.postgres_admin_url)
                results.append(result)
                args.output.write_text(report(args, results))  # after each, in case of a stop
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
