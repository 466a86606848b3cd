"""The scale test in its small form: two instances, PostgreSQL and Redis restarted mid-run,
and a webhook whose every acknowledged change is delivered."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter

import pytest

from bench.scale import server_error_causes, unavailable_causes
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
