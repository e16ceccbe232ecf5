"""Running a task over many hosts: bounded concurrency, deadlines, retries, cancellation, the job record.

Why threads over the synchronous :class:`~amtkit.client.Client` rather than asyncio: a host's work is a
handful of blocking round trips on one kept-alive connection, the client's CPU per call is a few
hundred microseconds, and the time goes into waiting for firmware. A pool of worker threads, each
taking the next host and holding one connection to it, keeps one request in flight per device (AMT
serves one at a time) and reuses every feature module as it is; an asyncio engine would need a second
client. ``bench/fleet.py`` measures it against a sequential loop.

Per host:

* **deadline**: the whole host (connection, every request, retries and their waits) ends by
  ``deadline`` seconds; each request's connect and read timeouts are cut to the time left
  (:attr:`amtkit.transport.Transport.deadline`), and a host past it fails as ``timeout``.
* **retries** with exponential backoff and jitter, for transient failures only: a busy engine
  (nothing was done) always; for idempotent tasks also a connection that failed or a device that did
  not answer. Never for authentication failures: AMT's anti-hammering locks the account.
* **cancellation**: Ctrl-C (``KeyboardInterrupt`` in the thread that called :func:`run`) or the
  ``cancel`` event stops handing out hosts and waits for those in flight (their deadline bounds the
  wait); a second Ctrl-C stops at once. Hosts never started are reported ``cancelled``; hosts
  abandoned in flight ``cancelled`` (idempotent tasks) or ``in-doubt``. Either way every host has
  exactly one result, and the store agrees with the report.
"""

from __future__ import annotations

import queue
import random
import resource
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

from .. import exceptions as exc
from ..lazylog import logger_ready
from ..wsman.names import PORT_RMCP
from .report import FleetReport, HostFailed, HostResult, Outcome
from .tasks import Task

if TYPE_CHECKING:
    from ..client import Client
    from ..config import TLSConfig
    from ..profiles import ProfileSet
    from ..store import Store
    from .jobs import JobJournal

__all__ = ["FleetOptions", "Host", "Login", "Progress", "raise_fd_limit", "run", "run_hosts"]

log = logger_ready(__name__)  # with amtkit's NullHandler (amtkit.lazylog)

Progress = Callable[[HostResult, int, int], None]
"""``progress(result, done, total)``: called once per finished host, from worker threads, one at a time."""



class Journal(Protocol):
    """Where a run writes each host's progress (the store's job tables; a Dask shard's coordinator)."""

    def started(self, position: int) -> None: ...
    def unstarted(self, position: int) -> None: ...
    def finished(self, position: int, result: HostResult) -> None: ...


@dataclass(frozen=True)
class Login:
    """How to log in to every host: one account (``username``/``password``), or credential profiles tried
    in order per host (:mod:`amtkit.profiles`; the one that works is remembered in the store)."""

    username: str = "admin"
    password: str | None = field(default=None, repr=False)
    profiles: ProfileSet | None = None

    def describe(self) -> dict[str, Any]:
        """For the job record: never the password."""
        if self.profiles is not None:
            return {"profiles": self.profiles.source or "(given)"}
        return {"username": self.username}


@dataclass(frozen=True)
class FleetOptions:
    concurrency: int = 64
    """Hosts worked on at once (one connection and at most one request in flight each)."""
    deadline: float = 60.0
    """Seconds a host may take in all, retries included."""
    timeout: float = 15.0
    """Seconds each request may wait for a connection and for its answer (cut to the deadline)."""
    retries: int = 2
    """Further attempts after a transient failure."""
    backoff: float = 0.5
    """First wait before a retry; doubled each time, with jitter."""
    port: int | None = None
    tls: TLSConfig | None = None
    generation: str = "auto"
    """AMT's protocol per host: ``wsman``, ``eoi`` (legacy SOAP, AMT 2.x-8.x) or ``auto`` (from the version)."""
    transport: str = "builtin"
    """WS-Man transport: ``builtin`` or ``requests`` (proxies from the environment)."""
    rmcp_port: int | None = PORT_RMCP
    """UDP port of the RMCP presence ping that asks a host which refused the login whether it is provisioned
    (``None``: do not ask; a refused login then stays ``auth-failed``)."""

    def __post_init__(self) -> None:
        if self.concurrency < 1 or self.deadline <= 0 or self.timeout <= 0 or self.retries < 0 or self.backoff < 0:
            raise exc.UsageError("fleet options: concurrency >= 1, deadline and timeout > 0, retries and backoff "
                                 ">= 0")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["tls"] = None if self.tls is None else asdict(self.tls)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FleetOptions:
        from ..config import TLSConfig

        values = dict(data)
        tls = values.pop("tls", None)
        if isinstance(tls, dict) and isinstance(tls.get("client_cert"), list):
            tls["client_cert"] = tuple(tls["client_cert"])
        known = {f for f in cls.__dataclass_fields__}
        return cls(tls=None if tls is None else TLSConfig(**tls), **{k: v for k, v in values.items() if k in known})


