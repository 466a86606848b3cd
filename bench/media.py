"""Media benchmark: 3 MP JPEG uploads through gunicorn (throughput, latency, worker memory as
uploads accumulate), and serving a cached variant against bare Flask serving the same file.

    python -m bench.media                   # 200 uploads, 3 rounds of 10 s wrk runs
See bench/README.md, "Media".
"""

from __future__ import annotations

import argparse
import io
import shutil
import statistics
import struct
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from PIL import Image

from bench.report import machine, row
from bench.run import PASSWORD, RESULTS, bare_and_blogapi, login, manage, worker_memory_mb
from bench.wrk import WrkResult, add_wrk_options, run_wrk
from devtools.live import ROOT, LiveServer, migrate, production_env

PHOTO_SIZE = (2048, 1536)
SERVED_WIDTH = 768
SERVING_GOAL = 0.6


def photo(size: tuple[int, int] = PHOTO_SIZE) -> bytes:
    """A photo-like JPEG (a colour gradient under grain, quality 90): about 1.2 MB at 3 MP,
    as a phone's photo; a plain gradient would compress to a tenth of that."""
    gradient = Image.linear_gradient("L").resize(size)
    flipped = gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    base = Image.merge("RGB", (gradient, gradient.rotate(90).resize(size), flipped))
    grain = Image.merge("RGB", [Image.effect_noise(size, 48) for _ in range(3)])
    out = io.BytesIO()
    Image.blend(base, grain, 0.3).save(out, "JPEG", quality=90)
    return out.getvalue()


def numbered(jpeg: bytes, number: int) -> bytes:
    """The JPEG with a comment segment naming `number` after its start marker: distinct bytes
    (an upload is deduplicated by its bytes) for the same pixels (the same work)."""
    comment = f"upload {number}".encode()
    return jpeg[:2] + b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment + jpeg[2:]


@dataclass
class Checkpoint:
    """The workers' memory after a number of uploads."""

    uploads: int
    peak_mb: list[float]
    rss_mb: list[float]


@dataclass
class Uploads:
    """What the upload phase measured."""

    photo_bytes: int
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    failures: list[int] = field(default_factory=list)
    media: list[dict[str, Any]] = field(default_factory=list)
    checkpoints: list[Checkpoint] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        """Uploads answered 201 per second of the phase."""
        return len(self.latencies_ms) / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        """A latency percentile in ms."""
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else 0.0


def memory(server: LiveServer, uploads: int) -> Checkpoint:
    """Each worker's peak and current resident size now."""
    return Checkpoint(uploads, worker_memory_mb(server, "VmHWM"), worker_memory_mb(server, "VmRSS"))


def upload_batch(api: str, token: str, jpeg: bytes, numbers: range, clients: int, out: Uploads):
    """Upload the numbered photos by `clients` threads, recording each latency or failure."""
    pending = list(numbers)
    lock = threading.Lock()
    headers = {"Authorization": f"Bearer {token}"}

    def client() -> None:
        session = requests.Session()
        while True:
            with lock:
                if not pending:
                    return
                number = pending.pop(0)
            files = {"file": (f"photo-{number}.jpg", numbered(jpeg, number), "image/jpeg")}
            start = time.perf_counter()
            reply = session.post(f"{api}/media", headers=headers, files=files, timeout=120)
            elapsed = (time.perf_counter() - start) * 1000
            with lock:
                if reply.status_code == 201:
                    out.latencies_ms.append(elapsed)
                    out.media.append(reply.json())
                else:
                    out.failures.append(reply.status_code)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.seconds += time.perf_counter() - started


