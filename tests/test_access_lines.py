"""Production's access lines, as an operator reads them from a worker's stderr: gathered in
memory, written out when the buffer fills, every second, before any other line, and at exit."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import orjson
import pytest

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
    ask(190)
    seen["after 200"] = stderr_size()
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
    assert seen["after 10"] < seen["after 200"] < len(written)  # a full buffer went out
    assert written[: seen["a while later"]].count(b'"blogapi.access"') == 200  # the round
    assert len(access) == 208 and len({line["request_id"] for line in access}) == 208
    assert {(line["path"], line["status"]) for line in access} == {("unmatched", 404)}
    # The warning went out after the access lines of the requests before it, and the last
    # three lines left at exit.
    order = [line["logger"] for line in lines]
    assert order.index("blogapi.story") == 205
    assert order[206:] == ["blogapi.access"] * 3
