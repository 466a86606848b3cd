"""Run wrk for a bounded time and read its numbers."""

from __future__ import annotations

import argparse
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


@dataclass
class WrkResult:
    """Throughput and latency of one wrk run."""

    requests_per_second: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    errors: int
    requests: int = 0  # answered in the run (wrk's "N requests in …")


def to_ms(text: str) -> float:
    """'1.23ms' -> 1.23."""
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * UNITS[unit]


def parse(output: str) -> WrkResult:
    """Pull requests/s, p50, p99, non-2xx, socket errors and the requests answered out of
    `wrk --latency` output."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p50 = to_ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))
    p99 = to_ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return WrkResult(
        requests_per_second=rps,
        p50_ms=p50,
        p99_ms=p99,
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        errors=sum(int(n) for n in errors.groups()) if errors else 0,
        requests=int(re.search(r"(\d+) requests in", output).group(1)),
    )


def run_wrk(
    url: str,
    *,
    seconds: int,
    connections: int,
    threads: int,
    headers: dict[str, str] | None = None,
    script: Path | None = None,
) -> WrkResult:
    """One bounded wrk run against a loopback URL."""
    assert url.startswith(("http://127.0.0.1", "http://localhost")), "load stays on loopback"
    command = ["wrk", "--latency", f"-d{seconds}s", f"-c{connections}", f"-t{threads}"]
    command += ["--timeout", "10s"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    if script:
        command += ["-s", str(script)]
    result = subprocess.run(
        [*command, url], capture_output=True, text=True, timeout=seconds + 60, check=True
    )
    return parse(result.stdout)


def add_wrk_options(parser: argparse.ArgumentParser, *, seconds: int = 10, rounds: int = 3) -> None:
    """The options every wrk-driven benchmark takes: run length, rounds, load, workers."""
    parser.add_argument("--seconds", type=int, default=seconds, help="length of each wrk run")
    parser.add_argument("--rounds", type=int, default=rounds, help="alternations per request")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")


@dataclass(frozen=True)
class Request:
    """One request a benchmark measures: its path, headers, and a wrk script (or none)."""

    path: str
    headers: dict[str, str] = field(default_factory=dict)
    script: Path | None = None


Runs = dict[str, list[tuple[WrkResult, WrkResult]]]


def alternate(
    args: argparse.Namespace,
    bare_url: str,
    ours_url: str,
    requests: dict[str, Request],
    label: str = "",
) -> Runs:
    """For `args.rounds` rounds, each request in turn: a wrk run against bare Flask's `/`, then
    one against ours (so both meet the same machine); (bare, ours) per round, by name."""
    wrk = dict(seconds=args.seconds, connections=args.connections, threads=args.threads)
    runs: Runs = {name: [] for name in requests}
    for round_no in range(args.rounds):
        for name, request in requests.items():
            base = run_wrk(f"{bare_url}/", **wrk)
            mine = run_wrk(
                f"{ours_url}{request.path}", headers=request.headers, script=request.script, **wrk
            )
            runs[name].append((base, mine))
            print(
                f"{label}round {round_no + 1} {name}: {mine.requests_per_second:.0f}/s vs bare "
                f"{base.requests_per_second:.0f}/s",
                flush=True,
            )
    return runs
