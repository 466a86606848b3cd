"""Production's access lines, as an operator reads them from a worker's stderr: gathered in
memory, written out when the buffer fills, every second, before any other line, and at exit."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap
import time
from datetime import datetime
from pathlib import Path

import orjson
import pytest

from blogapi.observability.access_lines import AccessLines, access_fields
from blogapi.observability.logs import AppHandler, JsonFormatter
from devtools.live import ROOT, production_env

SCRIPT = textwrap.dedent(
    """
    import json, logging, os, sys, time
    from blogapi import create_app

    app = create_app()
    client = app.test_client()
    stderr_size = lambda: os.fstat(2).st_size
    seen = {}

    def ask(count):
        for _ in range(count):
            client.get("/api/v1/no-such-thing", base_url=os.environ["SITE_URL"])

    ask(1)  # its first request may log a line of its own, which writes the line before it
    seen["after 1"] = stderr_size()
    ask(9)
    seen["after 10"] = stderr_size()
    ask(290)
    seen["after 300"] = stderr_size()
    time.sleep(2.5)
    seen["a while later"] = stderr_size()
    ask(5)
    logging.getLogger("blogapi.story").warning("written after five more requests")
    ask(3)
    print(json.dumps(seen))
    """
)


@pytest.mark.database_agnostic
def test_a_workers_access_lines_are_gathered_and_all_written_in_order(tmp_path: Path):
    env = production_env(f"sqlite:///{tmp_path / 'unused.db'}", ACCESS_LOG="true")
    stderr = tmp_path / "stderr.log"
    with stderr.open("wb") as err:
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, stdout=subprocess.PIPE,
            stderr=err, timeout=60, check=True,
        )  # fmt: skip
    seen = json.loads(done.stdout)
    written = stderr.read_bytes()
    lines = [orjson.loads(line) for line in written.splitlines()]
    lines = [line for line in lines if line["logger"] != "blogapi.ratelimit"]  # its set-up note
    access = [line for line in lines if line["logger"] == "blogapi.access"]

    assert seen["after 10"] == seen["after 1"]  # gathered, not written one by one
    assert seen["after 10"] < seen["after 300"] < len(written)  # a full buffer went out
    assert written[: seen["a while later"]].count(b'"blogapi.access"') == 300  # the round
    assert len(access) == 308 and len({line["request_id"] for line in access}) == 308
    assert {(line["path"], line["status"]) for line in access} == {("unmatched", 404)}
    # The warning went out after the access lines of the requests before it, and the last
    # three lines left at exit.
    order = [line["logger"] for line in lines]
    assert order.index("blogapi.story") == 305
    assert order[306:] == ["blogapi.access"] * 3


@pytest.fixture
def access_log_on():
    """The access logger at INFO, as production's logging sets it."""
    access_log = logging.getLogger("blogapi.access")
    access_log.setLevel(logging.INFO)
    yield access_log
    access_log.setLevel(logging.NOTSET)


@pytest.mark.database_agnostic
@pytest.mark.parametrize(
    "request_id, client, user_id, replayed, seconds",
    [
        ("req-1", '203.0.113.9"', None, False, 0.0021357),
        ("req-1", "203.0.113.9", 7, False, 12.5),
        ("req-3", None, None, True, 0.0),
        ("a1/b2+c3=:d4@e5", "::1", 3, True, 0.0004449),
        ("req-2", "::1", None, False, 0.0099949),  # the last duration of the short table
        ("req-2", "::1", None, False, 0.0099951),  # the first past it
    ],
)
def test_a_gathered_line_is_the_line_the_json_formatter_writes(
    tmp_path: Path, access_log_on, request_id, client, user_id, replayed, seconds
):
    """The layer writes its lines itself: key for key, in order, the formatter's own."""
    with (tmp_path / "log").open("w") as stream:
        handler = AppHandler(stream)
        handler.setFormatter(JsonFormatter())
        lines = AccessLines(handler, stream, stream.fileno())
        series = ("/api/v1/posts/<string:ident>", "GET", "200")
        before = time.time()
        kind = (*series, client, user_id, replayed)
        lines.add(time.perf_counter(), request_id, seconds, lines.pieces_of(kind))
        lines.flush()
        after = time.time()
    [gathered] = (tmp_path / "log").read_text().splitlines()
    fields = access_fields(series[0], "GET", "200", client, user_id, replayed)
    fields["duration_ms"] = round(seconds * 1000, 2)
    record = logging.getLogger("blogapi.access").makeRecord(
        "blogapi.access", logging.INFO, "", 0, "%s %s %s", ("GET", series[0], "200"), None,
        extra={"fields": fields},
    )  # fmt: skip
    record.request_id = request_id
    formatted = orjson.loads(JsonFormatter().format(record))
    written = orjson.loads(gathered)
    assert list(written) == list(formatted)
    assert {**written, "time": None} == {**formatted, "time": None}
    stamped = datetime.fromisoformat(str(written["time"])).timestamp()
    assert before - 0.001 <= stamped <= after


@pytest.mark.database_agnostic
def test_gathered_lines_are_dropped_while_the_access_log_is_turned_down(
    tmp_path: Path, access_log_on
):
    """An operator who sets blogapi.access to WARNING sees no access line from the next write."""
    access_log = access_log_on
    with (tmp_path / "log").open("w") as stream:
        handler = AppHandler(stream)
        handler.setFormatter(JsonFormatter())
        lines = AccessLines(handler, stream, stream.fileno())
        series = ("/api/v1/posts", "GET", "200")
        pieces = lines.pieces_of((*series, "::1", None, False))
        lines.add(time.perf_counter(), "req-1", 0.001, pieces)
        access_log.setLevel(logging.WARNING)
        try:
            lines.add(time.perf_counter(), "req-2", 0.001, pieces)
            lines.flush()
        finally:
            access_log.setLevel(logging.INFO)
        lines.add(time.perf_counter(), "req-3", 0.001, pieces)
        lines.flush()
    written = [orjson.loads(line) for line in (tmp_path / "log").read_text().splitlines()]
    assert [line["request_id"] for line in written] == ["req-3"]
