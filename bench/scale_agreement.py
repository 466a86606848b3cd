"""The scale test's figures from both sides: what the clients counted per phase beside what the
instances' /metrics counted between the scrapes at that phase's boundaries, and whether the
two agree.

Why they can differ, and by how much at most. A request counts for the clients in the phase it
was sent in (Ledger.begin, under the lock the phase switch takes). The instances count it when
the app has answered, before the answer goes out, so at a moment between the client's send and
receive; it falls in the window between the two scrapes of its instance that read the counters
before and after that moment. The two sides disagree about a request only if it was sent before
a boundary and counted after its instance's scrape read the counters, or sent after the
boundary and counted before that read: either way it was in flight at some moment from the
boundary to the scrape's answer (Ledger.in_flight). A request that got no answer (refused,
reset when its worker was killed, timed out) may have been counted at any later moment or never,
so it stays in flight at every later boundary. Each request in flight at a row's first or last
boundary moves at most one count into or out of that row, for the total and for its status
class, so |instances - clients| <= the requests in flight at the row's two boundaries. Over the
whole run, from a scrape before the first request to one after the last client stopped, that
leaves only the requests without an answer.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from bench.ledger import NO_ANSWER, Ledger
from bench.scale_metrics import (
    HEALTH_ROUTE,
    SCRAPE_ROUTE,
    Scrape,
    Window,
    between,
    bucket_quantile,
    status_class,
)

CLASSES = ("2xx", "4xx", "503", "500", "other")
LABELS = {"end": "after the deadline"}  # the steps the clients finish once time is up


@dataclass
class Boundary:
    """Where a phase starts: the moment the clients switched to it, and each instance's scrape
    just after (None where one failed)."""

    phase: str
    at: float
    scrapes: list[Scrape | None]

    def complete(self) -> list[Scrape] | None:
        """Every instance's scrape, or None if one is missing."""
        found = [s for s in self.scrapes if s is not None]
        return found if len(found) == len(self.scrapes) else None


@dataclass
class Row:
    """One stretch between two complete sets of scrapes, from both sides."""

    label: str
    clients: Counter[str]  # status class (and "network") -> requests
    latencies: list[float]  # the clients' milliseconds
    server: Window
    in_flight: int  # at the two boundaries: how far apart the sides may be
    scrapes: int  # scrapes the instances answered in the stretch (counted on /metrics)
    unanswered_scrapes: int  # scrapes without an answer (may or may not be counted)
    problems: list[str] = field(default_factory=list)

    @property
    def client_requests(self) -> int:
        """Every request the clients sent in the stretch."""
        return sum(self.clients.values())


def in_flight_at(ledger: Ledger, boundary: Boundary, scrapes: list[Scrape]) -> int:
    """Client requests in flight at a boundary: per instance, from the switch to its scrape's
    answer."""
    return sum(
        ledger.in_flight(instance, boundary.at, scrape.answered_at)
        for instance, scrape in enumerate(scrapes)
    )


def client_counts(ledger: Ledger, phases: list[str]) -> tuple[Counter[str], list[float]]:
    """The clients' requests in these phases by status class, and their latencies."""
    counts: Counter[str] = Counter()
    latencies: list[float] = []
    for phase in phases:
        latencies += ledger.latencies.get(phase, [])
        for key, count in ledger.statuses.get(phase, Counter()).items():
            kind, _, status = key.partition(" ")
            if kind == "status":
                counts[status if status == NO_ANSWER else status_class(status)] += count
    return counts, latencies


def row(ledger: Ledger, label: str, phases: list[str], first: Boundary, last: Boundary) -> Row:
    """The stretch from `first` to `last` (both complete), and what is wrong with it."""
    before, after = first.complete(), last.complete()
    assert before is not None and after is not None
    clients, latencies = client_counts(ledger, phases)
    server = between(before, after)
    made = Row(
        label,
        clients,
        latencies,
        server,
        in_flight_at(ledger, first, before) + in_flight_at(ledger, last, after),
        sum(a.scrapes_before - b.scrapes_before for b, a in zip(before, after, strict=True)),
        sum(a.unanswered_before - b.unanswered_before for b, a in zip(before, after, strict=True)),
    )
    made.problems = check(made)
    return made


