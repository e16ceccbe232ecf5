"""What every benchmark shares: sizes, targets, result rows, timing helpers, CPU placement, the machine."""

from __future__ import annotations

import contextlib
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import KW_ONLY, asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
"""The project root: helper processes run ``python -m bench.<helper>`` from here."""


@dataclass(frozen=True)
class Settings:
    """How big each measurement (one repetition of a benchmark) is. ``--quick`` trades precision for speed."""

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


TIME_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}
"""Units of time a figure may be reported in (seconds per unit). Only time figures carry client CPU."""
_LOWER_IS_BETTER_UNITS = {*TIME_UNITS, "MB", "KB", "GB"}


def goal(issue: int, text: str) -> str:
    """Source of a target that is an issue's goal: ``goal(3, "lockout check under 10 ms")``."""
    return f"issue #{issue} goal: {text}"


def minimum(anchor: str, text: str) -> str:
    """Source of a target that is a protocol minimum argued in docs/benchmarks.md under ``#anchor``."""
    return f"protocol minimum ({text}), argued in docs/benchmarks.md#{anchor}"


@dataclass(frozen=True)
class Target:
    """A goal a figure is judged against: ``value <= limit`` or ``value >= limit``.

    The limit is an independent number: an issue's goal or a protocol minimum argued in the docs,
    never derived from the quantity being measured (a target computed by the same formula as the
    figure passes by construction). ``source`` says where it comes from; build it with
    :func:`goal` or :func:`minimum`. ``every_run``: the target must hold in each repetition, not
    only for the median (for correctness counts, where one bad run is a failure).
    """

    op: str
    limit: float
    source: str
    every_run: bool = False

    def __post_init__(self) -> None:
        if self.op not in ("<=", ">="):
            raise ValueError(f"target operator must be <= or >=, not {self.op!r}")
        if not self.source.strip():
            raise ValueError("a target needs a source: the issue's goal or a protocol minimum (see goal(), minimum())")

    @classmethod
    def at_most(cls, limit: float, source: str, *, every_run: bool = False) -> Target:
        return cls("<=", limit, source, every_run)

    @classmethod
    def at_least(cls, limit: float, source: str, *, every_run: bool = False) -> Target:
        return cls(">=", limit, source, every_run)

    def met_by(self, value: float) -> bool:
        return value <= self.limit if self.op == "<=" else value >= self.limit

    def as_json(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Target:
        return cls(str(data["op"]), float(data["limit"]), str(data["source"]), bool(data.get("every_run", False)))

    def __str__(self) -> str:
        return f"{self.op} {number(self.limit)}"


@dataclass(frozen=True)
class Row:
    """One figure as one repetition of a benchmark measured it.

    ``cpu``: for a figure in a unit of time that times client code, the CPU the client spent per
    call in the same unit (the measuring process's ``getrusage``, or what a child process reports),
    so the wall time never hides the client's own cost. ``better``: ``"lower"`` or ``"higher"``
    for ``--compare``; by default taken from the target, else from the unit (times and memory:
    lower; rates ``/s``: higher), else none (a change is then just "changed").
    """

    benchmark: str
    metric: str
    value: float
    unit: str
    target: Target | None = None
    note: str = ""
    _: KW_ONLY
    cpu: float | None = None
    better: str | None = None

    def __post_init__(self) -> None:
        if self.cpu is not None and self.unit not in TIME_UNITS:
            raise ValueError(f"{self.metric!r}: client CPU goes beside times only ({', '.join(TIME_UNITS)}), "
                             f"not {self.unit!r}; report CPU per unit of work as its own row")
        if self.better not in (None, "lower", "higher"):
            raise ValueError(f"better must be 'lower' or 'higher', not {self.better!r}")

    @property
    def key(self) -> tuple[str, str]:
        return (self.benchmark, self.metric)

    @property
    def direction(self) -> str | None:
        """Which way is an improvement: ``"lower"``, ``"higher"`` or None (no preference)."""
        return direction_of(self.better, self.target, self.unit)


def direction_of(better: str | None, target: Target | None, unit: str) -> str | None:
    if better is not None:
        return better
    if target is not None:
        return "lower" if target.op == "<=" else "higher"
    if unit in _LOWER_IS_BETTER_UNITS:
        return "lower"
    if unit.endswith("/s"):
        return "higher"
    return None


@dataclass(frozen=True)
class Benchmark:
    """A named measurement. ``name`` is ``area.what`` (``spine.get``); ``--only area`` runs a whole area.

    ``run`` is called once per repetition (``--repeat``) and returns that repetition's rows; the
    harness takes the median and range of each figure over the repetitions.
    """

    name: str
    run: Callable[[Settings], list[Row]]
    summary: str

    @property
    def area(self) -> str:
        return self.name.split(".", 1)[0]

    def selected_by(self, only: Sequence[str]) -> bool:
        return not only or any(choice in (self.name, self.area) for choice in only)


def in_unit(seconds: float, unit: str) -> float:
    """``seconds`` expressed in a unit of :data:`TIME_UNITS`."""
    return seconds / TIME_UNITS[unit]


@dataclass
class Latencies:
    """Per-call wall times of one kind of call and the CPU this process spent on them, over several blocks."""

    seconds: list[float] = field(default_factory=list)
    cpu_seconds: float = 0.0

    def add(self, samples: Sequence[float]) -> None:
        self.seconds.extend(samples)

    def measure(self, call: Callable[[], object], count: int) -> None:
        """Make ``count`` calls, timing each (wall) and the whole block (CPU of this process)."""
        samples = []
        clock = time.perf_counter
        cpu_before = cpu_seconds()
        for _ in range(count):
            start = clock()
            call()
            samples.append(clock() - start)
        self.cpu_seconds += cpu_seconds() - cpu_before
        self.add(samples)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.seconds)

    @property
    def cpu_per_call(self) -> float:
        """Mean CPU seconds per call (getrusage has no per-call resolution, so this is a mean)."""
        return self.cpu_seconds / len(self.seconds)

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.seconds)
        index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
        return ordered[index]

    def describe_ms(self) -> str:
        return (f"mean {self.mean * 1e3:.3f} ms, p99 {self.percentile(0.99) * 1e3:.3f} ms, "
                f"n={len(self.seconds)}")

    def row(self, benchmark: str, metric: str, unit: str = "ms", target: Target | None = None,
            note: str = "") -> Row:
        """The median (p50) wall time per call in ``unit``, with the mean client CPU per call beside it."""
        return Row(benchmark, metric, in_unit(self.percentile(0.5), unit), unit, target, note,
                   cpu=in_unit(self.cpu_per_call, unit))


def timed(call: Callable[[], object], count: int) -> Latencies:
    """Time ``count`` calls of ``call``: per-call wall times and the CPU this process spent."""
    latencies = Latencies()
    latencies.measure(call, count)
    return latencies


def cpu_seconds() -> float:
    """User + system CPU time this process has used (all threads), from the kernel's precise per-process
    clock (``time.process_time``: ``getrusage`` counts in scheduler ticks, too coarse for short calls)."""
    return time.process_time()


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


# -- numbers and the machine ------------------------------------------------------------------

def number(value: float) -> str:
    """A figure written with as many digits as a noisy measurement deserves."""
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 100:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.3g}" if magnitude < 10 else f"{value:.2f}"
    return f"{value:.3f}"


def load_average() -> float | None:
    return round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None


def machine_description() -> dict[str, object]:
    return {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus_usable": len(usable_cpus()),
        "load_average_1min": load_average(),
    }
