"""`make test` runs the SQLite and PostgreSQL passes side by side: both run at once, their
output does not interleave, and the run fails when either pass does."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pytest

from devtools import test_passes
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
