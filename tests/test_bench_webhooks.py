"""The webhook benchmark (bench/webhooks.py) keeps working: a tiny run on SQLite publishes
through a real server, has one worker deliver to a verifying receiver, and writes its table."""

from __future__ import annotations

import os

import pytest

from bench.webhooks import measure, parse_args, report


@pytest.mark.slow
def test_a_tiny_run_delivers_every_publish_and_measures_the_cost_to_writes(tmp_path):
    if os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("runs once, in the SQLite pass: the PostgreSQL runs start their own servers")
    args = parse_args(
        [
            "--seconds=1",
            "--rounds=1",
            "--workers=1",
            "--pace=5",
            "--backends=sqlite",
            f"--output={tmp_path / 'webhooks.md'}",
        ]
    )
    result = measure(args, tmp_path)
    flat_out, paced = result["deliveries"]
    for run in (flat_out, paced):
        assert run["published"] > 0 and run["failures"] == 0, run
        assert run["delivered"] == run["published"] and run["missing"] == 0, run
        assert run["unverified"] == 0 and run["p50"] > 0 and run["p99"] >= run["p50"], run
    ((writes,),) = [result["writes"]]
    assert all(writes[name][0] > 0 for name in ("plain", "hooked", "bare", "deferred")), writes
    table = report(args, result)
    assert "| SQLite (SqliteHuey) | 1 | flat out, 4 clients |" in table
    assert (
        "| SQLite (SqliteHuey) | 1 | 5/s, 1 client |" in table
        and "slowdown of the request" in table
    )
