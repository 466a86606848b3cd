"""Throwaway PostgreSQL and Redis servers on 127.0.0.1 for tests and load tests.

Library use::

    with PostgresServer() as pg:
        engine = create_engine(pg.url)

Command line (exit code is CMD's; the server and its data dir are always removed)::

    python -m devtools.servers postgres -- pytest tests/        # DATABASE_URL, ...
    python -m devtools.servers redis -- python loadtest.py       # REDIS_URL

Every server runs on a free loopback port in its own temporary directory. Besides
``with``/``cleanup()`` and an atexit hook, a small watchdog process stops the server
and removes its directory if the Python process that started it dies abruptly.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import ctypes
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import quote

if TYPE_CHECKING:
    import psycopg

HOST = "127.0.0.1"
DEFAULT_DBNAME = "blogapi_test"
PG_SUPERUSER = "postgres"
PG_OS_USER = "postgres"

_PORT_IN_USE = re.compile(r"address already in use", re.IGNORECASE)
_LIVE: set[_Server] = set()


class ServerError(RuntimeError):
    """A throwaway server could not be started or stopped."""


class _PortInUse(ServerError):
    """The chosen port was taken by someone else."""


# --------------------------------------------------------------------------- helpers


def _is_root() -> bool:
    """Return True when running as root (servers then run as another user)."""
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _pid_alive(pid: int) -> bool:
    """Return True when pid exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[:1] != ["Z"]


def _wait_gone(pid: int, timeout: float) -> bool:
    """Wait up to timeout seconds for pid to exit; return True if it did."""
    deadline = time.monotonic() + timeout
    while _pid_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _runs_in(pid: int, directory: Path) -> bool:
    """Return True when pid is alive with its working directory inside directory."""
    if not _pid_alive(pid):
        return False
    try:
        cwd = Path(os.readlink(f"/proc/{pid}/cwd"))
    except OSError:
        return False
    return cwd == directory or directory in cwd.parents


def _signal_tree(pid: int, sig: int) -> None:
    """Send sig to pid's process group when pid leads one, else to pid alone."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if os.getpgid(pid) == pid and pid != os.getpgid(0):
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)


def _terminate(pid: int, sig: int, grace: float) -> None:
    """Send sig to pid, then SIGKILL its process group after grace seconds."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)
    if not _wait_gone(pid, grace):
        _signal_tree(pid, signal.SIGKILL)
        _wait_gone(pid, 5.0)


def _remove_shm_segment(line: str) -> None:
    """Remove the SysV shared memory segment named in postmaster.pid ("key id")."""
    fields = line.split()
    if len(fields) != 2 or not fields[1].isdigit() or not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.shmctl(int(fields[1]), 0, None)  # IPC_RMID


def _log_tail(path: Path | None, offset: int = 0, lines: int = 40) -> str:
    """Return the last lines of a log file from byte offset on."""
    if path is None:
        return ""
    try:
        with path.open("rb") as fh:
            fh.seek(offset)
            text = fh.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _file_size(path: Path) -> int:
    """Return the size of path, or 0 when it does not exist."""
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _os_user_ids(name: str) -> tuple[int, int]:
    """Return (uid, gid) of an OS user, with a clear error when it is missing."""
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        raise ServerError(
            f"OS user {name!r} does not exist; cannot run the server as root"
        ) from None
    return entry.pw_uid, entry.pw_gid


def _as_user(cmd: list[str], user: str | None) -> list[str]:
    """Prefix cmd with runuser when it must run as another OS user."""
    if user is None:
        return cmd
    runuser = shutil.which("runuser") or "/usr/sbin/runuser"
    if not os.path.exists(runuser):
        raise ServerError("runuser not found; cannot run the server as a non-root user")
    return [runuser, "-u", user, "--", *cmd]


