"""The scale test in its small form: two instances, PostgreSQL and Redis restarted mid-run."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.live import ROOT
from tests.prerequisites import unavailable
from tests.servers import find_pg_bindir


@pytest.mark.slow
def test_nothing_acknowledged_is_lost_and_nothing_fails_with_500(tmp_path):
    if os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("runs once, in the SQLite pass: it starts its own PostgreSQL and Redis")
    if find_pg_bindir() is None:
        unavailable("PostgreSQL server binaries are not installed")
    report = tmp_path / "scale.md"
    result = subprocess.run(
        [sys.executable, "-m", "bench.scale", "--small", "--output", str(report)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = result.stdout[-6000:] + result.stderr[-4000:]
    assert result.returncode == 0, output
    text = report.read_text()
    assert "lost or wrong: 0." in text and "not holding: 0." in text, text
