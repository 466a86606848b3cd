"""A throwaway PostgreSQL cluster on 127.0.0.1 for tests and load tests.

Library use::

    with PostgresServer() as pg:
        engine = create_engine(pg.url)
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from devtools.binaries import find_pg_bindir
from devtools.errors import PortInUse, ServerError
from devtools.os_users import as_user, is_root
from devtools.processes import pid_alive, runs_in, signal_tree, terminate, wait_gone
from devtools.server import HOST, PORT_IN_USE, ThrowawayServer, file_size, log_tail

if TYPE_CHECKING:
    import psycopg

DEFAULT_DBNAME = "blogapi_test"
PG_SUPERUSER = "postgres"
PG_OS_USER = "postgres"


def _remove_shm_segment(line: str) -> None:
    """Remove the SysV shared memory segment named in postmaster.pid ("key id")."""
    fields = line.split()
    if len(fields) != 2 or not fields[1].isdigit() or not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.shmctl(int(fields[1]), 0, None)  # IPC_RMID


class PostgresServer(ThrowawayServer):
    """A throwaway PostgreSQL cluster (trust auth, no fsync) on 127.0.0.1."""

    name = "pg"
    _crash_signal = signal.SIGQUIT

    def __init__(
        self,
        dbname: str = DEFAULT_DBNAME,
        *,
        bindir: str | None = None,
        port: int | None = None,
        settings: dict[str, str] | None = None,
        startup_timeout: float = 60.0,
        stop_timeout: float = 15.0,
    ) -> None:
        """Configure the server; call start() or use it as a context manager."""
        super().__init__(port, startup_timeout, stop_timeout)
        self.dbname = dbname
        self.bindir = bindir
        self.settings = dict(settings or {})
        self.user = PG_SUPERUSER

    # paths and URLs
    @property
    def datadir(self) -> Path:
        """Return the cluster's data directory."""
        return self._dir() / "data"

    @property
    def logfile(self) -> Path:
        """Return the server log file."""
        return self._dir() / "postgres.log"

    @property
    def url(self) -> str:
        """Return the SQLAlchemy URL of the test database."""
        return self.url_for(self.dbname)

    @property
    def admin_url(self) -> str:
        """Return the SQLAlchemy URL of the 'postgres' maintenance database."""
        return self.url_for("postgres")

    def url_for(self, dbname: str) -> str:
        """Return the SQLAlchemy (psycopg 3) URL of a database on this server."""
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{quote(dbname, safe='')}"

    def dsn(self, dbname: str | None = None) -> str:
        """Return a libpq URL (usable by psycopg.connect) for a database on this server."""
        return self.url_for(dbname or self.dbname).replace(
            "postgresql+psycopg://", "postgresql://", 1
        )

    def env(self) -> dict[str, str]:
        """Return DATABASE_URL, TEST_DATABASE_URL and TEST_PG_ADMIN_URL."""
        return {
            "DATABASE_URL": self.url,
            "TEST_DATABASE_URL": self.url,
            "TEST_PG_ADMIN_URL": self.admin_url,
        }

    # database helpers
    def connect(self, dbname: str | None = None, **kwargs: Any) -> psycopg.Connection[Any]:
        """Open a psycopg connection to a database on this server."""
        import psycopg

        kwargs.setdefault("connect_timeout", 5)
        return psycopg.connect(self.dsn(dbname), **kwargs)

    def create_database(self, name: str) -> str:
        """Create a database and return its URL."""
        from psycopg import sql

        with self.connect("postgres", autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        """Drop a database if it exists, disconnecting its sessions."""
        from psycopg import sql

        with self.connect("postgres", autocommit=True) as conn:
            force = sql.SQL(" WITH (FORCE)") if conn.info.server_version >= 130000 else sql.SQL("")
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {}{}").format(sql.Identifier(name), force)
            )

    # lifecycle
    @property
    def pid(self) -> int | None:
        """Return the postmaster pid while it runs, else None."""
        if self.tmpdir is None:
            return None
        try:
            first = (self.datadir / "postmaster.pid").read_text().split("\n", 1)[0]
            pid = int(first)
        except (OSError, ValueError):
            return None
        return pid if runs_in(pid, self.datadir) else None

    @property
    def is_running(self) -> bool:
        """Return True while the postmaster is alive."""
        return self.pid is not None

    def stop(self, timeout: float | None = None) -> None:
        """Fast shutdown (immediate, then SIGKILL, when it takes longer than timeout)."""
        pid = self.pid
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGINT)
            if not wait_gone(pid, self.stop_timeout if timeout is None else timeout):
                terminate(pid, signal.SIGQUIT, 5.0)
            if pid_alive(pid):
                raise ServerError(f"postgres (pid {pid}) did not stop")
        self._tell_watchdog("pid 0")
        if self.tmpdir is not None:
            self._clear_stale_locks()

    def kill(self) -> None:
        """SIGKILL the postmaster and its backends (a crash); data is kept."""
        pid = self.pid
        if pid is not None:
            signal_tree(pid, signal.SIGKILL)
            wait_gone(pid, 10.0)
        self._tell_watchdog("pid 0")
        if self.tmpdir is not None:
            self._clear_stale_locks()

    # internals
    def _dir(self) -> Path:
        """Return the temp dir or fail when the server was not started."""
        if self.tmpdir is None:
            raise ServerError("PostgresServer is not started")
        return self.tmpdir

    def _os_user(self) -> str | None:
        """Run as the postgres OS user when we are root."""
        return PG_OS_USER if is_root() else None

    def _pidfile(self) -> str:
        """Let the watchdog find the postmaster even before we report it."""
        return str(self.datadir)

    def _bin(self, tool: str) -> str:
        """Return the path of a PostgreSQL program."""
        if self.bindir is None:
            self.bindir = find_pg_bindir()
            if self.bindir is None:
                raise ServerError("PostgreSQL server binaries (initdb) not found; set PG_BINDIR")
        return os.path.join(self.bindir, tool)

    def _run(self, cmd: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
        """Run a PostgreSQL tool as the right OS user inside the temp dir."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        try:
            return subprocess.run(
                as_user(cmd, self._os_user()),
                cwd=self._dir(),
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired as exc:
            raise ServerError(f"{os.path.basename(cmd[0])} timed out after {timeout:.0f}s") from exc

    def _prepare(self) -> None:
        """Run initdb."""
        result = self._run(
            [
                self._bin("initdb"),
                "-D",
                str(self.datadir),
                "-A",
                "trust",
                "-U",
                self.user,
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C",
            ],
            self.startup_timeout,
        )
        if result.returncode != 0:
            raise ServerError(
                f"initdb failed ({result.returncode}):\n{result.stdout}{result.stderr}"
            )

    def _server_options(self) -> list[str]:
        """Return the postgres command-line options."""
        settings = {
            "listen_addresses": HOST,
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "200",
            **self.settings,
        }
        opts = ["-p", str(self.port), "-k", str(self._dir())]
        for key, value in settings.items():
            opts += ["-c", f"{key}={value}"]
        return opts

    def _launch(self) -> None:
        """pg_ctl start -w, then wait until a TCP connection succeeds."""
        self._clear_stale_locks()
        offset = file_size(self.logfile)
        wait = max(int(self.startup_timeout), 5)
        result = self._run(
            [
                self._bin("pg_ctl"),
                "start",
                "-D",
                str(self.datadir),
                "-l",
                str(self.logfile),
                "-w",
                "-t",
                str(wait),
                "-s",
                "-o",
                " ".join(shlex.quote(o) for o in self._server_options()),
            ],
            wait + 15,
        )
        if result.returncode != 0:
            self.kill()
            log = log_tail(self.logfile, offset)
            if PORT_IN_USE.search(log):
                raise PortInUse(f"port {self.port} is in use")
            raise ServerError(
                f"postgres failed to start on {self.host}:{self.port}: "
                f"{(result.stdout + result.stderr).strip()}\n--- server log ---\n{log}"
            )
        self._tell_watchdog(f"pid {self.pid or 0}")
        self._wait_ready(offset)

    def _clear_stale_locks(self) -> None:
        """Drop lock files and shared memory left by a killed postmaster."""
        # A killed postmaster is reaped by PID 1, which may take seconds; meanwhile
        # postgres sees the zombie's pid in its lock files and refuses to start.
        locks = [self.datadir / "postmaster.pid", *self._dir().glob(".s.PGSQL.*.lock")]
        for lock in locks:
            try:
                lines = lock.read_text().split("\n")
                pid = int(lines[0])
            except (OSError, ValueError):
                continue
            if runs_in(pid, self.datadir):
                continue
            lock.unlink(missing_ok=True)
            if lock.name == "postmaster.pid" and len(lines) > 6:
                _remove_shm_segment(lines[6])

    def _wait_ready(self, offset: int) -> None:
        """Wait until the server accepts a TCP connection (bounded)."""
        import psycopg

        deadline = time.monotonic() + self.startup_timeout
        while True:
            try:
                with psycopg.connect(self.dsn("postgres"), connect_timeout=2):
                    return
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline or not self.is_running:
                    self.kill()
                    raise ServerError(
                        f"postgres on {self.host}:{self.port} does not accept connections: {exc}"
                        f"\n--- server log ---\n{log_tail(self.logfile, offset)}"
                    ) from exc
            time.sleep(0.05)

    def _after_first_start(self) -> None:
        """Create the test database."""
        if self.dbname != "postgres":
            self.create_database(self.dbname)
