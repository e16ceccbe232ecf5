"""A bench run as a record: each figure over its repetitions, and the run's name, commit, date and machine.

A benchmark returns :class:`~bench.framework.Row` objects, one per figure per repetition.
:func:`aggregate` folds the repetitions of each figure into a :class:`Figure` (all its values,
their median and range, the client CPU beside time figures, the target and its verdict), and
:class:`RunRecord` is what ``python -m bench --json FILE`` / ``--save NAME`` write and what
``--compare`` and ``python -m bench.report`` read back. The JSON is versioned by ``format``.
"""

from __future__ import annotations

import datetime as _dt
import json
import statistics
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .framework import ROOT, Row, Target, direction_of, number

FORMAT = 1
"""Version of the JSON layout written by :meth:`RunRecord.to_json`."""
RESULTS_DIR = ROOT / "bench" / "results"
"""Where ``--save NAME`` writes ``NAME.json`` and where ``--compare NAME`` looks."""


class RecordError(ValueError):
    """A results file that cannot be read as a bench run (wrong format, missing fields)."""


@dataclass(frozen=True)
class Spread:
    """Several measurements of one quantity: their median and range."""

    values: tuple[float, ...]

    def __post_init__(self) -> None:
        if not self.values:
            raise ValueError("a spread needs at least one value")

    @property
    def median(self) -> float:
        return float(statistics.median(self.values))

    @property
    def low(self) -> float:
        return min(self.values)

    @property
    def high(self) -> float:
        return max(self.values)

    @property
    def width(self) -> float:
        return self.high - self.low

    def overlaps(self, other: Spread) -> bool:
        return self.low <= other.high and other.low <= self.high

    def describe(self) -> str:
        """``median [low-high]``, or just the value when every repetition gave the same."""
        if self.width == 0:
            return number(self.median)
        return f"{number(self.median)} [{number(self.low)}-{number(self.high)}]"


@dataclass(frozen=True)
class Figure:
    """One figure over every repetition of a run: values, client CPU beside times, target and verdict."""

    benchmark: str
    metric: str
    unit: str
    values: Spread
    cpu: Spread | None = None
    target: Target | None = None
    note: str = ""
    better: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.benchmark, self.metric)

    @property
    def label(self) -> str:
        return f"{self.benchmark}: {self.metric.strip()}"

    @property
    def direction(self) -> str | None:
        return direction_of(self.better, self.target, self.unit)

    @property
    def runs_met(self) -> int:
        """Repetitions whose own value met the target (0 without a target)."""
        if self.target is None:
            return 0
        return sum(self.target.met_by(value) for value in self.values.values)

    @property
    def verdict(self) -> str:
        """PASS or MISS on the median (on every repetition for ``every_run`` targets); "" without a target."""
        if self.target is None:
            return ""
        if self.target.every_run:
            met = self.runs_met == len(self.values.values)
        else:
            met = self.target.met_by(self.values.median)
        return "PASS" if met else "MISS"

    def verdict_text(self) -> str:
        """The verdict, with how many repetitions met the target when they disagree: ``PASS 2/3``."""
        verdict, runs = self.verdict, len(self.values.values)
        if verdict and 0 < self.runs_met < runs:
            return f"{verdict} {self.runs_met}/{runs}"
        return verdict

    @classmethod
    def from_rows(cls, rows: Sequence[Row]) -> Figure:
        """Fold the repetitions of one figure; they must agree on unit and target."""
        first = rows[0]
        for row in rows[1:]:
            if row.key != first.key or row.unit != first.unit or row.target != first.target:
                raise ValueError(f"repetitions of {first.benchmark}: {first.metric!r} disagree on key, unit or target")
        cpus = [row.cpu for row in rows if row.cpu is not None]
        if cpus and len(cpus) != len(rows):
            raise ValueError(f"{first.metric!r}: client CPU reported in some repetitions only")
        return cls(first.benchmark, first.metric, first.unit, Spread(tuple(row.value for row in rows)),
                   Spread(tuple(cpus)) if cpus else None, first.target, rows[-1].note, first.better)

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {
            "benchmark": self.benchmark, "metric": self.metric, "unit": self.unit,
            "values": list(self.values.values), "median": self.values.median,
            "min": self.values.low, "max": self.values.high,
            "cpu": None if self.cpu is None else {
                "values": list(self.cpu.values), "median": self.cpu.median, "min": self.cpu.low, "max": self.cpu.high},
            "target": None if self.target is None else self.target.as_json(),
            "verdict": self.verdict or None, "note": self.note, "better": self.better, "direction": self.direction,
        }
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Figure:
        cpu = data.get("cpu")
        target = data.get("target")
        return cls(str(data["benchmark"]), str(data["metric"]), str(data["unit"]),
                   Spread(tuple(float(v) for v in data["values"])),
                   None if cpu is None else Spread(tuple(float(v) for v in cpu["values"])),
                   None if target is None else Target.from_json(target), str(data.get("note", "")),
                   data.get("better"))


def aggregate(rows: Iterable[Row]) -> list[Figure]:
    """One :class:`Figure` per (benchmark, metric), in the order the figures first appear."""
    grouped: dict[tuple[str, str], list[Row]] = {}
    for row in rows:
        grouped.setdefault(row.key, []).append(row)
    return [Figure.from_rows(group) for group in grouped.values()]


