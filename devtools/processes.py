"""Server processes by pid: alive or not, where they run, stopping them; and the watchdog.

The watchdog is a separate process that stops a server and removes its directory when the
Python process that started the server dies abruptly (SIGKILL, a crash) and cannot do it.
It runs this file as a script under ``python -I``, so this module imports the standard
library only.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path


def pid_alive(pid: int) -> bool:
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


def children_of(pid: int) -> list[int]:
    """The processes `pid` started and still has (none once it is gone)."""
    listed = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [int(child) for child in listed.read_text().split()]
    except FileNotFoundError:
        return []


def wait_gone(pid: int, timeout: float) -> bool:
    """Wait up to timeout seconds for pid to exit; return True if it did."""
    deadline = time.monotonic() + timeout
    while pid_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def runs_in(pid: int, directory: Path) -> bool:
    """Return True when pid is alive with its working directory inside directory."""
    if not pid_alive(pid):
        return False
    try:
        cwd = Path(os.readlink(f"/proc/{pid}/cwd"))
    except OSError:
        return False
    return cwd == directory or directory in cwd.parents


def signal_tree(pid: int, sig: int) -> None:
    """Send sig to pid's process group when pid leads one, else to pid alone."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if os.getpgid(pid) == pid and pid != os.getpgid(0):
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)


def terminate(pid: int, sig: int, grace: float) -> None:
    """Send sig to pid, then SIGKILL its process group after grace seconds."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)
    if not wait_gone(pid, grace):
        signal_tree(pid, signal.SIGKILL)
        wait_gone(pid, 5.0)


class Watchdog:
    """The watchdog of one server's directory, as its owner talks to it."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        """Wrap a running watchdog process (see spawn())."""
        self._proc = proc

    @classmethod
    def spawn(cls, directory: Path, pidfile_dir: str, crash_signal: int) -> Watchdog | None:
        """Start a watchdog for directory; None when no process could be started."""
        if not sys.executable:
            return None
        cmd = [
            sys.executable,
            "-I",
            str(Path(__file__).resolve()),
            str(directory),
            pidfile_dir,
            str(int(crash_signal)),
        ]
        try:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd="/",
                start_new_session=True,
            )
        except OSError:
            return None
        return cls(proc)

    def tell(self, line: str) -> None:
        """Send one line ("pid N", "bye") to the watchdog, ignoring a dead one."""
        stdin = self._proc.stdin
        if stdin is None:
            return
        with contextlib.suppress(OSError, ValueError):
            stdin.write(line.encode() + b"\n")
            stdin.flush()

    def stop(self) -> None:
        """Tell the watchdog all is clean and let it exit."""
        proc = self._proc
        self.tell("bye")
        with contextlib.suppress(OSError, ValueError):
            if proc.stdin is not None:
                proc.stdin.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def watch(directory: str, pidfile_dir: str, crash_signal: str) -> int:
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
        if runs_in(pid, root):
            terminate(pid, int(crash_signal), 5.0)
    shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(watch(*sys.argv[1:]))
