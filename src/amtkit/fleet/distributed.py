"""The same fleet job on Dask distributed, for fleets that outgrow one machine (``pip install amtkit[dask]``).

::

    from dask.distributed import Client as DaskClient
    from amtkit import fleet
    from amtkit.fleet.distributed import run_distributed

    with DaskClient("tcp://scheduler:8786") as dask:
        report = run_distributed(fleet.tasks.power_status(), "10.0.0.0/16", dask=dask,
                                 login=fleet.Login(password="..."), store=store)

The hosts are cut into shards; each shard runs on a worker with the same per-host code as a local job
(:func:`amtkit.fleet.run_hosts`: its thread pool, deadlines, retries), and the results come back to
this process, which writes them to the store as shards finish (one writer) and returns the same
:class:`~amtkit.fleet.FleetReport` a local run would. Built-in tasks travel as their name and
parameters and are rebuilt on the worker; a user's function is pickled by Dask (cloudpickle).

The login travels to the workers too (password included): use Dask's TLS between scheduler and
workers on a real network.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from .. import exceptions as exc
from .engine import FleetOptions, Login, Progress, run_hosts, unfinished
from .report import FleetReport, HostResult
from .tasks import Task, build

if TYPE_CHECKING:
    from ..store import Store

__all__ = ["run_distributed", "local_cluster"]



def import_distributed() -> Any:
    try:
        import distributed
    except ImportError as error:
        raise exc.UsageError("Dask is not installed: pip install 'amtkit[dask]'") from error
    return distributed


def local_cluster(workers: int = 2) -> Any:
    """A Dask ``LocalCluster`` of ``workers`` processes (one thread each; each runs its shard's thread pool)."""
    distributed = import_distributed()
    return distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                    dashboard_address=None)


def _run_shard(spec: dict[str, Any] | None, task: Task | None, work: list[tuple[int, str]], login: Login,
               options: FleetOptions) -> list[tuple[int, dict[str, Any]]]:
    """On a worker: the shard's hosts through the local engine; results as plain data."""
    chosen = task if task is not None else build(spec["task"], spec["parameters"])  # type: ignore[index]
    done = run_hosts(chosen, work, login=login, options=options)
    return [(position, result.to_dict()) for position, result in sorted(done.results.items())]


def _shards(work: Sequence[tuple[int, str]], count: int) -> list[list[tuple[int, str]]]:
    size = max(1, math.ceil(len(work) / max(1, count)))
    return [list(work[start:start + size]) for start in range(0, len(work), size)]


def run_distributed(
    task: Task,
    targets: str | Iterable[str],
    *,
    dask: Any,
    login: Login | None = None,
    options: FleetOptions | None = None,
    store: Store | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    shards: int | None = None,
) -> FleetReport:
    """:func:`amtkit.fleet.run` with the hosts sharded over the workers of ``dask`` (a
    ``distributed.Client``). Same report, same store records.

    ``shards`` defaults to the cluster's worker threads, one shard each: every shard pays for its slowest
    (hung) hosts up to the deadline, so fewer, larger shards finish first. ``options.concurrency`` is
    per shard (hosts one shard works on at once)."""
    from .jobs import JobJournal
    from .targets import resolve_targets

    distributed = import_distributed()
    login = login or Login()
    options = options or FleetOptions()
    hosts = resolve_targets(targets, store=store)
    work = list(enumerate(hosts))
    journal = None
    if store is not None:
        journal = JobJournal.create(store, task=task.name, parameters=dict(task.parameters),
                                    options={**options.to_dict(), "login": login.describe(), "builtin": task.builtin,
                                             "engine": "dask"},
                                    idempotent=task.idempotent, hosts=hosts)
    started = time.monotonic()
    workers = max(1, sum(dask.nthreads().values()))
    spec = task.spec() if task.builtin else None
    futures = [dask.submit(_run_shard, spec, None if task.builtin else task, shard, login, options, pure=False)
               for shard in _shards(work, shards or workers)]
    results: dict[int, HostResult] = {}
    cancelled = False
    try:
        for future in distributed.as_completed(futures):
            if cancel is not None and cancel.is_set():
                raise KeyboardInterrupt
            for position, data in future.result():
                result = HostResult.from_dict(data)
                if journal is not None:
                    journal.finished(position, result)
                results[position] = result
                if progress is not None:
                    progress(result, len(results), len(work))
    except KeyboardInterrupt:
        cancelled = True
        dask.cancel(futures)
    merged = [results.get(position) or unfinished(host, in_flight=False, idempotent=task.idempotent)
              for position, host in work]
    if journal is not None:
        journal.close("cancelled" if cancelled else "finished")
    return FleetReport(task.name, merged, job_id=journal.job_id if journal is not None else None,
                       elapsed=time.monotonic() - started, cancelled=cancelled, parameters=task.shown_parameters())
