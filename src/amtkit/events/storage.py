"""Alerts in the store (table ``alert``, migration 5): written once each, read by device, time and kind.

Every alert is filed under its key (:meth:`amtkit.events.alerts.Alert.key`: the device, AMT's
IndicationIdentifier, time, message ID and arguments), which is ``UNIQUE``: a device's retry of an
alert already stored, the same alert received by a second manager and merged in later, or a replay
after a restart all find the row there and add nothing.
"""

from __future__ import annotations

import datetime as _dt
import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..store import Store, StoreError
from .alerts import Alert

__all__ = ["AlertRow", "StoredAlert", "count", "insert", "merge", "query", "row_for"]

_COLUMNS = ("key", "device", "sender", "time", "stored_at", "kind", "message_id", "arguments", "severity",
            "description", "identifier", "filter")
_INSERT = f"INSERT OR IGNORE INTO alert ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"

AlertRow = tuple[str, str, str, str | None, str, str, str, str, str, str, str, str]
"""One row as :func:`insert` writes it (the columns in :data:`_COLUMNS` order; ``stored_at`` is set there)."""


def _iso(when: _dt.datetime | None) -> str | None:
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.timezone.utc)
    return when.astimezone(_dt.timezone.utc).isoformat(timespec="microseconds")


def row_for(alert: Alert, device: str, sender: str) -> AlertRow:
    """The row of ``alert`` from ``device`` (sent from address ``sender``), without its stored time yet."""
    return (alert.key(device), device, sender, _iso(alert.time), "", alert.kind, alert.message_id,
            json.dumps(list(alert.arguments)), alert.severity_name, alert.description, alert.identifier,
            alert.filter_name)


def insert(store: Store, rows: Sequence[AlertRow]) -> list[bool]:
    """Write ``rows`` in one transaction; for each, whether it was new (``False``: already stored)."""
    stored_at = _iso(_dt.datetime.now(_dt.timezone.utc)) or ""
    results = []
    with store.transaction() as db:
        for row in rows:
            cursor = db.execute(_INSERT, (*row[:4], stored_at, *row[5:]))
            results.append(cursor.rowcount == 1)
    return results


@dataclass(frozen=True)
class StoredAlert:
    seq: int
    device: str
    sender: str
    time: str | None
    stored_at: str
    kind: str
    message_id: str
    arguments: tuple[str, ...]
    severity: str
    description: str
    identifier: str
    filter: str
    key: str

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "device": self.device, "sender": self.sender, "time": self.time,
                "stored_at": self.stored_at, "kind": self.kind, "severity": self.severity,
                "description": self.description, "message_id": self.message_id, "arguments": list(self.arguments),
                "identifier": self.identifier, "filter": self.filter}

    def line(self) -> str:
        """One line for people: time, device, kind, severity, what happened."""
        return f"{self.time or self.stored_at}  {self.device}  {self.kind:<14} {self.severity:<11} {self.description}"


def _stored(row: sqlite3.Row) -> StoredAlert:
    return StoredAlert(row["seq"], row["device"], row["sender"], row["time"], row["stored_at"], row["kind"],
                       row["message_id"], tuple(json.loads(row["arguments"])), row["severity"],
                       row["description"], row["identifier"], row["filter"], row["key"])


def query(store: Store, *, devices: Iterable[str] = (), kinds: Iterable[str] = (), since: _dt.datetime | None = None,
          until: _dt.datetime | None = None, after: int | None = None, limit: int | None = None,
          newest: bool = False) -> list[StoredAlert]:
    """Stored alerts, oldest first (``newest``: the last ``limit`` ones, still printed oldest first).

    ``since``/``until`` bound the alert's own time; ``after`` returns only rows stored after that
    sequence number (``events tail`` follows the table with it).
    """
    clauses: list[str] = []
    parameters: list[object] = []
    device_list, kind_list = list(devices), list(kinds)
    if device_list:
        clauses.append(f"device IN ({', '.join('?' * len(device_list))})")
        parameters += device_list
    if kind_list:
        clauses.append(f"kind IN ({', '.join('?' * len(kind_list))})")
        parameters += kind_list
    if since is not None:
        clauses.append("COALESCE(time, stored_at) >= ?")
        parameters.append(_iso(since))
    if until is not None:
        clauses.append("COALESCE(time, stored_at) < ?")
        parameters.append(_iso(until))
    if after is not None:
        clauses.append("seq > ?")
        parameters.append(after)
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    order = "DESC" if newest else "ASC"
    sql = f"SELECT * FROM alert{where} ORDER BY seq {order}"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    try:
        rows = store.query(sql, parameters)
    except sqlite3.Error as error:
        raise StoreError(f"cannot read alerts from {store.path}: {error}") from error
    found = [_stored(row) for row in rows]
    return found[::-1] if newest else found


def count(store: Store) -> int:
    return int(store.query("SELECT COUNT(*) FROM alert")[0][0])


def merge(store: Store, other: Store) -> tuple[int, int]:
    """Copy the alerts of ``other`` (a second manager's store) into ``store``: (added, already there)."""
    rows = other.query(f"SELECT {', '.join(_COLUMNS)} FROM alert ORDER BY seq")
    added = 0
    with store.transaction() as db:
        for row in rows:
            added += db.execute(f"INSERT OR IGNORE INTO alert ({', '.join(_COLUMNS)}) VALUES "
                                f"({', '.join('?' * len(_COLUMNS))})", tuple(row)).rowcount
    return added, len(rows) - added
