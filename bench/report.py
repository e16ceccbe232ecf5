"""The figures of a saved run as Markdown, and the generated block of docs/benchmarks.md.

::

    python -m bench --save baseline-2026-12-02             # measure; writes bench/results/baseline-2026-12-02.json
    python -m bench.report baseline-2026-12-02             # print the Markdown tables
    python -m bench.report baseline-2026-12-02 --update docs/benchmarks.md

``--update`` rewrites what lies between the two markers in the document::

    <!-- bench:figures bench/results/NAME.json -->
    ...generated...
    <!-- /bench:figures -->

and writes the results file's path into the opening marker, so a test can regenerate the block
from the committed results and fail when the document was edited by hand or not regenerated.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from .framework import ROOT, number
from .record import Figure, RecordError, RunRecord, resolve

BEGIN = "<!-- bench:figures {path} -->"
END = "<!-- /bench:figures -->"
DOC_ANCHOR = re.compile(r"docs/benchmarks\.md#([\w-]+)")
BLOCK = re.compile(r"<!-- bench:figures (?P<path>\S+) -->\n.*?<!-- /bench:figures -->", re.DOTALL)


class DocumentError(ValueError):
    """The document has no generated block (or more than one)."""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").strip()


def _linked(source: str) -> str:
    """A target's source with its docs/benchmarks.md#anchor made a link (the table lives in that document)."""
    return DOC_ANCHOR.sub(lambda m: f"[{m.group(0)}](#{m.group(1)})", _cell(source))


def _range(figure: Figure) -> str:
    spread = figure.values
    return number(spread.low) if spread.width == 0 else f"{number(spread.low)} to {number(spread.high)}"


def figures_table(figures: Sequence[Figure]) -> str:
    lines = ["| benchmark | figure | median | range | unit | client CPU | target | verdict |",
             "| --- | --- | ---: | ---: | --- | ---: | --- | --- |"]
    for f in figures:
        cpu = "" if f.cpu is None else f"{number(f.cpu.median)} {f.unit}"
        lines.append(f"| `{f.benchmark}` | {_cell(f.metric)} | {number(f.values.median)} | {_range(f)} | {f.unit} "
                     f"| {cpu} | {_cell(str(f.target or ''))} | {f.verdict_text()} |")
    return "\n".join(lines)


def targets_table(figures: Sequence[Figure]) -> str:
    lines = ["| figure | target | where the limit comes from |", "| --- | --- | --- |"]
    for f in figures:
        if f.target is not None:
            every = " (every run)" if f.target.every_run else ""
            lines.append(f"| `{f.benchmark}` {_cell(f.metric)} | {_cell(str(f.target))} {f.unit}{every} "
                         f"| {_linked(f.target.source)} |")
    return "\n".join(lines)


def markdown(record: RunRecord) -> str:
    """The generated part of the document: where the figures come from, the figures, the targets."""
    machine = record.machine
    errors = "".join(f"\n\n**{e.benchmark} failed in this run:** {_cell(e.error)}" for e in record.errors)
    return (
        f"Run `{record.name}`: {record.repeat} repetitions of every benchmark, commit "
        f"`{record.commit.short()}`, {record.date}; Python {machine.get('python')} on {machine.get('platform')}, "
        f"{machine.get('cpus_usable')} usable CPUs, 1-minute load average {machine.get('load_average_1min')} "
        f"at the start and {record.load_average_end} at the end. The whole run took "
        f"{record.elapsed_seconds:.0f} s. Median and range are over the repetitions; client CPU is the "
        f"median of the client's CPU per call, in the figure's unit.{errors}\n\n"
        f"{figures_table(record.figures)}\n\n"
        f"Targets, and where each limit comes from:\n\n{targets_table(record.figures)}\n"
    )


def _relative(path: Path) -> str:
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return path.as_posix()


def block(record: RunRecord, source: Path) -> str:
    return f"{BEGIN.format(path=_relative(source))}\n{markdown(record)}{END}"


def update(document: str, record: RunRecord, source: Path) -> str:
    """``document`` with its generated block replaced by the figures of ``record`` (read from ``source``)."""
    found = BLOCK.findall(document)
    if len(found) != 1:
        raise DocumentError(f"expected one generated block ({BEGIN.format(path='FILE')} ... {END}), "
                            f"found {len(found)}")
    return BLOCK.sub(lambda _: block(record, source), document)


def block_source(document: str) -> Path:
    """The results file the document's generated block says it was made from."""
    match = BLOCK.search(document)
    if match is None:
        raise DocumentError("no generated block in the document")
    return ROOT / match.group("path")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.report", description=__doc__.splitlines()[0])
    parser.add_argument("results", help="results file or saved name (bench/results/NAME.json)")
    parser.add_argument("--update", type=Path, metavar="DOC",
                        help="rewrite the generated block of DOC (docs/benchmarks.md) instead of printing")
    args = parser.parse_args(argv)
    source = resolve(args.results)
    try:
        record = RunRecord.read(source)
        if args.update is None:
            print(markdown(record), end="")
            return 0
        args.update.write_text(update(args.update.read_text(encoding="utf-8"), record, source), encoding="utf-8")
    except (RecordError, DocumentError, OSError) as error:
        print(f"python -m bench.report: {error}", file=sys.stderr)
        return 2
    print(f"updated {args.update} from {_relative(source)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
