"""Which classes consoles read, and how the simulator answers each: served, known-empty, unknown.

    python -m amtsim.coverage tests/data/consoles/*.txt          # a Markdown table and totals
    python -m amtsim.coverage --json tests/data/consoles/*.txt

Each list file names the classes one console reads (``#`` lines are comments; the lists in
``tests/data/consoles`` come from the consoles' own sources, see ``scripts/console_classes.js``). The
survey asks a simulated device, over a real socket, to enumerate every class:

* **served**: instances come back;
* **known-empty**: an empty enumeration, as AMT answers for a class it knows but the machine lacks
  (Wi-Fi on a wired desktop, fans and sensors, no certificate yet);
* **unknown**: ``DestinationUnreachable``, the simulator does not know the class. Classes another
  part of the simulator is to serve are marked with their owner (:data:`OWNED_ELSEWHERE`).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from amtkit import exceptions as exc
from amtkit.client import Client

from .config import DeviceConfig
from .server import Simulator

__all__ = ["OWNED_ELSEWHERE", "ClassCoverage", "markdown", "read_list", "survey"]

OWNED_ELSEWHERE = {
    "AMT_AuditPolicyRule": "audit policy (events, issue 11)",
    "CIM_RecordLog": "the logs' parent class (events, issue 11)",
}

SERVED, KNOWN_EMPTY, UNKNOWN = "served", "known-empty", "unknown"


@dataclass(frozen=True)
class ClassCoverage:
    class_name: str
    verdict: str
    instances: int
    note: str = ""


def read_list(path: Path) -> list[str]:
    """Class names of a list file, one a line; ``#`` lines are comments."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def survey(client: Client, class_names: Iterable[str]) -> list[ClassCoverage]:
    """Enumerate each class on the device ``client`` talks to; one verdict per class."""
    rows = []
    for name in sorted(set(class_names)):
        note = OWNED_ELSEWHERE.get(name, "")
        try:
            count = len(client.enumerate(name))
        except exc.DestinationUnreachableFault:
            rows.append(ClassCoverage(name, UNKNOWN, 0, note))
            continue
        rows.append(ClassCoverage(name, SERVED if count else KNOWN_EMPTY, count, note))
    return rows


def markdown(rows: Sequence[ClassCoverage], lists: dict[str, set[str]]) -> str:
    """The survey as a Markdown table (one column per console list) with totals per list."""
    heads = list(lists)
    lines = ["| class | " + " | ".join(heads) + " | simulator | instances | note |",
             "|---|" + "---|" * len(heads) + "---|---|---|"]
    for row in rows:
        marks = " | ".join("x" if row.class_name in lists[head] else "" for head in heads)
        lines.append(f"| `{row.class_name}` | {marks} | {row.verdict} | {row.instances} | {row.note} |")
    lines.append("")
    for head in heads:
        verdicts = [row.verdict for row in rows if row.class_name in lists[head]]
        totals = ", ".join(f"{verdicts.count(v)} {v}" for v in (SERVED, KNOWN_EMPTY, UNKNOWN))
        lines.append(f"- {head}: {len(verdicts)} classes: {totals}")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m amtsim.coverage", description=__doc__.split("\n\n")[0])
    parser.add_argument("lists", nargs="+", type=Path, help="class list files (one class name a line)")
    parser.add_argument("--json", action="store_true", help="print the verdicts as JSON")
    args = parser.parse_args(argv)
    lists = {path.stem: set(read_list(path)) for path in args.lists}
    config = DeviceConfig(http_port=0, tls_port=None)
    with Simulator() as simulator:
        simulator.add_device(config)
        with Client(config.address, port=config.http_port, username=config.username,
                    password=config.password) as client:
            rows = survey(client, set().union(*lists.values()))
    if args.json:
        print(json.dumps([asdict(row) for row in rows], indent=1))
    else:
        sys.stdout.write(markdown(rows, lists))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
