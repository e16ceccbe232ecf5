"""Fleet jobs in the store: each host's result is committed as the host finishes, so a job killed at any
point (even ``kill -9``) resumes without redoing finished hosts and without losing or duplicating one.

A job's hosts are written once, when the job starts, each ``pending``. A host's result replaces
``pending`` in a transaction with its activity record (the job's writer thread commits whatever
finished meanwhile together, :class:`JobJournal`): a result is either wholly there or not at all, and
one not yet committed at a kill is run again on resume. Tasks that change
things (power actions, user functions) first mark a host ``running`` (committed before the first
request goes out), so a host in flight when the process died is known: resume runs it again for an
idempotent task, and reports it ``in-doubt`` otherwise (it may or may not have happened).

SQLite in WAL mode, one writer per job (and the store's lock within a process, SQLite's within the
machine); readers (``amtkit job show`` in another terminal) are not blocked.
"""

from __future__ import annotations

import json
import os
import queue
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..activity import Entry, append_in, current_operator, now
from ..exceptions import AMTError
from ..store import StoreError
from .report import HostResult, Outcome

if TYPE_CHECKING:
    from ..store import Store

__all__ = ["JobInfo", "JobJournal", "JobNotFound", "job_results", "list_jobs", "load_job"]

PENDING, RUNNING, DONE = "pending", "running", "done"


class JobNotFound(AMTError):
    category = "usage"


@dataclass(frozen=True)
class JobInfo:
    id: int
    created_at: str
    updated_at: str
    operator: str
    task: str
    parameters: dict[str, Any]
    options: dict[str, Any]
    idempotent: bool
    state: str
    """``running``, ``finished`` or ``cancelled``; a ``running`` job whose process is gone was interrupted."""
    pid: int | None
    hosts: int
    done: int

    @property
    def interrupted(self) -> bool:
        """A job recorded as running whose process on this machine is gone (killed, crashed)."""
        return self.state == "running" and not _alive(self.pid)

    @property
    def status(self) -> str:
        return "interrupted" if self.interrupted else self.state

    def to_dict(self) -> dict[str, Any]:
        shown = {k: v for k, v in self.parameters.items() if not k.endswith("_xml")}
        return {"id": self.id, "created_at": self.created_at, "updated_at": self.updated_at,
                "operator": self.operator, "task": self.task, "parameters": shown, "options": self.options,
                "state": self.status, "hosts": self.hosts, "done": self.done}