def _usable_by(directory: Path, user: str | None) -> bool:
    """Return True when user can enter and write directory (all parents included)."""
    if user is None:
        return os.access(directory, os.W_OK | os.X_OK)
    probe = 'cd "$1" && : > .probe && rm -f .probe'
    try:
        result = subprocess.run(
            _as_user(["/bin/sh", "-c", probe, "sh", str(directory)], user),
            cwd="/",
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def _make_tmpdir(prefix: str, user: str | None) -> Path:
    """Create a private temp dir owned by user, trying other roots when TMPDIR is unusable."""
    roots = [tempfile.gettempdir(), "/tmp", "/var/tmp", "/dev/shm"]
    owner = _os_user_ids(user) if user is not None else None
    tried: list[str] = []
    for root in dict.fromkeys(roots):
        # Unix socket paths are limited to ~107 bytes; keep well below.
        if not os.path.isdir(root) or len(root) > 60:
            continue
        try:
            directory = Path(tempfile.mkdtemp(prefix=prefix, dir=root))
        except OSError as exc:
            tried.append(f"{root}: {exc}")
            continue
        if owner is not None:
            os.chown(directory, *owner)
        if _usable_by(directory, user):
            return directory
        tried.append(f"{root}: not usable by {user or 'current user'}")
        shutil.rmtree(directory, ignore_errors=True)
    raise ServerError("no usable temporary directory: " + "; ".join(tried))


def _cleanup_all() -> None:
    """Stop every server this process started that is still alive (atexit hook)."""
    for server in list(_LIVE):
        if server._owner_pid != os.getpid():
            continue  # a forked child must not tear down its parent's servers
        with contextlib.suppress(Exception):
            server.cleanup()


atexit.register(_cleanup_all)


# --------------------------------------------------------------------------- base


class _Server:
    """Common lifecycle: temp dir, free port, watchdog, context manager."""

    name = "server"
    _crash_signal: int = signal.SIGTERM

    def __init__(self, port: int | None, startup_timeout: float, stop_timeout: float) -> None:
        """Store settings; nothing is started until start()."""
        self.host = HOST
        self.port = port or 0
        self._fixed_port = port is not None
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.tmpdir: Path | None = None
        self._owner_pid = os.getpid()
        self._watchdog: subprocess.Popen[bytes] | None = None

    # subclass hooks
    def _prepare(self) -> None:
        """Initialise the fresh temp dir (e.g. initdb)."""

    def _launch(self) -> None:
        """Start the server process on self.port and wait until it answers."""
        raise NotImplementedError

    def _after_first_start(self) -> None:
        """Run once after the very first successful start."""

    def _os_user(self) -> str | None:
        """Return the OS user the server must run as, or None for the current one."""
        return None

    def _pidfile(self) -> str:
        """Return a pid file the watchdog may read, or an empty string."""
        return ""

    @property
    def is_running(self) -> bool:
        """Return True while the server process is alive."""
        raise NotImplementedError

    def stop(self, timeout: float | None = None) -> None:
        """Shut the server down; data in the temp dir is kept."""
        raise NotImplementedError

    def kill(self) -> None:
        """Kill the server with SIGKILL (simulates a crash); data is kept."""
        raise NotImplementedError

    # lifecycle
    def start(self) -> Self:
        """Start the server: fresh on first call, on the same port and data afterwards."""
        if self.tmpdir is None:
            self._owner_pid = os.getpid()
            _LIVE.add(self)
            try:
                self.tmpdir = _make_tmpdir(f"blogapi-{self.name}-", self._os_user())
                self._start_watchdog()
                self._prepare()
                self._launch_on_free_port()
                self._after_first_start()
            except BaseException:
                self.cleanup()
                raise
        elif not self.is_running:
            self._launch_same_port()
        return self

    def start_again(self) -> Self:
        """Start a stopped or killed server on the same port and data dir."""
        if self.tmpdir is None:
            raise ServerError(f"{self.name} was never started or was cleaned up")
        return self.start()

    def restart(self) -> Self:
        """Stop the server, then start it on the same port with the same data dir."""
        self.stop()
        return self.start_again()

    def cleanup(self) -> None:
        """Stop the server (if running) and remove its temp dir."""
        try:
            if self.tmpdir is not None:
                try:
                    self.stop()
                except Exception:
                    with contextlib.suppress(Exception):
                        self.kill()
        finally:
            if self.tmpdir is not None:
                shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None
            self._stop_watchdog()
            _LIVE.discard(self)

    def __enter__(self) -> Self:
        """Start the server."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the server and remove its data."""
        self.cleanup()

    def __repr__(self) -> str:
        """Show kind, port and state."""
        state = "running" if self.tmpdir is not None and self.is_running else "stopped"
        return f"<{type(self).__name__} {self.host}:{self.port} {state}>"

    def env(self) -> dict[str, str]:
        """Return environment variables that point a program at this server."""
        raise NotImplementedError

    # internals
    def _launch_on_free_port(self) -> None:
        """Launch, picking a new free port when the chosen one was taken meanwhile."""
        for attempt in range(5):
            if not self._fixed_port:
                self.port = _free_port()
            try:
                self._launch()
                return
            except _PortInUse:
                if self._fixed_port or attempt == 4:
                    raise

    def _launch_same_port(self) -> None:
        """Launch on the current port, retrying briefly while it is still busy."""
        deadline = time.monotonic() + 10.0
        while True:
            try:
                self._launch()
                return
            except _PortInUse:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def _start_watchdog(self) -> None:
        """Spawn a process that removes the server if this process dies abruptly."""
        if not sys.executable or self.tmpdir is None:
            return
        cmd = [
            sys.executable,
            "-I",
            str(Path(__file__).resolve()),
            "_watchdog",
            str(self.tmpdir),
            self._pidfile(),
            str(int(self._crash_signal)),
        ]
        with contextlib.suppress(OSError):
            self._watchdog = subprocess.Popen(
                cmd,
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd="/",
                start_new_session=True,
            )

    def _tell_watchdog(self, line: str) -> None:
        """Send one line to the watchdog, ignoring a dead one."""
        proc = self._watchdog
        if proc is None or proc.stdin is None:
            return
        with contextlib.suppress(OSError, ValueError):
            proc.stdin.write(line.encode() + b"\n")
            proc.stdin.flush()

    def _stop_watchdog(self) -> None:
        """Tell the watchdog all is clean and let it exit."""
        proc = self._watchdog
        if proc is None:
            return
        self._tell_watchdog("bye")
        self._watchdog = None
        with contextlib.suppress(OSError, ValueError):
            if proc.stdin is not None:
                proc.stdin.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


# --------------------------------------------------------------------------- PostgreSQL


def find_pg_bindir() -> str | None:
    """Return the PostgreSQL server bin dir ($PG_BINDIR wins), or None without initdb."""

    def has_initdb(directory: str | os.PathLike[str]) -> bool:
        """Return True when directory holds an executable initdb."""
        return os.access(os.path.join(directory, "initdb"), os.X_OK)

    override = os.environ.get("PG_BINDIR")
    if override:
        return override if has_initdb(override) else None
    base = Path("/usr/lib/postgresql")
    versions: list[tuple[tuple[int, ...], Path]] = []
    if base.is_dir():
        for child in base.iterdir():
            if re.fullmatch(r"\d+(\.\d+)*", child.name) and has_initdb(child / "bin"):
                versions.append((tuple(int(p) for p in child.name.split(".")), child / "bin"))
    if versions:
        return str(max(versions)[1])
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=30
            ).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            out = ""
        if out and has_initdb(out):
            return out
    initdb = shutil.which("initdb")
    return os.path.dirname(initdb) if initdb else None


