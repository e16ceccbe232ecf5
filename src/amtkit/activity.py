"""The activity log: every operation amtkit performs on a machine, in the store, chained so tampering shows.

Each record says when, who (the operator), which host, what operation with which parameters (never
a secret), the outcome, the error category and AMT's return code, and the fleet job it belonged to.
Records are appended, never changed: record N carries the SHA-256 of record N-1 (``prev_hash``) and
its own hash over its fields and that link (``hash``). :func:`verify` walks the chain and names the
first record that does not fit: an edited record no longer matches its hash, a deleted one leaves a
gap in the sequence and a broken link, an inserted one has no valid link.

A chain without a secret can be recomputed by someone who rewrites every later record too; so
:func:`verify` also returns the head (the last hash): keep it elsewhere (a ticket, a mail, a
write-once log) and pass it back as ``anchor`` to prove the records up to it are the ones you saw.

::

    amtkit log --host 10.0.0.7 --since 2024-05-01 --operation defense.apply
    amtkit log verify
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import socket
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlite3

    from .store import Store

__all__ = ["GENESIS", "Entry", "Record", "Verification", "append", "current_operator", "query", "verify"]

OPERATOR_ENV = "AMTKIT_OPERATOR"
GENESIS = "0" * 64
"""The ``prev_hash`` of the first record."""

_FIELDS = ("seq", "at", "operator", "host", "operation", "parameters", "outcome", "category", "return_code", "job_id")


def current_operator() -> str:
    """Who runs amtkit: ``$AMTKIT_OPERATOR``, else ``user@machine``."""
    named = os.environ.get(OPERATOR_ENV)
    if named:
        return named
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (containers)
        user = f"uid{os.getuid()}" if hasattr(os, "getuid") else "unknown"
    return f"{user}@{socket.gethostname()}"


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class Entry:
    """One operation to log (the store adds the sequence number, the time if not given, and the chain)."""

    host: str
    operation: str
    outcome: str
    """``ok`` or ``failed`` (fleet outcomes as they are)."""
    parameters: Mapping[str, Any] = field(default_factory=dict)
    category: str | None = None
    return_code: int | None = None
    job_id: int | None = None
    operator: str | None = None
    at: str | None = None


@dataclass(frozen=True)
class Record:
    """A logged operation as stored."""

    seq: int
    at: str
    operator: str
    host: str
    operation: str
    parameters: str
    """JSON text, exactly as hashed."""
    outcome: str
    category: str | None
    return_code: int | None
    job_id: int | None
    prev_hash: str
    hash: str

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "at": self.at, "operator": self.operator, "host": self.host,
                "operation": self.operation, "parameters": json.loads(self.parameters), "outcome": self.outcome,
                "category": self.category, "return_code": self.return_code, "job": self.job_id,
                "hash": self.hash}


def _digest(prev_hash: str, values: Sequence[Any]) -> str:
    canonical = json.dumps([prev_hash, *values], separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def _parameters_text(parameters: Mapping[str, Any]) -> str:
    return json.dumps(dict(parameters), sort_keys=True, separators=(",", ":"), default=str)


def append_in(db: sqlite3.Connection, entries: Iterable[Entry]) -> int:
    """Append ``entries`` inside the caller's transaction (so a job's result and its log record commit
    together); return how many."""
    last = db.execute("SELECT seq, hash FROM activity ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev = (int(last[0]), str(last[1])) if last is not None else (0, GENESIS)
    operator = None
    count = 0
    for entry in entries:
        if entry.operator is None and operator is None:
            operator = current_operator()
        seq += 1
        values = (seq, entry.at or now(), entry.operator or operator, entry.host, entry.operation,
                  _parameters_text(entry.parameters), entry.outcome, entry.category, entry.return_code, entry.job_id)
        digest = _digest(prev, values)
        db.execute(f"INSERT INTO activity ({', '.join(_FIELDS)}, prev_hash, hash) VALUES "
                   f"({', '.join('?' * len(_FIELDS))}, ?, ?)", (*values, prev, digest))
        prev = digest
        count += 1
    return count


def append(store: Store, entries: Iterable[Entry]) -> int:
    """Append ``entries`` to the log in one transaction; return how many."""
    with store.transaction() as db:
        return append_in(db, entries)


def _record(row: Any) -> Record:
    return Record(seq=row["seq"], at=row["at"], operator=row["operator"], host=row["host"],
                  operation=row["operation"], parameters=row["parameters"], outcome=row["outcome"],
                  category=row["category"], return_code=row["return_code"], job_id=row["job_id"],
                  prev_hash=row["prev_hash"], hash=row["hash"])


def query(store: Store, *, host: str | None = None, operation: str | None = None, since: str | None = None,
          until: str | None = None, job_id: int | None = None, limit: int | None = None) -> list[Record]:
    """Records in order, filtered: ``operation`` matches exactly or as a prefix before a dot (``power``
    matches ``power.status``); ``since``/``until`` are ISO 8601 times (a date alone is its midnight, UTC);
    ``limit`` keeps the latest ones."""
    from .store import normalize_host

    clauses, values = [], []  # type: tuple[list[str], list[Any]]
    if host is not None:
        clauses.append("host = ?")
        values.append(normalize_host(host))
    if operation is not None:
        clauses.append("(operation = ? OR operation LIKE ?)")
        values += [operation, operation + ".%"]
    if since is not None:
        clauses.append("at >= ?")
        values.append(_instant(since))
    if until is not None:
        clauses.append("at < ?")
        values.append(_instant(until))
    if job_id is not None:
        clauses.append("job_id = ?")
        values.append(job_id)
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    sql = f"SELECT * FROM activity{where} ORDER BY seq"
    if limit is not None:
        sql = f"SELECT * FROM ({sql[:-len(' ORDER BY seq')]} ORDER BY seq DESC LIMIT ?) ORDER BY seq"
        values.append(limit)
    return [_record(row) for row in store.query(sql, values)]


def _instant(text: str) -> str:
    """An ISO 8601 time as the log stores it (UTC); raises ``ValueError`` for anything else."""
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    """Records read."""
    head: str
    """The hash of the last good record (``GENESIS`` for an empty log): keep it elsewhere as an anchor."""
    first_bad: int | None = None
    """Sequence number of the first record that does not fit the chain."""
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checked": self.checked, "head": self.head, "first_bad": self.first_bad,
                "reason": self.reason or None}


def verify(store: Store, *, anchor: str | None = None) -> Verification:
    """Walk the chain from the first record; the first record that does not fit ends the walk.

    With ``anchor`` (a head printed earlier) the chain must also still contain that hash.
    """
    rows = store.query("SELECT * FROM activity ORDER BY seq")
    prev, expected_seq, anchored = GENESIS, 1, anchor is None
    for count, row in enumerate(rows):
        record = _record(row)
        problem = None
        if record.seq != expected_seq:
            problem = (f"record {expected_seq} is missing (deleted)" if record.seq > expected_seq
                       else f"record {record.seq} is out of order")
        elif record.prev_hash != prev:
            problem = "its link to the record before does not match (a record was inserted or deleted)"
        elif _digest(prev, [getattr(record, name) for name in _FIELDS]) != record.hash:
            problem = "its contents do not match its hash (edited)"
        if problem is not None:
            return Verification(False, count + 1, prev, record.seq, problem)
        prev, expected_seq = record.hash, expected_seq + 1
        anchored = anchored or record.hash == anchor
    if not anchored:
        return Verification(False, len(rows), prev, None,
                            "the anchor is not in the chain: the log was rewritten or cut after it was taken")
    return Verification(True, len(rows), prev)
