"""Tests for the throwaway PostgreSQL and Redis servers of devtools, and their command line."""

from __future__ import annotations

import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.binaries import ensure_redis_installed, find_pg_bindir
from devtools.os_users import is_root
from devtools.postgres_server import PostgresServer
from devtools.redis_server import RedisServer
from tests.support.prerequisites import needs_postgres as needs_pg
from tests.support.prerequisites import unavailable

ROOT = Path(__file__).resolve().parents[1]
URL_VARS = ("DATABASE_URL", "TEST_DATABASE_URL", "TEST_PG_ADMIN_URL", "REDIS_URL")
CLI = [sys.executable, "-m", "devtools.with_server"]


def _port_refuses(port: int) -> bool:
    """Return True when nothing accepts TCP connections on 127.0.0.1:port."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return False
    except ConnectionRefusedError:
        return True


def _cli_env(**extra: str) -> dict[str, str]:
    """Return a clean environment for running the CLI."""
    env = {k: v for k, v in os.environ.items() if k not in URL_VARS}
    env.update(extra)
    return env


def _run_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run python -m devtools.with_server with args and return the finished process."""
    return subprocess.run(
        [*CLI, *args],
        cwd=ROOT,
        env=_cli_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def _read_line(proc: subprocess.Popen[str], timeout: float) -> str:
    """Read one stdout line from proc, failing after timeout seconds."""
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    assert ready, "no output in time"
    return proc.stdout.readline().strip()


@pytest.fixture
def watched_tmpdir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point TMPDIR at a fresh world-traversable dir, to see what is left in it."""
    path = Path(tempfile.mkdtemp(prefix="test-servers-"))
    path.chmod(0o755)
    monkeypatch.setenv("TMPDIR", str(path))
    monkeypatch.setattr(tempfile, "tempdir", None)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def redis_binary() -> str:
    """Return redis-server, installing it with apt-get when possible."""
    binary = ensure_redis_installed()
    if binary is None:
        unavailable("redis-server is missing and could not be installed (needs root + apt-get)")
    return binary


# --------------------------------------------------------------------------- PostgreSQL


def test_find_pg_bindir_honours_override(monkeypatch: pytest.MonkeyPatch) -> None:
    """PG_BINDIR wins, and a dir without initdb means 'not found'."""
    monkeypatch.setenv("PG_BINDIR", "/nonexistent")
    assert find_pg_bindir() is None
    monkeypatch.delenv("PG_BINDIR")
    found = find_pg_bindir()
    if found is not None:
        assert os.access(os.path.join(found, "initdb"), os.X_OK)


@needs_pg
def test_postgres_lifecycle(watched_tmpdir: Path) -> None:
    """Start, use, restart with data kept, crash and recover, stop, clean up."""
    import psycopg

    with PostgresServer() as pg:
        port = pg.port
        assert pg.url == f"postgresql+psycopg://postgres@127.0.0.1:{port}/blogapi_test"
        assert pg.tmpdir is not None and pg.tmpdir.parent == watched_tmpdir
        dsn = pg.url.replace("+psycopg", "")
        with psycopg.connect(dsn) as conn:
            conn.execute("CREATE TABLE items (id int PRIMARY KEY, name text)")
            conn.execute("INSERT INTO items VALUES (1, 'kept')")
            addr = conn.execute("SELECT inet_server_addr()::text").fetchone()
            assert addr == ("127.0.0.1/32",)

        pg.restart()
        assert pg.port == port
        with psycopg.connect(dsn) as conn:
            assert conn.execute("SELECT name FROM items").fetchall() == [("kept",)]

        pg.kill()
        assert not pg.is_running
        pg.start_again()
        with pg.connect() as conn:
            assert conn.execute("SELECT count(*) FROM items").fetchone() == (1,)

        other = pg.create_database("blogapi_extra")
        assert other.endswith(f":{port}/blogapi_extra")
        with psycopg.connect(other.replace("+psycopg", "")) as conn:
            conn.execute("SELECT 1")
        pg.drop_database("blogapi_extra")
        pg.drop_database("blogapi_extra")  # idempotent

        pg.stop()
        with pytest.raises(psycopg.OperationalError, match=r"(?i)refused"):
            psycopg.connect(dsn, connect_timeout=3)
    assert pg.tmpdir is None
    assert list(watched_tmpdir.iterdir()) == []
    assert _port_refuses(port)


@needs_pg
def test_postgres_unusable_tmpdir_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """A TMPDIR the postgres user cannot enter (root's 0700 dir) is skipped."""
    if not is_root():
        pytest.skip("only root switches to the postgres user")
    private = Path(tempfile.mkdtemp(prefix="test-servers-private-"))
    try:
        monkeypatch.setattr(tempfile, "tempdir", str(private))
        with PostgresServer() as pg:
            assert pg.tmpdir is not None and private not in pg.tmpdir.parents
            with pg.connect() as conn:
                assert conn.execute("SELECT current_database()").fetchone() == ("blogapi_test",)
    finally:
        shutil.rmtree(private, ignore_errors=True)


@needs_pg
def test_postgres_cli_passes_exit_code(watched_tmpdir: Path) -> None:
    """The CLI exports the URLs, returns CMD's exit code and removes the server."""
    code = "import os; print(os.environ['DATABASE_URL']); print(os.environ['TEST_DATABASE_URL']);"
    code += "print(os.environ['TEST_PG_ADMIN_URL']); raise SystemExit(3)"
    result = _run_cli("postgres", "--", sys.executable, "-c", code)
    assert result.returncode == 3, result.stderr
    url, test_url, admin_url = result.stdout.split()
    assert url.startswith("postgresql+psycopg://postgres@127.0.0.1:")
    assert url.endswith("/blogapi_test") and test_url == url
    assert admin_url == url.rsplit("/", 1)[0] + "/postgres"
    assert _port_refuses(int(url.rsplit(":", 1)[1].split("/")[0]))
    assert list(watched_tmpdir.iterdir()) == []


def test_postgres_cli_skips_without_binaries(tmp_path: Path) -> None:
    """Without server binaries the CLI says so, does not run CMD and exits 0."""
    marker = tmp_path / "ran"
    result = _run_cli(
        "postgres", "--", sys.executable, "-c", f"open({str(marker)!r}, 'w')", PG_BINDIR="/nope"
    )
    assert result.returncode == 0
    assert result.stderr.strip() == "postgres: server binaries not found, skipping"
    assert not marker.exists()


@needs_pg
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "ctrl-c"])
def test_postgres_cli_cleans_up_on_signal(sig: signal.Signals, watched_tmpdir: Path) -> None:
    """SIGTERM to the CLI, or Ctrl-C to its process group, still removes the server."""
    code = "import os, time; print(os.environ['DATABASE_URL'], flush=True); time.sleep(60)"
    proc = subprocess.Popen(
        [*CLI, "postgres", "--", sys.executable, "-c", code],
        cwd=ROOT,
        env=_cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        url = _read_line(proc, 60)
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        assert not _port_refuses(port)
        if sig == signal.SIGINT:
            os.killpg(proc.pid, sig)  # what a terminal's Ctrl-C does
        else:
            proc.send_signal(sig)
        assert proc.wait(timeout=30) == 128 + sig
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert _port_refuses(port)
    assert list(watched_tmpdir.iterdir()) == []


@needs_pg
def test_watchdog_removes_server_when_owner_is_killed(watched_tmpdir: Path) -> None:
    """If the owning process dies by SIGKILL, the watchdog stops the server and cleans up."""
    script = textwrap.dedent(
        f"""
        import sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from devtools.postgres_server import PostgresServer
        pg = PostgresServer().start()
        print(pg.port, flush=True)
        time.sleep(60)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], env=_cli_env(), stdout=subprocess.PIPE, text=True
    )
    try:
        port = int(_read_line(proc, 60))
        assert not _port_refuses(port)
    finally:
        proc.kill()
        proc.wait()
    deadline = time.monotonic() + 15
    while (list(watched_tmpdir.iterdir()) or not _port_refuses(port)) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.1)
    assert _port_refuses(port)
    assert list(watched_tmpdir.iterdir()) == []


# --------------------------------------------------------------------------- Redis


def test_redis_lifecycle(redis_binary: str, watched_tmpdir: Path) -> None:
    """Start, use, restart on the same port, stop, clean up."""
    redis = pytest.importorskip("redis")
    with RedisServer(binary=redis_binary) as srv:
        port = srv.port
        assert srv.url == f"redis://127.0.0.1:{port}/0"
        client = redis.Redis.from_url(srv.url)
        client.set("greeting", "hi")
        assert client.get("greeting") == b"hi"
        client.close()

        srv.restart()
        assert srv.port == port and srv.ping()
        srv.kill()
        assert not srv.is_running
        srv.start_again()
        assert srv.ping()

        srv.stop()
        assert not srv.ping()
        assert _port_refuses(port)
    assert list(watched_tmpdir.iterdir()) == []


def test_redis_cli_passes_exit_code(redis_binary: str, watched_tmpdir: Path) -> None:
    """The CLI exports REDIS_URL and returns CMD's exit code."""
    code = "import os; print(os.environ['REDIS_URL']); raise SystemExit(3)"
    result = _run_cli("redis", "--", sys.executable, "-c", code, REDIS_SERVER=redis_binary)
    assert result.returncode == 3, result.stderr
    url = result.stdout.strip()
    assert url.startswith("redis://127.0.0.1:") and url.endswith("/0")
    assert _port_refuses(int(url.rsplit(":", 1)[1].split("/")[0]))
    assert list(watched_tmpdir.iterdir()) == []


def test_redis_cli_skips_without_binary(tmp_path: Path) -> None:
    """Without redis-server the CLI says so, does not run CMD and exits 0."""
    marker = tmp_path / "ran"
    result = _run_cli(
        "redis", "--", sys.executable, "-c", f"open({str(marker)!r}, 'w')", REDIS_SERVER="/nope"
    )
    assert result.returncode == 0
    assert result.stderr.strip() == "redis: server binaries not found, skipping"
    assert not marker.exists()