class PostgresServer(_Server):
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
        return pid if _runs_in(pid, self.datadir) else None

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
            if not _wait_gone(pid, self.stop_timeout if timeout is None else timeout):
                _terminate(pid, signal.SIGQUIT, 5.0)
            if _pid_alive(pid):
                raise ServerError(f"postgres (pid {pid}) did not stop")
        self._tell_watchdog("pid 0")
        if self.tmpdir is not None:
            self._clear_stale_locks()

    def kill(self) -> None:
        """SIGKILL the postmaster and its backends (a crash); data is kept."""
        pid = self.pid
        if pid is not None:
            _signal_tree(pid, signal.SIGKILL)
            _wait_gone(pid, 10.0)
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
        return PG_OS_USER if _is_root() else None

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
                _as_user(cmd, self._os_user()),
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
        offset = _file_size(self.logfile)
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
            log = _log_tail(self.logfile, offset)
            if _PORT_IN_USE.search(log):
                raise _PortInUse(f"port {self.port} is in use")
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
            if _runs_in(pid, self.datadir):
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
                        f"\n--- server log ---\n{_log_tail(self.logfile, offset)}"
                    ) from exc
            time.sleep(0.05)

    def _after_first_start(self) -> None:
        """Create the test database."""
        if self.dbname != "postgres":
            self.create_database(self.dbname)


# --------------------------------------------------------------------------- Redis


def find_redis_server() -> str | None:
    """Return the redis-server path ($REDIS_SERVER wins), or None."""
    override = os.environ.get("REDIS_SERVER")
    if override:
        return override if os.access(override, os.X_OK) else None
    found = shutil.which("redis-server")
    if found:
        return found
    for candidate in (
        "/usr/bin/redis-server",
        "/usr/local/bin/redis-server",
        "/usr/sbin/redis-server",
    ):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def ensure_redis_installed() -> str | None:
    """Return redis-server's path, apt-get installing it first when root on Debian."""
    found = find_redis_server()
    if found or os.environ.get("REDIS_SERVER"):
        return found
    apt_get = shutil.which("apt-get")
    if not (_is_root() and apt_get and os.path.exists("/etc/debian_version")):
        return None
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    lock = ["-o", "DPkg::Lock::Timeout=300"]
    steps = [
        [apt_get, *lock, "update", "-qq"],
        [apt_get, *lock, "install", "-y", "-qq", "--no-install-recommends", "redis-server"],
    ]
    for cmd in steps:
        try:
            result = subprocess.run(
                cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=900
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            print(f"redis: {' '.join(cmd[:1] + cmd[3:])} failed: {exc}", file=sys.stderr)
            return None
        if result.returncode != 0:
            tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-10:])
            print(f"redis: {' '.join(cmd[:1] + cmd[3:])} failed:\n{tail}", file=sys.stderr)
            return None
    return find_redis_server()


