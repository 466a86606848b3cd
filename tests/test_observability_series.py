"""The request histogram and the cache counters are written by the app's own series writers
(metrics.HotSeries) rather than prometheus_client's `observe` and `inc`: in prometheus_client's
multiprocess mode, as under gunicorn, what a scrape reads must be exactly what those would
have written, in a forked child too."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from devtools.live import ROOT

pytestmark = pytest.mark.database_agnostic

SCRIPT = textwrap.dedent(
    """
    import json, os
    from prometheus_client import CollectorRegistry
    from prometheus_client.multiprocess import MultiProcessCollector
    from blogapi.observability.metrics import (
        CACHE_LOOKUPS, HTTP_DURATION, CounterSeries, HistogramSeries,
    )

    # Bounds themselves (a bucket's bound is inclusive), between them, past the last.
    durations = [0.0, 0.0005, 0.00050001, 0.001, 0.0042, 0.0042, 0.7, 10, 11.5, 1e-9]
    ours = HistogramSeries(HTTP_DURATION.labels("/ours", "GET", "200"))
    hits = CounterSeries(CACHE_LOOKUPS.labels("ours", "hit"))
    for seconds in durations:
        ours.observe(seconds)
        hits.inc()
        HTTP_DURATION.labels("/reference", "GET", "200").observe(seconds)
    child = os.fork()
    if child == 0:  # a forked worker writes to files of its own through the series it inherited
        ours.observe(0.003)
        hits.inc()
        os._exit(0)
    os.waitpid(child, 0)
    HTTP_DURATION.labels("/reference", "GET", "200").observe(0.003)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=os.environ["PROMETHEUS_MULTIPROC_DIR"])
    samples = {}
    for family in registry.collect():
        for sample in family.samples:
            route = sample.labels.get("route") or sample.labels.get("cache")
            if route in ("/ours", "/reference", "ours"):
                key = sample.name + sample.labels.get("le", "")
                samples.setdefault(route, {})[key] = sample.value
    files = sorted(name for name in os.listdir(os.environ["PROMETHEUS_MULTIPROC_DIR"]))
    print(json.dumps({"samples": samples, "files": files, "parent": os.getpid(), "child": child}))
    """
)


def test_hot_series_read_as_prometheus_clients_own_writes_in_every_process(
    tmp_path: Path,
):
    folder = tmp_path / "metrics"
    folder.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=60, check=True,
    )  # fmt: skip
    found = json.loads(done.stdout)
    ours, reference = found["samples"]["/ours"], found["samples"]["/reference"]
    histogram = "blogapi_http_request_duration_seconds"
    assert ours[f"{histogram}_count"] == 11
    assert ours[f"{histogram}_sum"] == pytest.approx(reference[f"{histogram}_sum"])
    assert {k: v for k, v in ours.items() if not k.endswith("_sum")} == {
        k: v for k, v in reference.items() if not k.endswith("_sum")
    }
    assert f"histogram_{found['child']}.db" in found["files"]  # the child's own files
    assert f"counter_{found['child']}.db" in found["files"]
    assert found["samples"]["ours"] == {"blogapi_cache_lookups_total": 11.0}
