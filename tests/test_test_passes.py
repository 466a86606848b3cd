"""`make test` runs the SQLite and PostgreSQL passes side by side: both run at once, their
output does not interleave, and the run fails when either pass does."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pytest

from devtools import test_passes
from devtools.live import ROOT
from devtools.processes import children_of
from devtools.test_passes import POSTGRES, SQLITE, Pass

pytestmark = pytest.mark.database_agnostic

# Each side waits (at most a minute) for a file the other writes: one pass that ran only after
# the other had ended would wait in vain and exit 3.
HANDSHAKE = """
import sys, time
from pathlib import Path
mine, theirs, name = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
mine.touch()
deadline = time.monotonic() + 60
while not theirs.exists():
    if time.monotonic() > deadline:
        print(name, "never saw the other pass")
        sys.exit(3)
    time.sleep(0.05)
print(name, "saw the other pass")
sys.exit(int(sys.argv[4]))
"""


def handshaking(
    tmp_path: Path, postgres_exit: int = 0
) -> Callable[[list[str], IO[bytes]], list[Pass]]:
    """Stand-ins for the two passes that each finish only once both have started."""
    sqlite, postgres = tmp_path / "sqlite", tmp_path / "postgres"

    def passes(pytest_args: list[str], kept: IO[bytes]) -> list[Pass]:
        code = [sys.executable, "-c", HANDSHAKE]
        return [
            Pass(SQLITE, [*code, str(sqlite), str(postgres), "sqlite-pass", "0"]),
            Pass(POSTGRES, [*code, str(postgres), str(sqlite), "pg-pass", str(postgres_exit)],
                 output=kept),
        ]  # fmt: skip

    return passes


def test_both_passes_run_at_once_and_the_postgres_output_follows_the_sqlite_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(test_passes, "passes", handshaking(tmp_path))

    assert test_passes.run([]) == 0

    out = capfd.readouterr().out
    assert "sqlite-pass saw the other pass" in out
    assert "pg-pass saw the other pass" in out
    assert (
        out.index("sqlite-pass saw")
        < out.index(f"===== the {POSTGRES} pass =====")
        < out.index("pg-pass saw")
    )
    assert f"{SQLITE} pass: passed in" in out
    assert f"{POSTGRES} pass: passed in" in out


def test_one_failing_pass_fails_the_run_and_says_which(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(test_passes, "passes", handshaking(tmp_path, postgres_exit=5))

    assert test_passes.run([]) == 1

    out = capfd.readouterr().out
    assert f"{SQLITE} pass: passed in" in out
    assert f"{POSTGRES} pass: FAILED (exit code 5)" in out


def test_each_pass_is_timed_until_it_itself_ends(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """A pass that ends early is not timed until the other ends (the SQLite pass is the first
    looked at, and here the slower)."""
    slow = Pass(SQLITE, [sys.executable, "-c", "import time; time.sleep(3)"])
    quick = Pass(POSTGRES, [sys.executable, "-c", "pass"])
    monkeypatch.setattr(test_passes, "passes", lambda pytest_args, kept: [slow, quick])

    assert test_passes.run([]) == 0

    assert slow.seconds >= 3
    assert quick.seconds < slow.seconds / 2
    assert f"{SQLITE} pass: passed in 0:0" in capfd.readouterr().out  # m:ss


def test_each_pass_runs_pytest_with_the_same_arguments_the_postgres_one_under_its_server(
    tmp_path: Path,
) -> None:
    with (tmp_path / "kept").open("w+b") as kept:
        sqlite, postgres = test_passes.passes(["-x", "tests/test_config.py"], kept)

    assert sqlite.command == [sys.executable, "-m", "pytest", "-x", "tests/test_config.py"]
    assert sqlite.output is None  # it prints as it goes
    assert postgres.command[:5] == [
        sys.executable, "-m", "devtools.with_server", "postgres", "--"
    ]  # fmt: skip
    assert postgres.command[5:] == sqlite.command
    assert postgres.output is not None


def test_a_terminated_run_terminates_both_passes_and_fails(tmp_path: Path) -> None:
    """SIGTERM to `make test` (a CI job cancelled) reaches both passes, and the run fails."""
    started = tmp_path / "started"
    stand_in = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from devtools import test_passes\n"
        "from devtools.test_passes import POSTGRES, SQLITE, Pass\n"
        "def passes(args, kept):\n"
        "    sleep = [sys.executable, '-c', 'import time; time.sleep(120)']\n"
        "    return [Pass(SQLITE, sleep), Pass(POSTGRES, sleep, output=kept)]\n"
        "test_passes.passes = passes\n"
        f"Path({str(started)!r}).touch()\n"
        "sys.exit(test_passes.run([]))\n"
    )
    runner = subprocess.Popen(
        [sys.executable, "-c", stand_in], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 60
    while len(children_of(runner.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert started.exists() and len(children_of(runner.pid)) == 2

    runner.send_signal(signal.SIGTERM)
    out, _ = runner.communicate(timeout=60)

    assert runner.returncode == 1
    assert f"{SQLITE} pass: FAILED (exit code -{signal.SIGTERM.value})" in out
    assert f"{POSTGRES} pass: FAILED (exit code -{signal.SIGTERM.value})" in out
