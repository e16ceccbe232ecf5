"""Compare two bench runs figure by figure, with a noise band: ``python -m bench.compare OLD NEW``.

``python -m bench --compare OLD`` does the same against the run it just made. OLD and NEW are
results files (``--json FILE``) or names saved with ``--save NAME`` (``bench/results/NAME.json``).

The noise band of a figure is the spread of its repetitions within each run (a run interleaves
its repetitions, so they share the machine's load). A change counts only when it stands out of
that noise, i.e. when both hold:

* the two runs' ranges ``[min, max]`` do not overlap, and
* the medians differ by more than the wider of the two ranges (the band).

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
    def band(self) -> float:
        """The noise band: the wider of the two runs' ranges."""
        assert self.old is not None and self.new is not None
        return max(self.old.width, self.new.width)

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


def compare_runs(old: RunRecord, new: RunRecord) -> list[Change]:
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
                              before.verdict if before else "", after.verdict if after else ""))
        if _cpu(before) is not None or _cpu(after) is not None:
            changes.append(Change(f"{either.label} [client CPU]", either.unit, _cpu(before), _cpu(after), "lower"))
    return changes


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
    args = parser.parse_args(argv)
    try:
        old, new = RunRecord.read(resolve(args.old)), RunRecord.read(resolve(args.new))
    except RecordError as error:
        print(f"python -m bench.compare: {error}", file=sys.stderr)
        return 2
    print(format_comparison(old, new, compare_runs(old, new)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
