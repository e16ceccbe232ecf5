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
import json
import os
import socket
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from .hashes import sha256_hex

if TYPE_CHECKING:
    import sqlite3

    from .activity_query import Record, Verification, query, verify
    from .store import Store

__all__ = ["GENESIS", "Entry", "Record", "Verification", "append", "current_operator", "query", "verify"]

OPERATOR_ENV = "AMTKIT_OPERATOR"
GENESIS = "0" * 64
"""The ``prev_hash`` of the first record."""

_READING = frozenset({"Record", "Verification", "query", "verify"})
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


def _digest(prev_hash: str, values: Sequence[Any]) -> str:
    canonical = json.dumps([prev_hash, *values], separators=(",", ":"), ensure_ascii=True)
    return sha256_hex(canonical.encode("ascii"))


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


def __getattr__(name: str) -> Any:
    """The reading side (:func:`query`, :func:`verify` and their records) lives in
    :mod:`amtkit.activity_query`, loaded when first asked for here: every CLI call appends a record,
    few read the log, and building its two dataclasses cost about 1 ms of each call."""
    if name in _READING:
        from . import activity_query

        return getattr(activity_query, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
