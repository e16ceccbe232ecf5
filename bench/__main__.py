"""``python -m bench [--quick] [--only NAME ...] [--json FILE] [--list]``

Runs every registered benchmark (or those named: ``--only spine`` for an area, ``--only
spine.get`` for one), prints one table, and optionally writes the rows as JSON. The exit status
is 0 whatever the figures: targets are reported (PASS/MISS), never enforced.

To add a benchmark: write ``bench/<area>.py`` with functions ``(Settings) -> list[Row]`` and
append :class:`~bench.framework.Benchmark` entries to ``BENCHMARKS`` below.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from . import defense, discovery, ider, spine
from .framework import Benchmark, Row, Settings, format_table, machine_description, write_json

BENCHMARKS: list[Benchmark] = [
    Benchmark("spine.get", spine.get_latency,
              "Client.get latency vs a raw-socket baseline; HTTP requests per call counted by the simulator"),
    Benchmark("spine.throughput", spine.throughput,
              "authenticated Gets per second the simulator serves on one core"),
    Benchmark("spine.layers", spine.layers,
              "CPU per call of the sans-IO layers of a Get (envelope, digest, parsing; simulator side too)"),
    Benchmark("defense.apply", defense.figures,
              "System Defense apply round trips, 20-filter apply time, lockout check on an 80-filter set"),
    Benchmark("discovery.scan", discovery.scan,
              "a /22 with 500 simulated devices (time, all found, no false positives); inventory round trips"),
    Benchmark("ider.transfer", ider.transfer,
              "IDE-R throughput serving a 256 MB image to the simulator; console peak memory at 64 vs 256 MB"),
    # Later areas join here, e.g.:
    #   defense.apply      System Defense apply round trips, 20-filter apply time, lockout check on 80 filters
    #   ider.transfer      IDE-R throughput of a 256 MB image, console peak memory
]


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description="amtkit performance benchmarks")
    parser.add_argument("--quick", action="store_true", help="smaller measurements (whole run under 15 s)")
    parser.add_argument("--only", action="append", default=[], metavar="NAME",
                        help="run only this benchmark or area (repeatable); see --list")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    if args.list:
        for benchmark in BENCHMARKS:
            print(f"{benchmark.name:<20} {benchmark.summary}")
        return 0
    known = {b.name for b in BENCHMARKS} | {b.area for b in BENCHMARKS}
    unknown = [name for name in args.only if name not in known]
    if unknown:
        print(f"no benchmark named {', '.join(unknown)} (known: {', '.join(sorted(known))})", file=sys.stderr)
        return 2
    chosen = [b for b in BENCHMARKS if b.selected_by(args.only)]
    settings = Settings.for_run(args.quick)
    machine = machine_description()
    print(f"amtkit bench{' (quick)' if settings.quick else ''}: Python {machine['python']}, "
          f"{machine['cpus_usable']} usable CPUs, load average {machine['load_average_1min']}, "
          f"{machine['platform']}", flush=True)
    started = time.perf_counter()
    rows: list[Row] = []
    for benchmark in chosen:
        print(f"running {benchmark.name} ...", flush=True)
        rows.extend(benchmark.run(settings))
    elapsed = time.perf_counter() - started
    print()
    print(format_table(rows))
    print(f"\n{len(chosen)} benchmark(s) in {elapsed:.1f} s")
    if args.json is not None:
        write_json(args.json, rows, settings, elapsed)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
