"""amtkit's performance benchmarks: ``python -m bench`` from the project root.

How to add a figure (every area does it the same way; docs/benchmarks.md has the long version)
------------------------------------------------------------------------------------------------

1. Write a function ``(Settings) -> list[Row]`` in ``bench/<area>.py`` that measures **once**
   (the harness calls it ``--repeat`` times, interleaved with the other benchmarks, and reports
   the median and range of each figure). Size it from :class:`~bench.framework.Settings`
   (``settings.quick`` for a fast run) and bound every loop by a count or a duration.
2. Return one :class:`~bench.framework.Row` per figure: ``Row(benchmark, metric, value, unit,
   target=None, note="", *, cpu=None, better=None)``. Keep ``metric`` stable: it is the key
   ``--compare`` matches figures by across runs.
3. A figure with a goal gets a :class:`~bench.framework.Target` whose limit is an **independent
   number**, with where it comes from::

       from .framework import Target, goal, minimum
       SCAN_TARGET = Target.at_most(5.0, goal(5, "a /22 with 500 devices discovered in under 5 s"))
       FEWEST = Target.at_most(15, minimum("system-defense-round-trips", "N + 2 writes + ..."))

   ``goal(issue, text)`` for an issue's goal; ``minimum(anchor, text)`` for a protocol minimum
   argued in docs/benchmarks.md under that heading. Never compute a limit from the quantity
   being measured or with the code's own formula: such a target passes by construction.
   ``every_run=True`` for correctness counts (all found, no false positives): the verdict then
   needs every repetition, not the median.
4. A figure that times client code carries the client's CPU beside its wall time: measure with
   :func:`~bench.framework.timed` / :class:`~bench.framework.Latencies` and return
   ``latencies.row(benchmark, metric, unit="ms", target=..., note=...)`` (p50 wall time, mean
   CPU per call), or pass ``cpu=`` (same unit as the value) yourself, e.g. as a child process
   reports it. ``cpu`` is refused on figures that are not times: report CPU per unit of work
   (per MB, per request) as its own row.
5. Register it: ``Benchmark("area.what", module.function, "one line")`` in ``BENCHMARKS`` in
   ``bench/__main__.py``. ``python -m bench --only area`` runs it; ``--list`` shows it.

Modules
-------

* :mod:`bench.framework`: :class:`~bench.framework.Settings`, :class:`~bench.framework.Target`
  (with :func:`~bench.framework.goal` and :func:`~bench.framework.minimum`),
  :class:`~bench.framework.Row`, :class:`~bench.framework.Benchmark`, timing helpers, CPU placement;
* :mod:`bench.record`: a figure over its repetitions (:class:`~bench.record.Figure`), the run record
  written by ``--json FILE`` / ``--save NAME`` (name, commit, date, machine, every value), the table;
* :mod:`bench.compare`: ``--compare OLD`` and ``python -m bench.compare OLD NEW``: each figure's
  change, judged against the noise band of the repetitions (within noise / better / worse);
* :mod:`bench.report`: the figures of a saved run as Markdown, and the generated block of
  docs/benchmarks.md (``python -m bench.report NAME --update docs/benchmarks.md``);
* :mod:`bench.simproc`: a simulator in a separate process (its own GIL, optionally pinned to
  one CPU) whose device counters and CPU time the bench reads between measurements;
* :mod:`bench.rawhttp`, :mod:`bench.loadgen`: the bare-socket baseline and the load generator;
* the areas: :mod:`bench.spine` (issue 2), :mod:`bench.defense` (3), :mod:`bench.ider` (4),
  :mod:`bench.discovery` (5);
* ``bench/results/``: saved run records, the history ``--compare`` reads (commit them).

Only public tools measure: :func:`time.perf_counter`, :func:`resource.getrusage`, subprocesses.
Figures are reported against targets, never asserted; tests do not run benchmarks.
"""