def _alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class JobJournal:
    """The store side of one running job: one writer thread commits what the worker threads report.

    SQLite commits one transaction at a time anyway, so instead of every worker waiting for its own
    commit, the writer takes whatever has queued up and commits it as one transaction (group commit):
    a thousand results cost a few dozen commits, and no worker waits for the disk. The exception is
    :meth:`started`, which returns only once committed: a host that changes things must be known to be
    in flight before its first request goes out. :meth:`close` (or :meth:`flush`) waits for everything
    queued. A result still queued when the process is killed is simply not there: resume runs the host
    again (idempotent tasks) or finds it ``running`` (``in-doubt``), never a half-written result.
    """

    _BATCH = 512

    def __init__(self, store: Store, job_id: int, *, mark_running: bool, operation: str,
                 parameters: Mapping[str, Any], hosts: Sequence[str]) -> None:
        self.store = store
        self.job_id = job_id
        self.mark_running = mark_running
        self.operation = operation
        self.parameters = {k: v for k, v in parameters.items() if not k.endswith("_xml")}
        self.hosts = list(hosts)
        self.operator = current_operator()
        self._queue: queue.SimpleQueue[_Write | None] = queue.SimpleQueue()
        self._error: BaseException | None = None
        self._writer = threading.Thread(target=self._write, name=f"amtkit-job-{job_id}-writer", daemon=True)
        self._writer.start()

    @classmethod
    def create(cls, store: Store, *, task: str, parameters: dict[str, Any], options: dict[str, Any],
               idempotent: bool, hosts: Sequence[str], operator: str | None = None) -> JobJournal:
        stamp = now()
        with store.transaction() as db:
            cursor = db.execute(
                "INSERT INTO job (created_at, updated_at, operator, task, parameters, options, idempotent, state, "
                "pid, hosts) VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?, ?)",
                (stamp, stamp, operator or current_operator(), task, json.dumps(parameters), json.dumps(options),
                 int(idempotent), os.getpid(), len(hosts)))
            job_id = int(cursor.lastrowid or 0)
            db.executemany("INSERT INTO job_host (job_id, position, host, state) VALUES (?, ?, ?, 'pending')",
                           [(job_id, index, host) for index, host in enumerate(hosts)])
        return cls(store, job_id, mark_running=not idempotent, operation=task, parameters=parameters, hosts=hosts)

    @classmethod
    def reopen(cls, store: Store, job: JobInfo) -> JobJournal:
        with store.transaction() as db:
            db.execute("UPDATE job SET state = 'running', pid = ?, updated_at = ? WHERE id = ?",
                       (os.getpid(), now(), job.id))
        hosts = [host for _position, host, _state in job_hosts(store, job.id)]
        return cls(store, job.id, mark_running=not job.idempotent, operation=job.task, parameters=job.parameters,
                   hosts=hosts)

    # -- what the workers report -------------------------------------------------------------------------

    def started(self, position: int) -> None:
        """Commit that ``position`` is in flight (tasks that change things only); returns once committed."""
        if not self.mark_running:
            return
        done = threading.Event()
        self._queue.put(_Write("started", position, None, done))
        while not done.wait(0.5):
            if not self._writer.is_alive():  # the job was closed meanwhile (abandoned): nothing to wait for
                return
        self._raise_error()

    def unstarted(self, position: int) -> None:
        """A host marked running that did nothing that counts after all (cancelled while waiting to retry)."""
        if self.mark_running:
            self._queue.put(_Write("unstarted", position))

    def finished(self, position: int, result: HostResult) -> None:
        """Queue a host's result; it is committed with its activity record in one transaction (all or
        nothing). Unfinished outcomes (cancelled, in doubt) are not results."""
        if result.outcome in (Outcome.OK, Outcome.FAILED):
            self._queue.put(_Write("finished", position, result))

    def flush(self) -> None:
        """Wait until everything reported so far is committed."""
        done = threading.Event()
        self._queue.put(_Write("flush", -1, None, done))
        while not done.wait(0.5):
            if not self._writer.is_alive():
                break
        self._raise_error()

    def close(self, state: str) -> None:
        """Commit what is queued, then the job's final state; stop the writer."""
        self._queue.put(None)
        self._writer.join()
        self._raise_error()
        with self.store.transaction() as db:
            db.execute("UPDATE job SET state = ?, pid = NULL, updated_at = ? WHERE id = ?",
                       (state, now(), self.job_id))

    def _raise_error(self) -> None:
        if self._error is not None:
            raise StoreError(f"the job record could not be written: {self._error}")

    # -- the writer thread -------------------------------------------------------------------------------

    def _write(self) -> None:
        stop = False
        while not stop:
            batch = [self._queue.get()]
            while len(batch) < self._BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stop = None in batch
            writes = [w for w in batch if w is not None]
            try:
                if self._error is None:
                    self._commit(writes)
            except Exception as error:  # noqa: BLE001 - kept and raised to the job's caller
                self._error = error
            for write in writes:
                if write.done is not None:
                    write.done.set()

    def _commit(self, writes: list[_Write]) -> None:
        stamp = now()
        entries = []
        rows = []
        with self.store.transaction() as db:
            for write in writes:
                if write.kind == "started":
                    db.execute("UPDATE job_host SET state = 'running', started_at = ? WHERE job_id = ? AND "
                               "position = ?", (stamp, self.job_id, write.position))
                elif write.kind == "unstarted":
                    db.execute("UPDATE job_host SET state = 'pending', started_at = NULL WHERE job_id = ? AND "
                               "position = ? AND state = 'running'", (self.job_id, write.position))
                elif write.kind == "finished" and write.result is not None:
                    result = write.result
                    entries.append(Entry(host=result.host, operation=self.operation, outcome=result.outcome.value,
                                         parameters=self.parameters, category=result.category,
                                         return_code=result.return_code, job_id=self.job_id, operator=self.operator,
                                         at=stamp))
                    rows.append((result.outcome.value, result.category, result.message, result.hint,
                                 result.return_code, result.attempts, result.duration,
                                 None if result.data is None else json.dumps(result.data, default=str), stamp,
                                 self.job_id, write.position))
            append_in(db, entries)  # each result and its activity record commit together
            db.executemany(
                "UPDATE job_host SET state = 'done', outcome = ?, category = ?, message = ?, hint = ?, "
                "return_code = ?, attempts = ?, duration = ?, data = ?, finished_at = ? "
                "WHERE job_id = ? AND position = ? AND state != 'done'", rows)