def check(made: Row) -> list[str]:
    """Where the instances' count and the clients' are further apart than the bound, and
    where the instances counted harness requests the harness did not make."""
    problems = []
    server_classes = classes(made.server.statuses)
    pairs = [("requests", made.server.requests, made.client_requests)]
    pairs += [(c, server_classes[c], made.clients[c]) for c in CLASSES]
    for name, server, clients in pairs:
        if abs(server - clients) > made.in_flight:
            problems.append(
                f"{made.label}: {name}: instances {server}, clients {clients}, apart by "
                f"{abs(server - clients)}, more than the {made.in_flight} in flight"
            )
    scrapes = made.server.harness[SCRAPE_ROUTE]
    if not made.scrapes <= scrapes <= made.scrapes + made.unanswered_scrapes:
        problems.append(
            f"{made.label}: the instances counted {scrapes} scrapes, the harness made "
            f"{made.scrapes} (and {made.unanswered_scrapes} without an answer)"
        )
    if made.server.harness[HEALTH_ROUTE]:
        problems.append(
            f"{made.label}: the instances counted {made.server.harness[HEALTH_ROUTE]} health "
            "checks the harness did not send"
        )
    return problems


def classes(statuses: Counter[str]) -> Counter[str]:
    """Counts by status folded into the report's classes."""
    folded: Counter[str] = Counter()
    for status, count in statuses.items():
        folded[status_class(status)] += count
    return folded


def rows(ledger: Ledger, boundaries: list[Boundary]) -> list[Row]:
    """One row per phase; phases whose boundary lacks a scrape share a row."""
    found: list[Row] = []
    first: Boundary | None = None
    phases: list[str] = []
    for boundary in boundaries:
        if first is not None and boundary.complete() is not None:
            label = " + ".join(LABELS.get(p, p) for p in phases)
            found.append(row(ledger, label, phases, first, boundary))
            phases = []
        if boundary.complete() is not None:
            first = boundary
        if first is not None:
            phases.append(boundary.phase)
    return found


def whole_run(ledger: Ledger, boundaries: list[Boundary], phases: list[str]) -> Row | None:
    """The run from the scrape before the first request to the one after the last."""
    first, last = boundaries[0], boundaries[-1]
    if first.complete() is None or last.complete() is None:
        return None
    return row(ledger, "whole run", phases, first, last)


def pair(clients: float | None, server: float | None, digits: int = 0) -> str:
    """A `clients / instances` cell."""

    def shown(value: float | None) -> str:
        return "-" if value is None else f"{value:.{digits}f}"

    return f"{shown(clients)} / {shown(server)}"


