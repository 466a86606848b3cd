"""What every throwaway server shares: a free loopback port, a temp dir, a watchdog, a lifecycle.

Besides ``with``/``cleanup()`` and an atexit hook, a watchdog process (devtools.processes)
stops the server and removes its directory if the Python process that started it dies
abruptly.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shutil
import signal
import socket
import time
from pathlib import Path
from types import TracebackType
from typing import Self

from devtools.errors import PortInUse, ServerError
from devtools.os_users import make_tmpdir
from devtools.processes import Watchdog

HOST = "127.0.0.1"
PORT_IN_USE = re.compile(r"address already in use", re.IGNORECASE)
_LIVE: set[ThrowawayServer] = set()


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def log_tail(path: Path | None, offset: int = 0, lines: int = 40) -> str:
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


def file_size(path: Path) -> int:
    """Return the size of path, or 0 when it does not exist."""
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _cleanup_all() -> None:
    """Stop every server this process started that is still alive (atexit hook)."""
    for server in list(_LIVE):
        if server._owner_pid != os.getpid():
            continue  # a forked child must not tear down its parent's servers
        with contextlib.suppress(Exception):
            server.cleanup()


atexit.register(_cleanup_all)


class ThrowawayServer:
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
        self._watchdog: Watchdog | None = None

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
                self.tmpdir = make_tmpdir(f"blogapi-{self.name}-", self._os_user())
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
                self.port = free_port()
            try:
                self._launch()
                return
            except PortInUse:
                if self._fixed_port or attempt == 4:
                    raise

    def _launch_same_port(self) -> None:
        """Launch on the current port, retrying briefly while it is still busy."""
        deadline = time.monotonic() + 10.0
        while True:
            try:
                self._launch()
                return
            except PortInUse:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def _start_watchdog(self) -> None:
        """Spawn a process that removes the server if this process dies abruptly."""
        if self.tmpdir is not None:
            self._watchdog = Watchdog.spawn(self.tmpdir, self._pidfile(), self._crash_signal)

    def _tell_watchdog(self, line: str) -> None:
        """Send one line to the watchdog, if there is one."""
        if self._watchdog is not None:
            self._watchdog.tell(line)

    def _stop_watchdog(self) -> None:
        """Tell the watchdog all is clean and let it exit."""
        watchdog, self._watchdog = self._watchdog, None
        if watchdog is not None:
            watchdog.stop()