@dataclass(frozen=True)
class _Write:
    kind: str
    """``started``, ``unstarted``, ``finished`` or ``flush``."""
    position: int
    result: HostResult | None = None
    done: threading.Event | None = None


def _job(row: Any) -> JobInfo:
    return JobInfo(id=row["id"], created_at=row["created_at"], updated_at=row["updated_at"], operator=row["operator"],
                   task=row["task"], parameters=json.loads(row["parameters"]), options=json.loads(row["options"]),
                   idempotent=bool(row["idempotent"]), state=row["state"], pid=row["pid"], hosts=row["hosts"],
                   done=row["done"] or 0)


_JOB_SELECT = ("SELECT job.*, (SELECT COUNT(*) FROM job_host h WHERE h.job_id = job.id AND h.state = 'done') "
               "AS done FROM job")


def load_job(store: Store, job_id: int) -> JobInfo:
    rows = store.query(f"{_JOB_SELECT} WHERE id = ?", (job_id,))
    if not rows:
        raise JobNotFound(f"no job {job_id} in the store {store.path}", hint="`amtkit job list` shows the jobs")
    return _job(rows[0])


def list_jobs(store: Store, limit: int = 20) -> list[JobInfo]:
    """The latest jobs, newest first."""
    return [_job(row) for row in store.query(f"{_JOB_SELECT} ORDER BY id DESC LIMIT ?", (limit,))]


def job_hosts(store: Store, job_id: int) -> list[tuple[int, str, str]]:
    """``(position, host, state)`` of every host of a job, in target order."""
    rows = store.query("SELECT position, host, state FROM job_host WHERE job_id = ? ORDER BY position", (job_id,))
    return [(row["position"], row["host"], row["state"]) for row in rows]


def job_results(store: Store, job_id: int) -> list[HostResult]:
    """Every host's result as the store has it: finished hosts as recorded, hosts never started as
    ``cancelled``, hosts in flight when the job stopped as ``in-doubt``."""
    rows = store.query("SELECT * FROM job_host WHERE job_id = ? ORDER BY position", (job_id,))
    return [_result(row) for row in rows]


def _result(row: Any) -> HostResult:
    if row["state"] == PENDING:
        return HostResult(row["host"], Outcome.CANCELLED, "cancelled", "not run: the job stopped before this host")
    if row["state"] == RUNNING:
        return HostResult(row["host"], Outcome.IN_DOUBT, "in-doubt",
                          "the job stopped while this host was in flight: it may or may not have happened",
                          hint="check the machine, then `amtkit job resume ID --retry-in-doubt` to run it again")
    return HostResult(row["host"], Outcome(row["outcome"]), row["category"], row["message"], row["hint"],
                      row["return_code"], row["attempts"], row["duration"] or 0.0,
                      None if row["data"] is None else json.loads(row["data"]))


def positions(store: Store, job_id: int, states: Iterable[str]) -> list[tuple[int, str]]:
    wanted = tuple(states)
    marks = ", ".join("?" * len(wanted))
    rows = store.query(f"SELECT position, host FROM job_host WHERE job_id = ? AND state IN ({marks}) "
                       "ORDER BY position", (job_id, *wanted))
    return [(row["position"], row["host"]) for row in rows]
