"""Run the test suite's two passes, SQLite and PostgreSQL + Redis, side by side.

    python -m devtools.test_passes [pytest arguments]

Each pass is one pytest process that mostly keeps one core busy, so on a machine with two or
more the passes take about as long together as the longer one alone. The SQLite pass prints
as it goes; the PostgreSQL pass's output is kept and printed once both have ended, so the two
never interleave. The exit code is 0 only when both passed.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from types import FrameType
from typing import IO

SQLITE = "SQLite"
POSTGRES = "PostgreSQL + Redis"
POLL_SECONDS = 0.2


@dataclass
class Pass:
    """One pass of the suite: its command, its process and, when it is kept, its output."""

    name: str
    command: list[str]
    output: IO[bytes] | None = None
    process: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    seconds: float = 0.0

    def start(self) -> None:
        """Start the pass: printing as it goes, or into its own file when it has one."""
        self.started = time.monotonic()
        self.process = subprocess.Popen(self.command, stdout=self.output, stderr=self.output)

    def poll(self) -> int | None:
        """The pass's exit code once it has ended (its time taken then), else None."""
        assert self.process is not None
        code = self.process.poll()
        if code is not None and not self.seconds:  # the first time it is seen ended
            self.seconds = time.monotonic() - self.started
        return code


def passes(pytest_args: list[str], kept: IO[bytes]) -> list[Pass]:
    """The two passes: SQLite printing as it goes, PostgreSQL's output kept in `kept`."""
    pytest = [sys.executable, "-m", "pytest", *pytest_args]
    server = [sys.executable, "-m", "devtools.with_server", "postgres", "--"]
    return [Pass(SQLITE, pytest), Pass(POSTGRES, [*server, *pytest], output=kept)]


def run(pytest_args: list[str]) -> int:
    """Run both passes at once, print the kept output and a summary; 0 when both passed."""
    with tempfile.TemporaryFile() as kept:
        both = passes(pytest_args, kept)

        def forward(signum: int, frame: FrameType | None) -> None:
            """Pass a termination signal on to both passes (each cleans up after itself), and
            wait for them: Ctrl-C reached them from the terminal already, as it reached us."""
            if signum == signal.SIGINT:
                return
            for each in both:
                if each.process is not None:
                    each.process.send_signal(signum)  # not to one that has ended

        watched = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
        previous = {signum: signal.signal(signum, forward) for signum in watched}
        try:
            for each in both:
                each.start()
            # Polled, not waited for in turn, so each pass's time is its own.
            while None in (ended := [each.poll() for each in both]):
                time.sleep(POLL_SECONDS)
            codes = [code for code in ended if code is not None]
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        sys.stdout.flush()
        kept.seek(0)
        print(f"\n===== the {POSTGRES} pass =====", flush=True)
        sys.stdout.buffer.write(kept.read())
        sys.stdout.flush()
    print()
    for each, code in zip(both, codes, strict=True):
        outcome = "passed" if code == 0 else f"FAILED (exit code {code})"
        minutes, seconds = divmod(round(each.seconds), 60)
        print(f"{each.name} pass: {outcome} in {minutes}:{seconds:02d}")
    return 0 if all(code == 0 for code in codes) else 1


if __name__ == "__main__":
    raise SystemExit(run(sys.argv[1:]))