@dataclass(frozen=True)
class Host:
    """What a task that logs in by itself (:attr:`~amtkit.fleet.tasks.Task.logs_in`) gets for one host."""

    name: str
    login: Login
    options: FleetOptions
    deadline: float
    """The ``time.monotonic()`` instant the host's work must end by."""
    store: Store | None = None
    """The job's store (credential profiles remember there which one works)."""


def raise_fd_limit(needed: int) -> None:
    """Lift the soft open-file limit towards ``needed`` (at most the hard limit): a thousand connections need it."""
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft != resource.RLIM_INFINITY and soft < needed:
            target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError):  # pragma: no cover - platform dependent
        log.debug("could not raise the open-file limit to %d", needed)


def _transient(error: exc.AMTError, task: Task) -> bool:
    """Whether another attempt may succeed and is safe (see the module docstring)."""
    if not task.retry:
        return False
    if isinstance(error, (exc.DeviceBusyError, exc.PowerChangeInProgress)):
        return True  # AMT refused before doing anything
    if isinstance(error, (exc.AuthenticationError, exc.TLSError)):
        return False
    return task.idempotent and isinstance(error, exc.TransportError)


class _Cancelled(Exception):
    pass


class _Worker:
    """What one host's work needs: the task, how to log in, the options, the cancel event."""

    def __init__(self, task: Task, login: Login, options: FleetOptions, cancel: threading.Event,
                 profile_store: Store | None) -> None:
        self.task = task
        self.login = login
        self.options = options
        self.cancel = cancel
        self.profile_store = profile_store
        self.random = random.Random()

    def open(self, host: str, deadline: float) -> Client:
        from ..client import Client
        from ..config import Timeout

        options = self.options
        client_options: dict[str, Any] = {"port": options.port, "tls": options.tls, "retries": 0,
                                          "timeout": Timeout(options.timeout, connect=min(options.timeout, 10.0)),
                                          "generation": options.generation, "transport": options.transport}
        if self.login.profiles is None:
            client = Client(host, username=self.login.username, password=self.login.password, **client_options)
            client.transport.deadline = deadline
            return client
        from ..profiles import connect
        from ..wsman.names import Cls

        def check(candidate: Client) -> object:
            candidate.transport.deadline = deadline
            return candidate.get(Cls.AMT_GeneralSettings)

        _profile, client = connect(host, self.login.profiles, self.profile_store, check=check, **client_options)
        return client

    def attempt(self, host: str, deadline: float) -> Any:
        if self.task.logs_in is not None:
            return self.task.on_host(Host(host, self.login, self.options, deadline, self.profile_store))
        client = self.open(host, deadline)
        try:
            return self.task(client)
        finally:
            client.close()

    def backoff(self, attempts: int, deadline: float) -> float | None:
        """Seconds to wait before the next attempt, or ``None`` if none fits before the deadline."""
        if attempts > self.options.retries:
            return None
        delay: float = self.options.backoff * 2.0 ** (attempts - 1) * self.random.uniform(0.5, 1.5)
        if time.monotonic() + delay >= deadline:
            return None
        return delay

    def run_host(self, host: str) -> HostResult:
        started = time.monotonic()
        deadline = started + self.options.deadline
        attempts = 0
        while True:
            attempts += 1
            try:
                data = self.attempt(host, deadline)
            except exc.AMTError as error:
                if error.host is None:
                    error.host = host
                delay = self.backoff(attempts, deadline) if _transient(error, self.task) else None
                if delay is None:
                    return self.failure(host, error, deadline, attempts=attempts, started=started)
                if self.cancel.wait(delay):
                    raise _Cancelled() from error
                continue
            except HostFailed as failed:  # the task reports what it found: no retry
                if failed.error.host is None:
                    failed.error.host = host
                return HostResult.failure(host, failed.error, attempts=attempts, duration=time.monotonic() - started,
                                          data=failed.data)
            except Exception as error:  # noqa: BLE001 - a bug in a user's task fails its host, not the job
                log.debug("task %s raised on %s", self.task.name, host, exc_info=True)
                return HostResult(host, Outcome.FAILED, "error", f"the task raised {type(error).__name__}: {error}",
                                  attempts=attempts, duration=time.monotonic() - started)
            return HostResult(host, Outcome.OK, attempts=attempts, duration=time.monotonic() - started, data=data)

    def failure(self, host: str, error: exc.AMTError, deadline: float, *, attempts: int,
                started: float) -> HostResult:
        """The host's failed result; a refused login or connection asks the device whether it is provisioned at all
        (AMT 6.1 and later may keep its web ports closed until it is)."""
        unprovisioned = self.not_provisioned(host, error, deadline)
        if unprovisioned is not None:
            # The device gave no return code: the pong said it (0x20 is amtkit's word, not the device's).
            return replace(HostResult.failure(host, unprovisioned, attempts=attempts,
                                              duration=time.monotonic() - started), return_code=None)
        return HostResult.failure(host, error, attempts=attempts, duration=time.monotonic() - started)

    def not_provisioned(self, host: str, error: exc.AMTError, deadline: float) -> exc.NotProvisionedError | None:
        """What the host's presence pong says of a refused login or connection
        (:func:`~amtkit.discovery.presence.explain_refusal`), asked within the host's deadline."""
        port = self.options.rmcp_port
        if port is None:
            return None
        from ..discovery.presence import PONG_WAIT, explain_refusal

        return explain_refusal(host, error, port, timeout=min(PONG_WAIT, deadline - time.monotonic()))