def percentile(values: list[float], fraction: float) -> float | None:
    """A simple percentile of a list of numbers; None for none."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] if ordered else None


def table(found: list[Row]) -> list[str]:
    """The Markdown table of both sides, one row per stretch."""
    lines = [
        "| phase | requests | "
        + " | ".join(CLASSES)
        + " | p50 ms | p99 ms | scrapes subtracted | apart | in flight | |",
        "|---|" + "---:|" * (len(CLASSES) + 6) + "---|",
    ]
    for made in found:
        server_classes = classes(made.server.statuses)
        quantiles = [bucket_quantile(made.server.buckets, q) for q in (0.5, 0.99)]
        cells = [
            made.label,
            pair(made.client_requests, made.server.requests),
            *(pair(made.clients[c], server_classes[c]) for c in CLASSES),
            *(
                pair(percentile(made.latencies, q), None if s is None else s * 1000, 1)
                for q, s in zip((0.5, 0.99), quantiles, strict=True)
            ),
            str(made.server.harness[SCRAPE_ROUTE]),
            str(abs(made.server.requests - made.client_requests)),
            str(made.in_flight),
            "DISAGREE" if made.problems else "agree",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def before_load(first: Boundary, health_checks: int) -> tuple[str, list[str]]:
    """What the instances had answered before the first scrape (the harness's own start-up
    and set-up, left out by counting from that scrape), and what does not add up."""
    scrapes = first.complete()
    if scrapes is None:
        return "", ["the scrape before the load failed: no figures from the instances"]
    health, others = 0, Counter[str]()
    for scrape in scrapes:
        for (route, status), count in scrape.requests.items():
            if route == HEALTH_ROUTE:
                health += count
            else:
                others[f"{route} {status}"] += count
    listed = ", ".join(f"{key} x{count}" for key, count in sorted(others.items()))
    text = (
        f"Before the load the instances had answered {health + sum(others.values())} requests, "
        f"left out by counting from the scrape taken then: {health} health checks (the harness "
        f"had {health_checks} answered while it waited for each instance to start) and the "
        f"set-up's {listed or 'none'}."
    )
    problems = []
    if health != health_checks:
        problems.append(
            f"before the load: the instances counted {health} health checks, the harness had "
            f"{health_checks} answered"
        )
    return text, problems


@dataclass
class Comparison:
    """Both sides of a run: the rows, the whole run, the set-up left out, what disagrees."""

    found: list[Row]
    whole: Row | None
    set_up: str
    problems: list[str]

    def lines(self) -> list[str]:
        """The report's section on the instances' figures, as Markdown lines."""
        lines = [
            "From both sides, clients / instances: the instances' figures are what their "
            "/metrics counted (blogapi_http_request_duration_seconds: its _count and "
            "buckets) between the scrapes of every instance "
            "taken as each phase began (and once more after the clients stopped), summed over "
            "instances, less the harness's own requests: its scrapes (counted on /metrics, "
            "the column below) and health checks (none during the load).",
            "",
            *table([*self.found, *([self.whole] if self.whole else [])]),
            "",
            "The instances' p50 and p99 are bucket estimates: linear within the histogram "
            "bucket the rank falls in, as Prometheus's histogram_quantile does, so off by up to "
            "that bucket's width (bounds 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500 ms, 1 s, "
            "…). They time the app from taking the request to returning its answer; the "
            "clients' also hold the wait for a free worker in gunicorn's queue and the network. "
            "`apart` is |instances - clients| in requests; `in flight` the client requests in "
            "flight at the row's two boundaries (sent before and answered after the scrape, or "
            "never answered), the most the two may be apart (bench/scale_agreement.py says "
            "why); the status classes are held to the same bound.",
            "",
            self.set_up,
            "",
        ]
        if self.problems:
            lines.append("**THE INSTANCES' METRICS DISAGREE WITH THE CLIENTS:**")
            lines += ["", *(f"- {problem}" for problem in self.problems)]
        else:
            lines.append(
                "The two sides agree: in every row, and over the whole run, the instances' "
                "count and the clients' are no further apart than the requests in flight."
            )
        return lines


def compare(
    ledger: Ledger, boundaries: list[Boundary], health_checks: int, phases: list[str]
) -> Comparison:
    """Set the instances' figures beside the clients' and check that they agree."""
    found = rows(ledger, boundaries)
    whole = whole_run(ledger, boundaries, phases)
    set_up, problems = before_load(boundaries[0], health_checks)
    for made in found:
        problems += made.problems
    if whole is None:
        problems.append("the scrape before or after the load failed: no whole-run figures")
    else:
        problems += whole.problems
    missing = [LABELS.get(b.phase, b.phase) for b in boundaries if b.complete() is None]
    if missing:
        set_up += (
            f" A scrape failed at the start of {', '.join(missing)}: that phase shares a row "
            "with the one before."
        )
    return Comparison(found, whole, set_up, problems)
