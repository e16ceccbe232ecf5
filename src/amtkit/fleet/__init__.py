"""Fleet jobs: one task over many machines, with a report that says, per host, what happened and why.

::

    from amtkit import fleet

    report = fleet.run(fleet.tasks.power_status(), ["10.0.0.0/24", "@hosts.txt"],
                       login=fleet.Login(password="..."), options=fleet.FleetOptions(deadline=10))
    for result in report.failed:
        print(result.host, result.category, result.message)
    print(report.summary())
    open("power.csv", "w").write(report.to_csv())

A task is a function taking a :class:`~amtkit.client.Client` (:mod:`amtkit.fleet.tasks` has the
built-in ones, :func:`~amtkit.fleet.tasks.from_function` wraps your own). With a store
(:class:`amtkit.store.Store`) the job is recorded host by host and survives a crash
(:func:`resume`). :mod:`amtkit.fleet.distributed` runs the same job on Dask.
"""

from __future__ import annotations

from . import tasks
from .engine import FleetOptions, Host, Login, run, run_hosts
from .engine import resume as resume
from .report import FleetReport, HostFailed, HostResult, Outcome
from .targets import resolve_targets
from .tasks import Task

__all__ = ["FleetOptions", "FleetReport", "Host", "HostFailed", "HostResult", "Login", "Outcome", "Task",
           "resolve_targets", "resume", "run", "run_hosts", "tasks"]
