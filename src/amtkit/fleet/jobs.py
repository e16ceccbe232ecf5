"""Fleet jobs in the store: each host's result is committed as the host finishes, so a job killed at any
point (even ``kill -9``) resumes without redoing finished hosts and without losing or duplicating one.

A job's hosts are written once, when the job starts, each ``pending``. A host's result replaces
``pending`` in one transaction: a result is either wholly there or not at all. Tasks that change
things (power actions, user functions) first mark a host ``running`` (committed before the first
request goes out), so a host in flight when the process died is known: resume runs it again for an
idempotent task, and reports it ``in-doubt`` otherwise (it may or may not have happened).

SQLite in WAL mode, one writer at a time (the store's lock within a process, SQLite's within the
machine); readers (``amtkit job show`` in another terminal) are not blocked.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..activity import Entry, append_in, current_operator, now
from ..exceptions import AMTError
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
    """The store side of one running job (thread-safe: the store serializes writers)."""

    def __init__(self, store: Store, job_id: int, *, mark_running: bool, operation: str,
                 parameters: Mapping[str, Any], hosts: Sequence[str]) -> None:
        self.store = store
        self.job_id = job_id
        self.mark_running = mark_running
        self.operation = operation
        self.parameters = {k: v for k, v in parameters.items() if not k.endswith("_xml")}
        self.hosts = list(hosts)
        self.operator = current_operator()

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

    def started(self, position: int) -> None:
        """Commit that ``position`` is in flight (tasks that change things only)."""
        if not self.mark_running:
            return
        with self.store.transaction() as db:
            db.execute("UPDATE job_host SET state = 'running', started_at = ? WHERE job_id = ? AND position = ?",
                       (now(), self.job_id, position))

    def unstarted(self, position: int) -> None:
        """A host marked running that did nothing that counts after all (cancelled while waiting to retry)."""
        if not self.mark_running:
            return
        with self.store.transaction() as db:
            db.execute("UPDATE job_host SET state = 'pending', started_at = NULL "
                       "WHERE job_id = ? AND position = ? AND state = 'running'", (self.job_id, position))

    def finished(self, position: int, result: HostResult) -> None:
        """Commit a host's result (one transaction: all of it or nothing); unfinished outcomes are not results."""
        if result.outcome not in (Outcome.OK, Outcome.FAILED):
            return
        data = None if result.data is None else json.dumps(result.data, default=str)
        entry = Entry(host=result.host, operation=self.operation, outcome=result.outcome.value,
                      parameters=self.parameters, category=result.category, return_code=result.return_code,
                      job_id=self.job_id, operator=self.operator)
        with self.store.transaction() as db:
            append_in(db, [entry])  # the result and its activity record commit together
            db.execute(
                "UPDATE job_host SET state = 'done', outcome = ?, category = ?, message = ?, hint = ?, "
                "return_code = ?, attempts = ?, duration = ?, data = ?, finished_at = ? "
                "WHERE job_id = ? AND position = ? AND state != 'done'",
                (result.outcome.value, result.category, result.message, result.hint, result.return_code,
                 result.attempts, result.duration, data, now(), self.job_id, position))

    def close(self, state: str) -> None:
        with self.store.transaction() as db:
            db.execute("UPDATE job SET state = ?, pid = NULL, updated_at = ? WHERE id = ?",
                       (state, now(), self.job_id))


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