def measure_uploads(args: argparse.Namespace, server: LiveServer) -> Uploads:
    """Upload distinct photos up to each checkpoint, reading the workers' memory at each."""
    jpeg = photo()
    token = login(server.api)
    result = Uploads(photo_bytes=len(jpeg))
    result.checkpoints.append(memory(server, 0))
    done = 0
    for target in args.checkpoints:
        upload_batch(server.api, token, jpeg, range(done, target), args.clients, result)
        done = target
        result.checkpoints.append(memory(server, done))
        print(f"{done} uploads: {result.per_second:.2f}/s, peak {result.checkpoints[-1].peak_mb}")
    return result


def served_file(media: dict[str, Any], media_root: Path) -> tuple[str, Path]:
    """The key and stored path of the media's SERVED_WIDTH variant (or its image)."""
    urls = [v["url"] for v in media["variants"] if v["width"] == SERVED_WIDTH] or [media["url"]]
    key = urls[0].rsplit("/", 1)[1]
    return key, media_root / key[:2] / key


def measure_serving(
    args: argparse.Namespace, bare: LiveServer, ours: LiveServer, key: str
) -> list[tuple[WrkResult, WrkResult]]:
    """Alternate bounded wrk runs: bare Flask's /file, then blogapi's /media/<key>."""
    ours_url, bare_url = f"{ours.url}/media/{key}", f"{bare.url}/file"
    mine, base = requests.get(ours_url, timeout=30), requests.get(bare_url, timeout=30)
    assert (mine.status_code, base.status_code) == (200, 200), (mine.status_code, base.status_code)
    assert mine.content == base.content, "both apps must serve the same bytes"
    wrk = dict(seconds=args.seconds, connections=args.connections, threads=args.threads)
    runs = []
    for round_no in range(args.rounds):
        base_run = run_wrk(bare_url, **wrk)
        our_run = run_wrk(ours_url, **wrk)
        runs.append((base_run, our_run))
        print(
            f"round {round_no + 1}: {our_run.requests_per_second:.0f}/s vs bare "
            f"{base_run.requests_per_second:.0f}/s",
            flush=True,
        )
    return runs


@dataclass
class Results:
    """Everything the report shows."""

    uploads: Uploads
    served_bytes: int
    serving: list[tuple[WrkResult, WrkResult]]
    bare_peak_mb: float


