"""`make run`: migrate, then serve the API and run one webhook worker side by side; Ctrl-C
(SIGINT) or SIGTERM stops both, and the exit code is the web server's."""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from types import FrameType

from devtools.live import ROOT

STOP_WAIT = 15.0  # seconds a child gets to stop before it is killed
POLL = 0.2


class Children:
    """The processes started so far, and the stop signal received, if any."""

    def __init__(self) -> None:
        self.running: list[subprocess.Popen[bytes]] = []
        self.stop_signal: int | None = None

    def on_signal(self, signum: int, _frame: FrameType | None) -> None:
        """Remember the signal and pass it on to every child."""
        self.stop_signal = signum
        for child in self.running:
            send(child, signum)

    def start(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        """`python manage.py ARGS` in a process group of its own, so that a terminal's Ctrl-C
        reaches it once, through this process, rather than twice."""
        child = subprocess.Popen(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, start_new_session=True
        )
        self.running.append(child)
        return child

    def wait(self, timeout: float) -> None:
        """Wait for every child to end; kill those still running after `timeout`."""
        deadline = time.monotonic() + timeout
        for child in self.running:
            try:
                child.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                send(child, signal.SIGKILL)
                child.wait(timeout=5)


def send(child: subprocess.Popen[bytes], signum: int) -> None:
    """Signal the child's whole group (Flask's reloader serves from a grandchild)."""
    if child.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signum)


def supervise(children: Children, server: subprocess.Popen[bytes]) -> int:
    """Run until a stop signal or until a child ends, then stop them all; the exit code: the
    server's when it was told to stop, else a failure."""
    while children.stop_signal is None and all(c.poll() is None for c in children.running):
        time.sleep(POLL)
    if children.stop_signal is None:  # one of them ended by itself: stop the other
        print("run_dev: a child process ended; stopping the others", file=sys.stderr)
        for child in children.running:
            send(child, signal.SIGTERM)
    children.wait(STOP_WAIT)
    if children.stop_signal is None:
        return server.returncode if server.returncode > 0 else 1
    # Only the server's code counts: a worker still starting up when Ctrl-C comes exits 1
    # ("Aborted!"), which is no failure.
    return exit_code(server, children.stop_signal)


def exit_code(child: subprocess.Popen[bytes], stop_signal: int | None) -> int:
    """The child's exit code as a shell would want it: ending by the stop signal it was sent
    is a success, ending by another signal a failure."""
    if stop_signal is not None and child.returncode == -stop_signal:
        return 0
    return child.returncode if child.returncode >= 0 else 128 - child.returncode


def main(argv: list[str] | None = None) -> int:
    """Apply the migrations, then run the web server and a worker until told to stop."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default="5000")
    options = parser.parse_args(argv)
    children = Children()
    # Installed before any child starts: children begin with the default handlers, even when
    # this process was started with SIGINT ignored (as a background job is).
    signal.signal(signal.SIGINT, children.on_signal)
    signal.signal(signal.SIGTERM, children.on_signal)
    upgrade = children.start("db", "upgrade")
    children.wait(timeout=300)
    if upgrade.returncode != 0 or children.stop_signal is not None:
        return exit_code(upgrade, children.stop_signal)
    children.running.clear()
    # The worker's metrics (webhook attempts, task times) join the server's at /metrics.
    made = None
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        made = os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="blogapi-metrics-")
    try:
        # The worker writes the links of mailed resets without a request to read the site's
        # address from: unless SITE_URL says it, it is this server's.
        host = "127.0.0.1" if options.host in ("0.0.0.0", "") else options.host  # all: local
        site = os.environ.get("SITE_URL") or f"http://{host}:{options.port}"
        children.start("worker", env={**os.environ, "SITE_URL": site})
        server = children.start("run", "--host", options.host, "--port", str(options.port))
        return supervise(children, server)
    finally:
        if made:
            shutil.rmtree(made, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
