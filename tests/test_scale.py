"""The scale test in its small form: two instances, PostgreSQL and Redis restarted mid-run,
a webhook whose every acknowledged change is delivered, and the instances' own metrics agreeing
with what the clients counted."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from collections import Counter

import pytest

from bench.ledger import Ledger
from bench.scale import server_error_causes, unavailable_causes
from bench.scale_agreement import Boundary, compare
from bench.scale_metrics import Scrape, between, bucket_quantile, parse
from devtools.binaries import find_pg_bindir
from devtools.live import ROOT
from tests.support.prerequisites import unavailable


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
    assert "lost deliveries: 0," in text and "unverified signatures: 0." in text, text
    # Every phase, and the whole run, from the instances' /metrics beside the clients' count.
    assert "The two sides agree" in text and "DISAGREE" not in text, text
    assert "| whole run |" in text and "| cool-down |" in text, text


def test_the_report_names_the_exception_behind_each_500(tmp_path):
    log = tmp_path / "i0.log"
    log.write_text(
        "database unavailable: OperationalError: connection failed: Connection refused\n"
        "[2026-11-29 22:44:58,523] ERROR in app: Exception on /api/v1/posts [GET]\n"
        "Traceback (most recent call last):\n"
        '  File "sqlalchemy/engine/base.py", line 1184, in _rollback_impl\n'
        "psycopg.errors.AdminShutdown: terminating connection due to administrator command\n"
        "\n"
        "The above exception was the direct cause of the following exception:\n"
        "\n"
        "Traceback (most recent call last):\n"
        '  File "blogapi/web/errors.py", line 146, in database_unavailable\n'
        "sqlalchemy.exc.OperationalError: (psycopg.errors.AdminShutdown) terminating connection\n"
        "(Background on this error at: https://sqlalche.me/e/21/e3q8)\n"
        '{"event":"login","user_id":7}\n'
        "[2026-11-29 22:45:01,000] ERROR in errors: unhandled error\n"
        "Traceback (most recent call last):\n"
        '  File "blogapi/posts/resources.py", line 96, in get\n'
        "KeyError: 'title'\n"
    )
    assert server_error_causes([log]) == Counter(
        {"sqlalchemy.exc.OperationalError": 1, "KeyError": 1}
    )


def test_the_report_reads_the_causes_from_json_log_lines(tmp_path):
    log = tmp_path / "i0.log"
    refused = "OperationalError: connection failed: Connection refused"
    lines = [
        {"level": "ERROR", "message": f"database unavailable: {refused}", "request_id": "a1"},
        {"level": "ERROR", "message": f"database unavailable: {refused}", "request_id": "b2"},
        {
            "level": "ERROR",
            "message": "unhandled error",
            "request_id": "c3",
            "error": "Traceback (most recent call last):\n"
            '  File "blogapi/posts/resources.py", line 96, in get\n'
            "KeyError: 'title'\n\nThe above exception was the direct cause of the following "
            "exception:\n\nTraceback (most recent call last):\nValueError: no title",
        },
        {"level": "INFO", "message": "GET /api/v1/posts 200", "request_id": "d4"},
    ]
    log.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert unavailable_causes([log]) == Counter({refused: 2})
    assert server_error_causes([log]) == Counter({"ValueError": 1})


@pytest.mark.database_agnostic
def test_two_scrapes_count_what_was_answered_between_them_less_the_scrapes(client):
    before = parse(client.get("/metrics").get_data(as_text=True))
    assert client.get("/api/v1/posts").status_code == 200
    assert client.get("/api/v1/posts/424242").status_code == 404
    assert client.get("/api/v1/health").status_code == 200
    after = parse(client.get("/metrics").get_data(as_text=True))

    window = between([before], [after])
    assert window.statuses == Counter({"200": 1, "404": 1})
    assert window.buckets[math.inf] == 2
    assert window.harness == Counter({"/metrics": 1, "/api/v1/health": 1})


@pytest.mark.database_agnostic
def test_a_quantile_from_buckets_is_interpolated_within_its_bucket():
    buckets = Counter({0.1: 50, 0.25: 90, 0.5: 100, math.inf: 100})
    assert bucket_quantile(buckets, 0.5) == pytest.approx(0.1)
    assert bucket_quantile(buckets, 0.75) == pytest.approx(0.1 + 0.15 * 25 / 40)
    assert bucket_quantile(Counter({0.1: 50, math.inf: 100}), 0.99) == 0.1  # past the last
    assert bucket_quantile(Counter(), 0.5) is None


def scraped(posts: int, scrapes: int) -> Scrape:
    """An instance's scrape that has counted `posts` answers, and `scrapes` earlier scrapes."""
    counted = {"/api/v1/posts": posts, "/metrics": scrapes}
    return Scrape(
        Counter({(route, "200"): n for route, n in counted.items()}),
        Counter({(route, math.inf): n for route, n in counted.items()}),
        answered_at=time.monotonic(),
        scrapes_before=scrapes,
    )


def answered(ledger: Ledger) -> None:
    """A client request to the one instance, answered 200."""
    ticket, phase = ledger.begin(0)
    ledger.outcome(phase, "list", 200, 1.0, ticket)


@pytest.mark.database_agnostic
@pytest.mark.parametrize("extra", [0, 1])
def test_the_sides_may_differ_by_the_requests_in_flight_and_no_more(extra):
    ledger = Ledger()
    first = Boundary("warm-up", ledger.enter("warm-up"), [scraped(0, 0)])
    for _ in range(3):
        answered(ledger)
    slow, phase = ledger.begin(0)  # still in flight when the next phase begins
    middle = Boundary("cool-down", ledger.enter("cool-down"), [scraped(3, 1)])
    ledger.outcome(phase, "list", 200, 900.0, slow)
    # `extra`: the instance counted one answer no client had.
    last = Boundary("done", ledger.enter("done"), [scraped(4 + extra, 2)])

    sides = compare(ledger, [first, middle, last], 0, ["warm-up", "cool-down"])

    warm_up, cool_down = sides.found
    assert (warm_up.client_requests, warm_up.server.requests, warm_up.in_flight) == (4, 3, 1)
    assert (cool_down.client_requests, cool_down.server.requests) == (0, 1 + extra)
    if extra:
        assert any(p.startswith("whole run: requests") for p in sides.problems), sides.problems
        assert "THE INSTANCES' METRICS DISAGREE" in "\n".join(sides.lines())
    else:
        assert sides.problems == []
        assert sides.whole is not None and sides.whole.server.requests == 4