def run(args: argparse.Namespace, workdir: Path) -> Results:
    """Prepare a database and an author, start both apps, upload, then serve."""
    url = args.database_url or f"sqlite:///{workdir / 'media.db'}"
    bare_file = workdir / "bare.jpg"
    env = production_env(
        url,
        POST_WRITE_RATE_LIMIT="1000000 per minute",
        MEDIA_ROOT=str(workdir / "media"),
        BARE_FILE=str(bare_file),
    )
    migrate(env)
    manage(
        env,
        *("create-user", "bencher", "--email", "bench@example.com", "--role", "author"),
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    with bare_and_blogapi(env, args.workers, workdir) as (bare, ours):
        uploads = measure_uploads(args, ours)
        if not uploads.media:
            raise RuntimeError(f"no upload succeeded: {uploads.failures[:10]}")
        key, path = served_file(uploads.media[0], Path(env["MEDIA_ROOT"]))
        shutil.copyfile(path, bare_file)
        serving = measure_serving(args, bare, ours, key)
        bare_peak = max(worker_memory_mb(bare), default=0.0)
    return Results(uploads, bare_file.stat().st_size, serving, bare_peak)


def report(args: argparse.Namespace, results: Results) -> str:
    """The results as Markdown."""
    up = results.uploads
    database = "SQLite" if not args.database_url else args.database_url.split(":")[0]
    lines = [
        f"# Media benchmark — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Machine: {machine()}. gunicorn {args.workers} sync workers for both apps, production "
        f"mode, filesystem storage, database {database}. Command: `{args.command}`.",
        "",
        f"## Uploads: a {PHOTO_SIZE[0]} x {PHOTO_SIZE[1]} JPEG ({up.photo_bytes / 1000:,.0f} kB), "
        f"{args.checkpoints[-1]} distinct uploads, {args.clients} clients",
        "",
        row("uploads", "uploads/s", "p50 ms", "p99 ms", "failures"),
        "|---:|---:|---:|---:|---:|",
        row(
            f"{len(up.latencies_ms)}",
            f"{up.per_second:.2f}",
            f"{up.percentile(0.5):,.0f}",
            f"{up.percentile(0.99):,.0f}",
            f"{len(up.failures)}",
        ),
        "",
        "Each upload is decoded, turned upright, stripped, re-encoded and stored with its "
        f"variants at {', '.join(str(v['width']) for v in up.media[0]['variants'])} px. "
        "Worker memory as uploads accumulate (`/proc/<pid>/status`, MB, one column per worker):",
        "",
        row("after uploads", "peak resident (VmHWM)", "resident now (VmRSS)"),
        "|---:|---:|---:|",
    ]
    for point in up.checkpoints:
        lines.append(
            row(
                str(point.uploads),
                " / ".join(f"{mb:.0f}" for mb in point.peak_mb),
                " / ".join(f"{mb:.0f}" for mb in point.rss_mb),
            )
        )
    first, last = up.checkpoints[1], up.checkpoints[-1]
    growth = max(last.peak_mb) - max(first.peak_mb)
    lines += [
        "",
        f"Peak growth from {first.uploads} to {last.uploads} uploads: {growth:+.1f} MB "
        "(goal: the peak per upload does not grow with the number of uploads).",
        "",
        f"## Serving the {SERVED_WIDTH} px variant ({results.served_bytes / 1000:,.1f} kB) "
        "against bare Flask's `send_file` of the same file",
        "",
        f"wrk {args.threads} threads, {args.connections} connections, {args.seconds}s per run, "
        f"{args.rounds} alternating rounds (medians shown).",
        "",
        row(
            "request", "blogapi req/s", "bare Flask", "ratio", "goal", "p50 ms", "p99 ms", "errors"
        ),
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    runs = results.serving
    ratios = [m.requests_per_second / b.requests_per_second for b, m in runs]
    ratio = statistics.median(ratios)
    met = "met" if ratio >= SERVING_GOAL else "not met"
    lines += [
        row(
            "`GET /media/<key>`",
            f"{statistics.median(m.requests_per_second for _, m in runs):,.0f}",
            f"{statistics.median(b.requests_per_second for b, _ in runs):,.0f}",
            f"{ratio:.2f}",
            f"≥ {SERVING_GOAL:.2f} ({met})",
            f"{statistics.median(m.p50_ms for _, m in runs):.2f}",
            f"{statistics.median(m.p99_ms for _, m in runs):.2f}",
            f"{sum(m.non_2xx + m.errors for _, m in runs)}",
        ),
        "",
        f"Ratio in each round: {', '.join(f'{r:.2f}' for r in ratios)}. Peak resident memory "
        f"of a worker: blogapi {max(last.peak_mb):.0f} MB, bare Flask {results.bare_peak_mb:.0f} "
        "MB.",
    ]
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--checkpoints",
        type=lambda s: sorted(int(x) for x in s.split(",") if x),
        default=[20, 100, 200],
        help="upload counts at which worker memory is read; the last is the total",
    )
    parser.add_argument("--clients", type=int, default=2, help="concurrent uploaders")
    add_wrk_options(parser, rounds=5)
    parser.add_argument("--database-url", help="default: a new SQLite file")
    parser.add_argument("--output", type=Path, default=RESULTS / "media.md")
    args = parser.parse_args(argv)
    args.command = "python -m bench.media" + "".join(f" {a}" for a in argv or [])
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and write the report."""
    args = parse_args(argv)
    subprocess.run([str(ROOT / "scripts" / "install-system-deps"), "--bench"], check=True)
    with tempfile.TemporaryDirectory(prefix="blogapi-bench-media-") as tmp:
        results = run(args, Path(tmp))
    args.output.write_text(report(args, results))
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
