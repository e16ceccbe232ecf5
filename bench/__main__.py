"""``python -m bench [--quick] [--repeat N] [--only NAME ...] [--json FILE] [--save NAME] [--compare OLD] [--list]``

Runs every registered benchmark (or those named: ``--only spine`` for an area, ``--only
spine.get`` for one) ``--repeat`` times, interleaved (all benchmarks once, then again), and
prints one table: each figure's median and range over the repetitions, the client CPU beside
time figures, the target and PASS/MISS. ``--json FILE`` and ``--save NAME`` (into
``bench/results/NAME.json``) write the run record (name, commit, date, machine, every
repetition's value); ``--compare OLD`` prints each figure's change against an earlier record
with its noise band (see :mod:`bench.compare`). The exit status is 0 whatever the figures
(targets are reported, never enforced), 1 when a benchmark failed to run, 2 for a usage error.

How to add a figure: see the :mod:`bench` package docstring and docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from . import defense, discovery, events, fleet, fuzz, httpreader, ider, legacy, load, sol, spine, transport
from .compare import compare_runs, format_comparison
from .framework import Benchmark, Row, Settings, load_average, machine_description
from .record import (
    RESULTS_DIR,
    BenchmarkError,
    Commit,
    RecordError,
    RunRecord,
    aggregate,
    format_table,
    now_utc,
    resolve,
)

BENCHMARKS: list[Benchmark] = [
    Benchmark("spine.get", spine.get_latency,
              "Client.get latency and client CPU vs a raw-socket baseline; HTTP requests per call"),
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
    Benchmark("hardening.fuzz", fuzz.figures,
              "mutation fuzzing of five surfaces (crashes, hangs; the full 100,000 per surface: python -m bench.fuzz)"),
    Benchmark("hardening.reader", httpreader.figures,
              "CPU per request read: amtkit.http.reader vs h11 (Content-Length, chunked, a dripped body)"),
    Benchmark("hardening.load", load.figures,
              "500 clients x 50 Gets (errors, p50/p99); a normal Get and simulator RSS under drip/pipeline/idle attack"),
    Benchmark("legacy.calls", legacy.figures,
              "per-call cost of the requests transport vs the built-in one, and of legacy SOAP (zeep) vs WS-Man"),
    Benchmark("sol.console", sol.figures,
              "SOL keystroke round trip (p50, p99) and console output throughput against the simulator"),
    Benchmark("fleet.jobs", fleet.jobs,
              "1,000 simulated machines (20-80 ms, 5% hung, 2% silent, 2% wrong password): power status, "
              "sequential ratio, quarantine, memory, kill -9 + resume, Dask"),
    Benchmark("transport.tls", transport.tls,
              "new pinned TLS client to first answer (resumed, full), steady TLS Get vs HTTP Get, client CPU per Get"),
    Benchmark("transport.cli", transport.cli_call,
              "amtkit power status HOST as a whole process vs python -c pass, alternating"),
    Benchmark("transport.fleet_tls", transport.fleet_tls,
              "fleet power status of 1,000 devices over TLS (own certificates, pin file) vs plain HTTP"),
    Benchmark("events.manager", events.figures,
              "alerts/s the manager stores from 1,000 simulated devices pushing at once (nothing lost or doubled, "
              "delay p50/p99); a full 390-record event log read"),
    # New areas join here: Benchmark("area.what", module.function, "one line: what it measures").
]


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description="amtkit performance benchmarks")
    parser.add_argument("--quick", action="store_true", help="smaller measurements, one repetition")
    parser.add_argument("--repeat", type=int, metavar="N",
                        help="repetitions of every benchmark (default 3, 1 with --quick); the median and "
                        "range over them are reported")
    parser.add_argument("--only", action="append", default=[], metavar="NAME",
                        help="run only this benchmark or area (repeatable); see --list")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the run record as JSON")
    parser.add_argument("--save", metavar="NAME", help=f"write the run record to {RESULTS_DIR.name}/NAME.json "
                        "(bench/results), naming the run NAME")
    parser.add_argument("--compare", metavar="OLD",
                        help="after the run, compare it with OLD (a results file or a saved name)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)
    if args.repeat is None:
        args.repeat = 1 if args.quick else 3
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.save is not None and (not args.save or "/" in args.save or args.save.startswith(".")):
        parser.error("--save takes a plain name (it becomes bench/results/NAME.json)")
    return args


def run_benchmarks(chosen: Sequence[Benchmark], settings: Settings,
                   repeat: int) -> tuple[list[Row], list[BenchmarkError]]:
    """Every chosen benchmark ``repeat`` times, interleaved so a busy moment on the machine hits all alike."""
    rows: list[Row] = []
    errors: list[BenchmarkError] = []
    failed: set[str] = set()
    for repetition in range(1, repeat + 1):
        for benchmark in chosen:
            if benchmark.name in failed:
                continue
            print(f"running {benchmark.name} ({repetition}/{repeat}) ...", end=" ", flush=True)
            started = time.perf_counter()
            try:
                rows.extend(benchmark.run(settings))
            except Exception as error:  # a broken benchmark must not hide the others' figures
                print("failed", flush=True)
                traceback.print_exc()
                errors.append(BenchmarkError(benchmark.name, f"{type(error).__name__}: {error}"))
                failed.add(benchmark.name)
                continue
            print(f"{time.perf_counter() - started:.1f} s", flush=True)
    return rows, errors


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
    old = None
    if args.compare is not None:
        try:
            old = RunRecord.read(resolve(args.compare))
        except RecordError as error:
            print(f"python -m bench: --compare: {error}", file=sys.stderr)
            return 2
    chosen = [b for b in BENCHMARKS if b.selected_by(args.only)]
    settings = Settings.for_run(args.quick)
    machine = machine_description()
    date = now_utc()
    print(f"amtkit bench{' (quick)' if settings.quick else ''}: {args.repeat} repetition(s), Python "
          f"{machine['python']}, {machine['cpus_usable']} usable CPUs, load average "
          f"{machine['load_average_1min']}, {machine['platform']}", flush=True)
    started = time.perf_counter()
    rows, errors = run_benchmarks(chosen, settings, args.repeat)
    elapsed = time.perf_counter() - started
    name = args.save or (args.json.stem if args.json is not None else "this run")
    record = RunRecord(name=name, date=date, commit=Commit.of_checkout(), machine=machine,
                       settings=asdict(settings), repeat=args.repeat, elapsed_seconds=elapsed,
                       figures=aggregate(rows), errors=errors, load_average_end=load_average())
    print()
    print(format_table(record.figures))
    print(f"\n{len(chosen)} benchmark(s) x {args.repeat} in {elapsed:.1f} s; load average now {record.load_average_end}")
    for failure in errors:
        print(f"FAILED {failure.benchmark}: {failure.error}")
    targets = [args.json] if args.json is not None else []
    if args.save is not None:
        targets.append(RESULTS_DIR / f"{args.save}.json")
    for path in targets:
        record.write(path)
        print(f"wrote {path}")
    if old is not None:
        print()
        print(format_comparison(old, record, compare_runs(old, record)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
