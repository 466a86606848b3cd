"""Run a command against a throwaway server, then remove the server.

    python -m devtools.with_server postgres -- pytest tests/    # DATABASE_URL, ...
    python -m devtools.with_server redis -- python loadtest.py  # REDIS_URL

The exit code is the command's; the server and its data dir are always removed, also when
the command or this process is interrupted by a signal.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
from types import FrameType

from devtools.binaries import ensure_redis_installed, find_pg_bindir, find_redis_server
from devtools.errors import ServerError
from devtools.postgres_server import DEFAULT_DBNAME, PostgresServer
from devtools.redis_server import RedisServer


class _Interrupted(Exception):
    """A termination signal arrived before the command was started."""

    def __init__(self, signum: int) -> None:
        """Remember the signal number."""
        super().__init__(signum)
        self.signum = signum


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
    """Entry point of ``python -m devtools.with_server``."""
    args = list(sys.argv[1:] if argv is None else argv)
    head, tail = (
        (args[: args.index("--")], args[args.index("--") + 1 :]) if "--" in args else (args, [])
    )
    parser = argparse.ArgumentParser(
        prog="python -m devtools.with_server",
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