class _Pool:
    """Worker threads over a queue of ``(position, host)``; results by position."""

    def __init__(self, worker: _Worker, work: Sequence[tuple[int, str]], *, journal: Journal | None,
                 progress: Progress | None) -> None:
        self.worker = worker
        self.work = list(work)
        self.journal = journal
        self.progress = progress
        self.results: dict[int, HostResult] = {}
        self.in_flight: dict[int, str] = {}
        self._queue: queue.SimpleQueue[tuple[int, str]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._finished = threading.Event()
        self._abandoned = False
        self._live = 0

    def _loop(self) -> None:
        try:
            while not self.worker.cancel.is_set():
                try:
                    position, host = self._queue.get_nowait()
                except queue.Empty:
                    return
                with self._lock:
                    if self._abandoned:
                        return
                    self.in_flight[position] = host
                if self.journal is not None:
                    self.journal.started(position)
                try:
                    result = self.worker.run_host(host)
                except _Cancelled:  # cancelled while waiting to retry: nothing was done that counts
                    with self._lock:
                        self.in_flight.pop(position, None)
                        if self.journal is not None and not self._abandoned:
                            self.journal.unstarted(position)
                    continue
                self._done(position, result)
        finally:
            with self._lock:
                self._live -= 1
                if self._live == 0:
                    self._finished.set()

    def _done(self, position: int, result: HostResult) -> None:
        with self._lock:
            if self._abandoned:
                return  # reported as abandoned already: the report and the store keep saying so
            self.in_flight.pop(position, None)
            if self.journal is not None:
                self.journal.finished(position, result)
            self.results[position] = result
            if self.progress is not None:
                self.progress(result, len(self.results), len(self.work))

    def run(self) -> bool:
        """Work through every host; return whether the run was cancelled."""
        for item in self.work:
            self._queue.put(item)
        count = min(self.worker.options.concurrency, len(self.work))
        if count == 0:
            return False
        raise_fd_limit(count * 2 + 256)
        self._live = count
        for index in range(count):
            threading.Thread(target=self._loop, name=f"amtkit-fleet-{index}", daemon=True).start()
        try:
            while not self._finished.wait(0.2):
                pass
        except KeyboardInterrupt:
            self.worker.cancel.set()
            log.warning("cancelling: waiting for %d host(s) in flight (Ctrl-C again to stop at once)",
                        len(self.in_flight))
            try:
                while not self._finished.wait(0.2):
                    pass
            except KeyboardInterrupt:
                with self._lock:
                    self._abandoned = True
        return self.worker.cancel.is_set()

    def abandoned(self) -> set[int]:
        """Positions that were in flight when a second Ctrl-C stopped the run at once."""
        with self._lock:
            return set(self.in_flight) if self._abandoned else set()


@dataclass(frozen=True)
class Outcomes:
    """What :func:`run_hosts` did: results by position, whether it was cancelled, what it abandoned in flight."""

    results: dict[int, HostResult]
    cancelled: bool
    abandoned: set[int]


def run_hosts(task: Task, work: Sequence[tuple[int, str]], *, login: Login, options: FleetOptions,
              cancel: threading.Event | None = None, journal: Journal | None = None,
              progress: Progress | None = None, profile_store: Store | None = None) -> Outcomes:
    """The engine without the job around it: run ``task`` on each ``(position, host)`` of ``work``.

    Hosts without a result were never finished: not started, or abandoned in flight. Used by :func:`run`
    on one machine and by each Dask worker on its shard (:mod:`amtkit.fleet.distributed`).
    """
    worker = _Worker(task, login, options, cancel or threading.Event(), profile_store)
    pool = _Pool(worker, work, journal=journal, progress=progress)
    cancelled = pool.run()
    return Outcomes(pool.results, cancelled, pool.abandoned())


def unfinished(host: str, *, in_flight: bool, idempotent: bool) -> HostResult:
    """The result of a host without one: never started, or in flight when the job stopped."""
    if in_flight and not idempotent:
        return HostResult(host, Outcome.IN_DOUBT, "in-doubt",
                          "the job stopped while this host was in flight: it may or may not have happened",
                          hint="check the machine, then `amtkit job resume ID --retry-in-doubt` to run it again")
    return HostResult(host, Outcome.CANCELLED, "cancelled", "not run: the job was cancelled first")


def run(
    task: Task,
    targets: str | Iterable[str],
    *,
    login: Login | None = None,
    options: FleetOptions | None = None,
    store: Store | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> FleetReport:
    """Run ``task`` on every host of ``targets`` and return the report (every host, in target order).

    ``targets``: tokens of :func:`~amtkit.fleet.targets.resolve_targets`. With a ``store`` the job is
    recorded as it runs, each host's result with its activity log record (:mod:`amtkit.activity`), and
    can be resumed (:func:`resume`). Ctrl-C cancels (see the module docstring) and the report
    of what was done is returned with ``cancelled`` set.
    """
    from .targets import resolve_targets

    login = login or Login()
    options = options or FleetOptions()
    hosts = resolve_targets(targets, store=store)
    journal = None
    if store is not None:
        from .jobs import JobJournal

        journal = JobJournal.create(store, task=task.name, parameters=dict(task.parameters),
                                    options={**options.to_dict(), "login": login.describe(),
                                             "builtin": task.builtin},
                                    idempotent=task.idempotent, hosts=hosts)
    work = list(enumerate(hosts))
    return _execute(task, work, {}, login=login, options=options, store=store, journal=journal,
                    progress=progress, cancel=cancel)


def _execute(task: Task, work: Sequence[tuple[int, str]], earlier: Mapping[int, HostResult], *, login: Login,
             options: FleetOptions, store: Store | None, journal: JobJournal | None, progress: Progress | None,
             cancel: threading.Event | None) -> FleetReport:
    """Run ``work``, record it, and report it together with ``earlier`` results (a resumed job's)."""
    started_at = time.monotonic()
    done = run_hosts(task, work, login=login, options=options, cancel=cancel, journal=journal, progress=progress,
                     profile_store=store)
    merged = dict(earlier)
    for position, host in work:
        merged[position] = done.results.get(position) or unfinished(
            host, in_flight=position in done.abandoned, idempotent=task.idempotent)
    if journal is not None:
        journal.close("cancelled" if done.cancelled else "finished")
    return FleetReport(task.name, [merged[position] for position in sorted(merged)],
                       job_id=journal.job_id if journal is not None else None,
                       elapsed=time.monotonic() - started_at, cancelled=done.cancelled,
                       parameters=task.shown_parameters())


def resume(job_id: int, *, store: Store, login: Login | None = None, task: Task | None = None,
           options: FleetOptions | None = None, progress: Progress | None = None,
           cancel: threading.Event | None = None, retry_in_doubt: bool = False) -> FleetReport:
    """Finish job ``job_id`` from the store: hosts with a result keep it (not run again); hosts never started
    run now; hosts in flight when the job stopped run again for idempotent tasks, and stay ``in-doubt``
    for others unless ``retry_in_doubt``. Returns the whole job's report.

    Built-in tasks are rebuilt from the store; a job of a user's function needs ``task`` again.
    ``options`` default to the job's own (login secrets are never stored: give ``login`` again).
    """
    from .jobs import PENDING, RUNNING, JobJournal, job_results, load_job, positions
    from .tasks import build

    job = load_job(store, job_id)
    if job.state == "running" and not job.interrupted:
        raise exc.UsageError(f"job {job_id} is still running (process {job.pid})",
                             hint="wait for it, or stop it first")
    if task is None:
        if not job.options.get("builtin", True):
            raise exc.UsageError(f"job {job_id} ran a user function ({job.task}): resume it from Python with "
                                 "amtkit.fleet.resume(..., task=...)")
        task = build(job.task, job.parameters)
    elif task.name != job.task:
        raise exc.UsageError(f"job {job_id} ran {job.task!r}, not {task.name!r}")
    options = options or FleetOptions.from_dict({k: v for k, v in job.options.items()
                                                 if k not in ("login", "builtin")})
    states = [PENDING] + ([RUNNING] if task.idempotent or retry_in_doubt else [])
    work = positions(store, job_id, states)
    all_results = job_results(store, job_id)
    earlier = {position: result for position, result in enumerate(all_results)}
    for position, _host in work:
        earlier.pop(position, None)
    journal = JobJournal.reopen(store, job)
    report = _execute(task, work, earlier, login=login or Login(), options=options, store=store, journal=journal,
                      progress=progress, cancel=cancel)
    return replace(report, task=job.task)
