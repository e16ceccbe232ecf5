"""The harness every benchmark shares: sizes, result rows, targets, table and JSON output."""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import platform
import resource
import statistics
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
"""The project root: helper processes run ``python -m bench.<helper>`` from here."""


@dataclass(frozen=True)
class Settings:
    """How big each measurement is. ``--quick`` trades precision for a run under 15 s."""

    quick: bool = False
    calls: int = 2000
    """Steady-state calls measured per latency figure."""
    warmup: int = 200
    """Calls made (and thrown away) before measuring: connection set up, nonce obtained, caches warm."""
    rounds: int = 4
    """Latency calls are split into this many alternating amtkit/baseline blocks, so drift hits both."""
    duration: float = 3.0
    """Seconds of load for throughput figures (after their own ramp-up)."""
    ramp_up: float = 0.5
    connections: int = 8
    """Kept-alive connections the load generator drives at once."""

    @classmethod
    def for_run(cls, quick: bool) -> Settings:
        if quick:
            return cls(quick=True, calls=600, warmup=100, rounds=2, duration=1.5, ramp_up=0.3)
        return cls()


@dataclass(frozen=True)
class Target:
    """A goal a figure is compared against: ``value <= limit`` or ``value >= limit``."""

    op: str
    limit: float

    def __post_init__(self) -> None:
        if self.op not in ("<=", ">="):
            raise ValueError(f"target operator must be <= or >=, not {self.op!r}")

    def met_by(self, value: float) -> bool:
        return value <= self.limit if self.op == "<=" else value >= self.limit

    def __str__(self) -> str:
        return f"{self.op} {_number(self.limit)}"


@dataclass(frozen=True)
class Row:
    """One reported figure. Rows with a target get PASS or MISS; the others are context."""

    benchmark: str
    metric: str
    value: float
    unit: str
    target: Target | None = None
    note: str = ""

    @property
    def verdict(self) -> str:
        if self.target is None:
            return ""
        return "PASS" if self.target.met_by(self.value) else "MISS"

    def as_json(self) -> dict[str, object]:
        data = asdict(self)
        data["target"] = None if self.target is None else {"op": self.target.op, "limit": self.target.limit}
        data["verdict"] = self.verdict or None
        return data


@dataclass(frozen=True)
class Benchmark:
    """A named measurement. ``name`` is ``area.what`` (``spine.get``); ``--only area`` runs a whole area."""

    name: str
    run: Callable[[Settings], list[Row]]
    summary: str

    @property
    def area(self) -> str:
        return self.name.split(".", 1)[0]

    def selected_by(self, only: Sequence[str]) -> bool:
        return not only or any(choice in (self.name, self.area) for choice in only)


@dataclass
class Latencies:
    """Per-call wall times of one kind of call, accumulated over several blocks."""

    seconds: list[float] = field(default_factory=list)

    def add(self, samples: Sequence[float]) -> None:
        self.seconds.extend(samples)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.seconds)

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.seconds)
        index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
        return ordered[index]

    def describe_ms(self) -> str:
        return (f"mean {self.mean * 1e3:.3f} ms, p99 {self.percentile(0.99) * 1e3:.3f} ms, "
                f"n={len(self.seconds)}")


def cpu_seconds() -> float:
    """User + system CPU time this process has used (all threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# -- CPU placement -------------------------------------------------------------------------------

def usable_cpus() -> list[int]:
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


@dataclass(frozen=True)
class Placement:
    """Which CPU the simulator gets and which the client side gets (None: leave to the scheduler)."""

    server_cpu: int | None
    client_cpu: int | None

    @classmethod
    def choose(cls) -> Placement:
        cpus = usable_cpus()
        if not hasattr(os, "sched_setaffinity") or not cpus:
            return cls(None, None)
        if len(cpus) == 1:
            return cls(cpus[0], None)
        return cls(cpus[-1], cpus[0])

    def describe(self) -> str:
        if self.server_cpu is None:
            return "unpinned"
        client = "unpinned" if self.client_cpu is None else f"CPU {self.client_cpu}"
        return f"simulator on CPU {self.server_cpu}, client {client}"


@contextlib.contextmanager
def pinned(cpu: int | None) -> Iterator[None]:
    """Run the calling thread on one CPU for the duration, then restore its affinity."""
    if cpu is None or not hasattr(os, "sched_setaffinity"):
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {cpu})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


# -- output --------------------------------------------------------------------------------------

def _number(value: float) -> str:
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 100:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.3g}" if magnitude < 10 else f"{value:.2f}"
    return f"{value:.3f}"


def format_table(rows: Sequence[Row]) -> str:
    header = ("benchmark", "figure", "value", "unit", "target", "", "note")
    lines = [header] + [
        (row.benchmark, row.metric, _number(row.value), row.unit, str(row.target or ""), row.verdict,
         row.note)
        for row in rows
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
    rendered = []
    for index, line in enumerate(lines):
        cells = [
            cell.rjust(widths[i]) if i == 2 else cell.ljust(widths[i]) for i, cell in enumerate(line[:-1])
        ]
        rendered.append("  ".join([*cells, line[-1]]).rstrip())
        if index == 0:
            rendered.append("  ".join("-" * width for width in widths) + "  ----")
    return "\n".join(rendered)


def machine_description() -> dict[str, object]:
    return {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus_usable": len(usable_cpus()),
        "load_average_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
    }


def write_json(path: Path, rows: Sequence[Row], settings: Settings, elapsed: float) -> None:
    document = {
        "generated": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_description(),
        "settings": asdict(settings),
        "elapsed_seconds": round(elapsed, 2),
        "rows": [row.as_json() for row in rows],
    }
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
