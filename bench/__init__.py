"""amtkit's performance benchmarks: ``python -m bench`` from the project root.

Layout, so later areas can add theirs without touching the harness:

* :mod:`bench.framework`: :class:`~bench.framework.Settings` (full or ``--quick`` sizes),
  :class:`~bench.framework.Row` (one figure with its unit, optional target and note),
  :class:`~bench.framework.Benchmark` (a named function returning rows), the table and JSON output;
* :mod:`bench.simproc`: a simulator in a separate process (its own GIL, optionally pinned to
  one CPU) whose device counters and CPU time the bench reads between measurements;
* :mod:`bench.rawhttp`: the bare-socket baseline: a pre-signed request on a kept-alive
  connection, reply read until the last chunk;
* :mod:`bench.loadgen`: a load generator process driving several such connections at once;
* :mod:`bench.spine`: issue 2's figures (Get latency against the baseline, round trips
  per call, simulator requests per second on one core, CPU per sans-IO layer);
* :mod:`bench.__main__`: the command line and ``BENCHMARKS``, the list new benchmarks join.

Only public tools measure: :func:`time.perf_counter`, :func:`resource.getrusage`, subprocesses.
Figures are reported against targets, never asserted; tests do not run benchmarks.
"""
