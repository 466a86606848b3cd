"""Time seed, export and import at scale, with each command's peak memory, on SQLite and PostgreSQL.

Every step is a real `python manage.py …` process, as an admin runs it; its peak RSS comes
from os.wait4 (the kernel's ru_maxrss for that process alone). After each import the new
database is exported again and compared with the first export, line for line.

    python bench/seed_and_backup.py --posts 100000              # both databases
    python bench/seed_and_backup.py --posts 100000 --backend sqlite

PostgreSQL: TEST_PG_ADMIN_URL (or --pg-admin-url) names a server to make databases on;
without one, a throwaway server is started with devtools/postgres_server.py.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from devtools.live import production_env  # noqa: E402  (the environment the live tests use)

PASSWORD = "bench admin passphrase 2026"


@dataclass
class Step:
    """One measured command."""

    backend: str
    name: str
    seconds: float
    peak_mib: float
    note: str = ""


def run(url: str, *args: str, stdin: str = "") -> tuple[float, float]:
    """Run manage.py ARGS; (seconds, peak RSS in MiB). Exits on failure."""
    with tempfile.TemporaryFile("w+") as err:
        started = time.monotonic()
        process = subprocess.Popen(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=production_env(url),
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=err,
            text=True,
        )
        process.stdin.write(stdin)
        process.stdin.close()
        # wait4, not wait: it also gives this child's own resource usage.
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.monotonic() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            err.seek(0)
            sys.exit(f"manage.py {' '.join(args)} failed ({process.returncode}):\n{err.read()}")
    return seconds, usage.ru_maxrss / 1024


class Databases:
    """New empty databases of one kind, dropped at the end."""

    def __init__(self, backend: str, workdir: Path, pg_admin_url: str | None) -> None:
        self.backend, self.workdir, self.admin_url = backend, workdir, pg_admin_url
        self.made: list[str] = []

    def new(self) -> str:
        """The URL of a new, migrated database."""
        name = f"bench_{uuid.uuid4().hex[:10]}"
        if self.backend == "sqlite":
            url = f"sqlite:///{self.workdir / f'{name}.db'}"
        else:
            import psycopg

            with psycopg.connect(self.admin_url.replace("+psycopg", ""), autocommit=True) as c:
                c.execute(f'CREATE DATABASE "{name}"')
            self.made.append(name)
            url = self.admin_url.rsplit("/", 1)[0] + f"/{name}"
        run(url, "db", "upgrade")
        return url

    def drop_all(self) -> None:
        """Drop the PostgreSQL databases made."""
        if not self.made:
            return
        import psycopg

        with psycopg.connect(self.admin_url.replace("+psycopg", ""), autocommit=True) as c:
            for name in self.made:
                c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def postgres(admin_url: str | None) -> Iterator[str]:
    """A PostgreSQL maintenance URL: the one given, else a throwaway server's."""
    if admin_url:
        yield admin_url
        return
    from devtools.postgres_server import PostgresServer

    with PostgresServer() as server:
        yield server.admin_url


def same_records(first: Path, second: Path) -> bool:
    """Whether two exports hold the same records (their headers' times differ)."""
    with first.open("rb") as a, second.open("rb") as b:
        next(a), next(b)
        return all(x == y for x, y in zip(a, b, strict=True))


def bench_backend(backend: str, args: argparse.Namespace, dbs: Databases, work: Path) -> list:
    """Seed, export, import (and check) on one backend; the steps measured."""
    steps: list[Step] = []
    source = dbs.new()
    create = ("create-user", "root", "--email", "root@example.com", "--role", "admin")
    run(source, *create, "--password-stdin", stdin=f"{PASSWORD}\n")
    seed = ("seed", "--users", str(args.users), "--posts", str(args.posts), "--seed", "1")
    seconds, peak = run(source, *seed, "--password-stdin", stdin=f"{PASSWORD}\n")
    steps.append(Step(backend, f"seed {args.posts} posts", seconds, peak))
    export = work / f"{backend}.jsonl"
    seconds, peak = run(source, "export", str(export))
    size = f"{export.stat().st_size / 2**20:.0f} MiB file"
    steps.append(Step(backend, "export", seconds, peak, size))
    target = dbs.new()
    seconds, peak = run(target, "import", str(export))
    again = work / f"{backend}-again.jsonl"
    run(target, "export", str(again))
    same = "re-export identical" if same_records(export, again) else "RE-EXPORT DIFFERS"
    steps.append(Step(backend, "import", seconds, peak, same))
    return steps


def main() -> None:
    """Parse the options, run the benchmark, print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--pg-admin-url", default=os.environ.get("TEST_PG_ADMIN_URL"))
    args = parser.parse_args()
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    steps: list[Step] = []
    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="blogapi-bench-")))
        admin_url = None
        if "postgres" in backends:
            admin_url = stack.enter_context(postgres(args.pg_admin_url))
        for backend in backends:
            dbs = Databases(backend, work, admin_url)
            try:
                steps += bench_backend(backend, args, dbs, work)
                if backend == "postgres" and "sqlite" in backends:
                    # The move an outgrown SQLite site makes: its export into PostgreSQL.
                    target = dbs.new()
                    seconds, peak = run(target, "import", str(work / "sqlite.jsonl"))
                    steps.append(Step("sqlite -> postgres", "import", seconds, peak))
            finally:
                dbs.drop_all()
    print("| database | step | seconds | peak RSS (MiB) | note |\n|---|---|---:|---:|---|")
    for s in steps:
        print(f"| {s.backend} | {s.name} | {s.seconds:.1f} | {s.peak_mib:.0f} | {s.note} |")


if __name__ == "__main__":
    main()
