"""A throwaway Redis server on 127.0.0.1 for tests and load tests."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

from devtools.binaries import find_redis_server
from devtools.errors import PortInUse, ServerError
from devtools.server import HOST, PORT_IN_USE, ThrowawayServer, file_size, log_tail


def _redis_ping(port: int, timeout: float = 1.0) -> bool:
    """Return True when a Redis server on 127.0.0.1:port answers PING."""
    try:
        with socket.create_connection((HOST, port), timeout=timeout) as sock:
            sock.sendall(b"*1\r\n$4\r\nPING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer(ThrowawayServer):
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
        offset = file_size(self.logfile)
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
                log_text = log_tail(self.logfile, offset)
                if exited and PORT_IN_USE.search(log_text):
                    raise PortInUse(f"port {self.port} is in use")
                raise ServerError(
                    f"redis-server failed to start on {self.host}:{self.port}"
                    f"\n--- server log ---\n{log_text}"
                )
            time.sleep(0.02)
