"""The feeds and reader pages benchmark (bench/site.py) keeps working: a tiny run through real
servers on the database in use measures every request and writes its table."""

from __future__ import annotations

import shutil

import pytest

from bench.site import measure, parse_args, report
from devtools.live import fresh_database_url
from tests.support.prerequisites import unavailable


@pytest.mark.slow
def test_a_tiny_run_measures_cached_and_uncached_feeds_and_pages(tmp_path):
    if shutil.which("wrk") is None:
        unavailable("wrk is not installed (scripts/install-system-deps --bench)")
    args = parse_args(
        [
            "--sizes=30",
            "--seconds=1",
            "--rounds=1",
            f"--database-url={fresh_database_url(tmp_path)}",
            f"--output={tmp_path / 'site.md'}",
        ]
    )
    result = measure(args, 30, tmp_path)
    assert result["size"] == 30
    names = list(result["runs"])
    assert any(name == "cached `/feed.atom`" for name in names)
    assert any(name.startswith("uncached `/feed.atom`") for name in names)
    for name, runs in result["runs"].items():
        ((bare, ours),) = runs
        assert bare.requests_per_second > 0 and ours.requests_per_second > 0, name
        assert ours.non_2xx == 0 and ours.errors == 0, name
    table = report(args, [result])
    assert "### 30 posts" in table and "cached `/posts/{slug}` page" in table
    assert table.count("| report |") == 2  # the uncached requests have no goal, only figures