@dataclass(frozen=True)
class Commit:
    """The code a run measured: the commit, and whether the checkout had uncommitted changes."""

    sha: str | None
    dirty: bool | None

    @classmethod
    def of_checkout(cls, root: Path = ROOT) -> Commit:
        def git(*args: str) -> str | None:
            try:
                done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=10,
                                      check=False)
            except (OSError, subprocess.TimeoutExpired):
                return None
            return done.stdout.strip() if done.returncode == 0 else None

        sha = git("rev-parse", "HEAD")
        status = git("status", "--porcelain", "--untracked-files=no")
        return cls(sha, None if status is None else bool(status))

    def short(self) -> str:
        if self.sha is None:
            return "unknown commit"
        return self.sha[:10] + ("+changes" if self.dirty else "")


@dataclass(frozen=True)
class BenchmarkError:
    """A benchmark that raised instead of returning figures."""

    benchmark: str
    error: str


@dataclass(frozen=True)
class RunRecord:
    """Everything one ``python -m bench`` run measured, with what is needed to compare it later."""

    name: str
    date: str
    """When the run started, ISO 8601 in UTC."""
    commit: Commit
    machine: Mapping[str, object]
    settings: Mapping[str, object]
    repeat: int
    elapsed_seconds: float
    figures: list[Figure]
    errors: list[BenchmarkError] = field(default_factory=list)
    load_average_end: float | None = None

    def figure(self, benchmark: str, metric: str) -> Figure | None:
        return next((f for f in self.figures if f.key == (benchmark, metric)), None)

    def describe(self) -> str:
        """One line: name, commit, date, repetitions, load, time."""
        load = self.machine.get("load_average_1min")
        end = f" to {self.load_average_end}" if self.load_average_end is not None else ""
        quick = " quick," if self.settings.get("quick") else ""
        return (f"{self.name} ({self.commit.short()}, {self.date},{quick} {self.repeat} repetition(s), "
                f"load {load}{end}, {self.elapsed_seconds:.0f} s)")

    def to_json(self) -> dict[str, object]:
        return {
            "format": FORMAT, "name": self.name, "date": self.date,
            "commit": self.commit.sha, "dirty": self.commit.dirty,
            "machine": dict(self.machine), "settings": dict(self.settings), "repeat": self.repeat,
            "elapsed_seconds": round(self.elapsed_seconds, 2), "load_average_end": self.load_average_end,
            "figures": [f.to_json() for f in self.figures],
            "errors": [{"benchmark": e.benchmark, "error": e.error} for e in self.errors],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunRecord:
        if data.get("format") != FORMAT:
            raise RecordError(f"not a bench run record of format {FORMAT} (format: {data.get('format')!r})")
        try:
            return cls(
                name=str(data["name"]), date=str(data["date"]), commit=Commit(data["commit"], data["dirty"]),
                machine=dict(data["machine"]), settings=dict(data["settings"]), repeat=int(data["repeat"]),
                elapsed_seconds=float(data["elapsed_seconds"]),
                figures=[Figure.from_json(f) for f in data["figures"]],
                errors=[BenchmarkError(str(e["benchmark"]), str(e["error"])) for e in data.get("errors", [])],
                load_average_end=data.get("load_average_end"),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise RecordError(f"incomplete bench run record: {error!r}") from error

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(), indent=1) + "\n", encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> RunRecord:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise RecordError(f"cannot read {path}: {error.strerror or error}") from error
        except json.JSONDecodeError as error:
            raise RecordError(f"{path} is not JSON: {error}") from error
        if not isinstance(data, dict):
            raise RecordError(f"{path} is not a bench run record")
        return cls.from_json(data)


def now_utc() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def resolve(reference: str) -> Path:
    """A results file from a path, or from a name saved with ``--save`` (``bench/results/NAME.json``)."""
    path = Path(reference)
    if path.exists() or path.suffix == ".json":
        return path
    return RESULTS_DIR / f"{reference}.json"


# -- the terminal table ----------------------------------------------------------------------------

def format_table(figures: Sequence[Figure]) -> str:
    """The figures as a plain-text table: median [range], client CPU, target and verdict, note."""
    header = ("benchmark", "figure", "value [range]", "unit", "client CPU", "target", "", "note")
    lines = [header] + [
        (f.benchmark, f.metric, f.values.describe(), f.unit, "" if f.cpu is None else f.cpu.describe(),
         str(f.target or ""), f.verdict_text(), f.note)
        for f in figures
    ]
    right_aligned = {2, 4}
    widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
    rendered = []
    for index, line in enumerate(lines):
        cells = [cell.rjust(widths[i]) if i in right_aligned else cell.ljust(widths[i])
                 for i, cell in enumerate(line[:-1])]
        rendered.append("  ".join([*cells, line[-1]]).rstrip())
        if index == 0:
            rendered.append("  ".join("-" * width for width in widths) + "  ----")
    return "\n".join(rendered)


def rows_table(rows: Iterable[Row]) -> str:
    """A table of one repetition's rows (what ``python -m bench.<area>`` prints when run alone)."""
    return format_table(aggregate(rows))
