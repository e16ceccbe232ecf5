"""Compare two bench runs figure by figure, with a noise band: ``python -m bench.compare OLD NEW``.

``python -m bench --compare OLD`` does the same against the run it just made. OLD and NEW are
results files (``--json FILE``) or names saved with ``--save NAME`` (``bench/results/NAME.json``).

The noise band of a figure is the spread of its repetitions within each run (a run interleaves
its repetitions, so they share the machine's load). A change counts only when it stands out of
that noise, i.e. when both hold:

* the two runs' ranges ``[min, max]`` do not overlap, and
* the medians differ by more than the band: the wider of the two ranges, and for a quantity that
  varies at all (a time, a rate) at least :data:`NOISE_FLOOR` of the old median, because
  repetitions within one run share that run's load and so understate how much two runs at
  different times differ. A quantity whose repetitions all agree in both runs (a count of round
  trips) is exact: its band is 0 and any change counts.

Otherwise the figure is **within noise**. A change that counts is **better** or **worse** by the
figure's direction (times and memory: lower is better; rates: higher; a target says which), or
just **changed** when a figure has no direction; **same** when every value is identical. With a single repetition on either side there
is no band: any difference is marked with ``?`` (real for exact counts such as round trips, a
hint only for times). Client CPU beside a time figure is compared the same way, on its own line.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from .framework import number
from .record import Figure, RecordError, RunRecord, Spread, resolve

WITHIN_NOISE = "within noise"
SAME = "same"
NOISE_FLOOR = 0.10
"""Least band of a varying quantity, as a fraction of its old median (asv's default factor of 1.1)."""
LOAD_RATIO_WARNING = 1.5
"""Warn when one run's mean load average is this many times the other's."""


@dataclass(frozen=True)
class Change:
    """One quantity (a figure's value, or its client CPU) in an old and a new run."""

    label: str
    unit: str
    old: Spread | None
    new: Spread | None
    direction: str | None
    old_verdict: str = ""
    new_verdict: str = ""
    floor: float = NOISE_FLOOR

    @property
    def delta(self) -> float:
        assert self.old is not None and self.new is not None
        return self.new.median - self.old.median

    @property
    def relative(self) -> float | None:
        """The change of the median as a fraction of the old median (None when the old median is 0)."""
        if self.old is None or self.new is None or self.old.median == 0:
            return None
        return self.delta / abs(self.old.median)

    @property
    def exact(self) -> bool:
        """Every repetition of both runs gave the same value within its run: a count, not a measurement."""
        assert self.old is not None and self.new is not None
        return self.old.width == 0 and self.new.width == 0 and self.banded

    @property
    def band(self) -> float:
        """The noise band: the wider of the two ranges, at least ``floor`` of the old median unless exact."""
        assert self.old is not None and self.new is not None
        widest = max(self.old.width, self.new.width)
        if self.exact or (not self.banded and widest == 0):
            return widest
        return max(widest, self.floor * abs(self.old.median))

    @property
    def banded(self) -> bool:
        """Both runs have at least two repetitions, so there is a range to judge by."""
        return self.old is not None and self.new is not None and min(len(self.old.values), len(self.new.values)) > 1

    @property
    def status(self) -> str:
        if self.old is None:
            return "new"
        if self.new is None:
            return "gone"
        if self.delta == 0 and self.band == 0:
            return SAME
        if self.delta == 0 or self.old.overlaps(self.new) or abs(self.delta) <= self.band:
            return WITHIN_NOISE
        if self.direction is None:
            word = "changed"
        else:
            improved = self.delta < 0 if self.direction == "lower" else self.delta > 0
            word = "better" if improved else "worse"
        return word if self.banded else word + "?"


def _value(figure: Figure | None) -> Spread | None:
    return None if figure is None else figure.values


def _cpu(figure: Figure | None) -> Spread | None:
    return None if figure is None else figure.cpu


def not_run(old: RunRecord, new: RunRecord) -> list[str]:
    """Benchmarks the old run has figures of and the new run did not run at all (``--only``)."""
    ran = {f.benchmark for f in new.figures} | {e.benchmark for e in new.errors}
    return sorted({f.benchmark for f in old.figures} - ran)


def compare_runs(old: RunRecord, new: RunRecord, floor: float = NOISE_FLOOR) -> list[Change]:
    """Every figure of either run, value then client CPU: the new run's order, then the figures the new
    run lost (of benchmarks it ran; benchmarks it did not run at all are left out, see :func:`not_run`)."""
    old_by_key = {f.key: f for f in old.figures}
    new_keys = {f.key for f in new.figures}
    skipped = set(not_run(old, new))
    pairs: list[tuple[Figure | None, Figure | None]] = [(old_by_key.get(f.key), f) for f in new.figures]
    pairs += [(f, None) for f in old.figures if f.key not in new_keys and f.benchmark not in skipped]
    changes = []
    for before, after in pairs:
        either = after or before
        assert either is not None
        changes.append(Change(either.label, either.unit, _value(before), _value(after), either.direction,
                              before.verdict if before else "", after.verdict if after else "", floor))
        if _cpu(before) is not None or _cpu(after) is not None:
            changes.append(Change(f"{either.label} [client CPU]", either.unit, _cpu(before), _cpu(after), "lower",
                                  floor=floor))
    return changes


def _mean_load(record: RunRecord) -> float | None:
    loads = [x for x in (record.machine.get("load_average_1min"), record.load_average_end)
             if isinstance(x, (int, float))]
    return sum(loads) / len(loads) if loads else None


def load_warning(old: RunRecord, new: RunRecord) -> str | None:
    """A warning when the two runs ran under very different load (their repetitions cannot show that)."""
    a, b = _mean_load(old), _mean_load(new)
    if a is None or b is None or min(a, b) <= 0:
        return None
    if max(a, b) / min(a, b) < LOAD_RATIO_WARNING:
        return None
    return (f"load differed (old {a:.1f}, new {b:.1f} on average): times are less comparable than their "
            "bands say; repeat the runs under similar load before trusting a better or worse time")


def _change_text(change: Change) -> str:
    if change.old is None or change.new is None:
        return ""
    relative = change.relative
    if relative is None:
        return f"{change.delta:+.3g}"
    return f"{relative * 100:+.1f}%"


def _verdicts(change: Change) -> str:
    if change.old_verdict == change.new_verdict:
        return change.new_verdict
    return f"{change.old_verdict or '-'} -> {change.new_verdict or '-'}"


def format_comparison(old: RunRecord, new: RunRecord, changes: Sequence[Change]) -> str:
    header = ("figure", "unit", "old median [range]", "new median [range]", "change", "band", "", "target")
    lines = [header]
    for c in changes:
        lines.append((
            c.label, c.unit, c.old.describe() if c.old else "-", c.new.describe() if c.new else "-",
            _change_text(c), number(c.band) if c.old and c.new else "", c.status, _verdicts(c),
        ))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
    table = []
    for index, line in enumerate(lines):
        table.append("  ".join([*(cell.ljust(widths[i]) for i, cell in enumerate(line[:-1])), line[-1]]).rstrip())
        if index == 0:
            table.append("  ".join("-" * w for w in widths) + "  ------")
    counts: dict[str, int] = {}
    for c in changes:
        counts[c.status] = counts.get(c.status, 0) + 1
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items(), key=lambda kv: -kv[1]))
    notes = [f"old: {old.describe()}", f"new: {new.describe()}", "", *table, "", f"{len(changes)} compared: {summary}"]
    if warning := load_warning(old, new):
        notes.append(f"warning: {warning}")
    if skipped := not_run(old, new):
        notes.append(f"not run this time: {', '.join(skipped)}")
    if any(c.status.endswith("?") for c in changes):
        notes.append("?: one repetition on a side, so no noise band; run with --repeat 3 or more to judge times")
    if old.settings.get("quick") != new.settings.get("quick"):
        notes.append("note: one run is --quick and the other is not; sizes differ, so figures may not be comparable")
    return "\n".join(notes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.compare", description=__doc__.splitlines()[0])
    parser.add_argument("old", help="results file or saved name (bench/results/NAME.json)")
    parser.add_argument("new", help="results file or saved name")
    parser.add_argument("--noise-floor", type=float, default=NOISE_FLOOR * 100, metavar="PCT",
                        help=f"least band of a varying figure, in percent of its old median (default "
                        f"{NOISE_FLOOR * 100:.0f})")
    args = parser.parse_args(argv)
    try:
        old, new = RunRecord.read(resolve(args.old)), RunRecord.read(resolve(args.new))
    except RecordError as error:
        print(f"python -m bench.compare: {error}", file=sys.stderr)
        return 2
    print(format_comparison(old, new, compare_runs(old, new, args.noise_floor / 100)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