def _redis_ping(port: int, timeout: float = 1.0) -> bool:
    """Return True when a Redis server on 127.0.0.1:port answers PING."""
    try:
        with socket.create_connection((HOST, port), timeout=timeout) as sock:
            sock.sendall(b"*1\r\n$4\r\nPING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer(_Server):
    """A throwaway Redis server on 127.0.0.1 (no persistence: restart() empties it)."""

    name = "redis"

    def __init__(
        self,
        *,
        binary: str | None = None,
        port: int | None = None,
        startup_timeout: float = 20.0,
        stop_timeout: float = 10.0,
    ) -> None:
        """Configure the server; call start() or use it as a context manager."""
        super().__init__(port, startup_timeout, stop_timeout)
        self.binary = binary
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Return the redis:// URL (database 0)."""
        return f"redis://{self.host}:{self.port}/0"

    @property
    def logfile(self) -> Path:
        """Return the server log file."""
        if self.tmpdir is None:
            raise ServerError("RedisServer is not started")
        return self.tmpdir / "redis.log"

    def env(self) -> dict[str, str]:
        """Return REDIS_URL."""
        return {"REDIS_URL": self.url}

    @property
    def pid(self) -> int | None:
        """Return the server pid while it runs, else None."""
        return self._proc.pid if self.is_running and self._proc is not None else None

    @property
    def is_running(self) -> bool:
        """Return True while redis-server is alive."""
        return self._proc is not None and self._proc.poll() is None

    def ping(self) -> bool:
        """Return True when the server answers PING."""
        return _redis_ping(self.port)

    def stop(self, timeout: float | None = None) -> None:
        """SIGTERM the server (SIGKILL when it takes longer than timeout)."""
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(self.stop_timeout if timeout is None else timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        self._tell_watchdog("pid 0")

    def kill(self) -> None:
        """SIGKILL the server (a crash)."""
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.kill()
            proc.wait(5)
        self._tell_watchdog("pid 0")

    def _launch(self) -> None:
        """Start redis-server and wait until it answers PING."""
        if self.binary is None:
            self.binary = find_redis_server()
            if self.binary is None:
                raise ServerError("redis-server not found; see ensure_redis_installed()")
        directory = self.logfile.parent
        offset = _file_size(self.logfile)
        cmd = [
            self.binary,
            "--port", str(self.port),
            "--bind", HOST,
            "--save", "",
            "--appendonly", "no",
            "--dir", str(directory),
            "--daemonize", "no",
            "--protected-mode", "yes",
            "--logfile", "",
        ]  # fmt: skip
        with self.logfile.open("ab") as log:
            self._proc = subprocess.Popen(
                cmd,
                cwd=directory,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._tell_watchdog(f"pid {self._proc.pid}")
        deadline = time.monotonic() + self.startup_timeout
        while not _redis_ping(self.port, timeout=0.5):
            exited = self._proc.poll() is not None
            if exited or time.monotonic() > deadline:
                self.kill()
                log_text = _log_tail(self.logfile, offset)
                if exited and _PORT_IN_USE.search(log_text):
                    raise _PortInUse(f"port {self.port} is in use")
                raise ServerError(
                    f"redis-server failed to start on {self.host}:{self.port}"
                    f"\n--- server log ---\n{log_text}"
                )
            time.sleep(0.02)


# --------------------------------------------------------------------------- CLI


class _Interrupted(Exception):
    """A termination signal arrived before the command was started."""

    def __init__(self, signum: int) -> None:
        """Remember the signal number."""
        super().__init__(signum)
        self.signum = signum


def _watchdog(directory: str, pidfile_dir: str, crash_signal: str) -> int:
    """Wait for EOF on stdin; unless told 'bye', kill the server and remove directory."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    root = Path(directory)
    pids: set[int] = set()
    for line in sys.stdin:
        word, _, arg = line.strip().partition(" ")
        if word == "bye":
            return 0
        if word == "pid":
            pids = {int(arg)} if arg.isdigit() and int(arg) > 0 else set()
    if pidfile_dir:
        with contextlib.suppress(OSError, ValueError):
            pids.add(int((Path(pidfile_dir) / "postmaster.pid").read_text().split("\n", 1)[0]))
    for pid in pids:
        if _runs_in(pid, root):
            _terminate(pid, int(crash_signal), 5.0)
    shutil.rmtree(root, ignore_errors=True)
    return 0


def _wait_child(child: subprocess.Popen[bytes], received: list[int]) -> int:
    """Wait for child; after a signal, escalate to SIGTERM/SIGKILL within bounds."""
    plan: list[tuple[float, int]] = []
    first: float | None = None
    while True:
        try:
            return child.wait(timeout=0.1)
        except subprocess.TimeoutExpired:
            pass
        if not received:
            continue
        if first is None:
            first = time.monotonic()
            # SIGINT usually reached the child from the terminal already: give it time.
            if received[0] == signal.SIGINT:
                plan = [(5.0, signal.SIGTERM), (15.0, signal.SIGKILL)]
            else:
                plan = [(10.0, signal.SIGKILL)]
        while plan and time.monotonic() - first >= plan[0][0]:
            with contextlib.suppress(ProcessLookupError):
                child.send_signal(plan.pop(0)[1])


def _run_with_server(server: PostgresServer | RedisServer, command: list[str]) -> int:
    """Start server, run command with its env, clean up; return the exit code."""
    received: list[int] = []
    child: subprocess.Popen[bytes] | None = None

    def on_signal(signum: int, frame: FrameType | None) -> None:
        """Abort start-up, or forward the signal to the running command."""
        received.append(signum)
        if child is None:
            if len(received) == 1:
                raise _Interrupted(signum)
        elif signum != signal.SIGINT:
            with contextlib.suppress(ProcessLookupError):
                child.send_signal(signum)

    watched = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]
    previous = {sig: signal.signal(sig, on_signal) for sig in watched}
    kind = "postgres" if isinstance(server, PostgresServer) else "redis"
    try:
        with server:
            env = {**os.environ, **server.env()}
            if not command:
                for key, value in server.env().items():
                    print(f"{key}={value}", flush=True)
                print(f"{kind}: running; press Ctrl-C to stop", file=sys.stderr, flush=True)
                while True:
                    signal.pause()
            try:
                child = subprocess.Popen(command, env=env)
            except OSError as exc:
                print(f"{kind}: cannot run {command[0]!r}: {exc}", file=sys.stderr)
                return 127
            code = _wait_child(child, received)
    except _Interrupted as exc:
        return 128 + exc.signum
    except ServerError as exc:
        print(f"{kind}: {exc}", file=sys.stderr)
        return 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if received:
        return 128 + received[0]
    return code if code >= 0 else 128 - code


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m devtools.servers``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["_watchdog"] and len(args) == 4:
        return _watchdog(*args[1:])
    head, tail = (
        (args[: args.index("--")], args[args.index("--") + 1 :]) if "--" in args else (args, [])
    )
    parser = argparse.ArgumentParser(
        prog="python -m devtools.servers",
        description="Run CMD against a throwaway server on 127.0.0.1, then remove the server.",
        epilog="postgres sets DATABASE_URL, TEST_DATABASE_URL, TEST_PG_ADMIN_URL; redis sets "
        "REDIS_URL. Without CMD the server runs until Ctrl-C. Put -- before CMD.",
    )
    parser.add_argument("kind", choices=["postgres", "redis"])
    parser.add_argument("--dbname", default=DEFAULT_DBNAME, help="postgres database to create")
    parser.add_argument(
        "--no-install", action="store_true", help="redis: do not apt-get install redis-server"
    )
    parser.add_argument("command", nargs="*", metavar="CMD", help="command to run (after --)")
    ns = parser.parse_args(head)
    command = [*ns.command, *tail]

    server: PostgresServer | RedisServer
    if ns.kind == "postgres":
        bindir = find_pg_bindir()
        if bindir is None:
            print("postgres: server binaries not found, skipping", file=sys.stderr)
            return 0
        server = PostgresServer(ns.dbname, bindir=bindir)
    else:
        binary = find_redis_server() if ns.no_install else ensure_redis_installed()
        if binary is None:
            print("redis: server binaries not found, skipping", file=sys.stderr)
            return 0
        server = RedisServer(binary=binary)
    return _run_with_server(server, command)


if __name__ == "__main__":
    sys.exit(main())
