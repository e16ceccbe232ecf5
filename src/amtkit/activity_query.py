"""Reading the activity log (:mod:`amtkit.activity`): :func:`query` its records and :func:`verify` their chain.

Apart from the writing side so that a command which only appends a record does not build these
classes; ``amtkit.activity.query`` and the others still resolve here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from .activity import _FIELDS, GENESIS, _digest

if TYPE_CHECKING:
    from .store import Store

__all__ = ["Record", "Verification", "query", "verify"]


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
