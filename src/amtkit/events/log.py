"""Reading what a device keeps: its event log (``client.events``) and audit log (``client.audit``).

::

    with amtkit.Client("10.0.0.5", password="...") as amt:
        for record in amt.events.records():          # newest first, as AMT keeps them
            print(record.time, record.entity_name, record.description)
        for entry in amt.audit.records():            # oldest first
            print(entry.time, entry.initiator, entry.address, entry.description)

Event log (``AMT_MessageLog``): ``GetRecords(IterationIdentifier, MaxReadRecords)`` from position 1
(``PositionToFirstRecord`` has no effect on AMT, so it is not sent), 390 records a call as consoles
ask, so a full log is one round trip. A page's ``IterationIdentifier`` is the position of the last
record it carried (the recorded answer: three records, identifier 3), so the next page starts one
after it. The log holds at most 390 records and wraps when full; a frozen log takes no new records.

Audit log (``AMT_AuditLog``): ``ReadRecords(StartIndex)`` from 1 (the oldest), then from one past
the records read so far while ``TotalRecordCount`` says there are more, as MeshCommander pages.
"""

from __future__ import annotations

import datetime as _dt
import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from .. import exceptions as exc
from ..wsman import names
from ..wsman.values import CimInstance, Value
from .audit import AuditRecord, AuditRecordError, decode_audit_record
from .records import EventRecord, RecordError, decode_event_record
from .subscriptions import Subscriptions

if TYPE_CHECKING:
    from ..client import Client

__all__ = ["AuditLogReader", "AuditLogStatus", "EventLogReader", "EventLogStatus", "GetRecordsResult"]

MAX_RECORDS_PER_CALL = 390
"""What consoles ask for in one GetRecords (the log's capacity): a whole log in one round trip."""
_MAX_PAGES = 64
"""A device that never says NoMoreRecords is not read forever (a full log at one record a page is 390)."""
T = TypeVar("T")


class GetRecordsResult(enum.IntEnum):
    """``AMT_MessageLog.GetRecords`` ReturnValue (CIM_MessageLog)."""

    COMPLETED = 0
    NOT_SUPPORTED = 1
    INVALID_RECORD = 2
    """The position given is past the log's end."""
    NO_RECORD = 3
    """The log is empty."""


class AuditState(enum.IntFlag):
    """``AMT_AuditLog.AuditState`` bits."""

    DISABLED = 0x01
    LOCKED = 0x02
    ALMOST_FULL = 0x04
    """85% full: non-critical events are no longer recorded."""
    FULL = 0x08
    """Critical events are refused (and so are the operations they audit)."""
    NO_KEY = 0x10
    """No signing key or certificate is set (the log cannot be exported signed)."""


def _int(value: Value, default: int = 0) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return default


def _bool(value: Value) -> bool:
    return value is True or str(value).strip().lower() in ("true", "1")


def _strings(value: Value) -> list[str]:
    if value is None or value == "":
        return []
    items = value if isinstance(value, list) else [value]
    return [str(item) for item in items if item not in (None, "")]


@dataclass(frozen=True)
class EventLogStatus:
    """``AMT_MessageLog`` as the device reports it."""

    records: int
    capacity: int
    frozen: bool
    overwrite_policy: int
    """2: wraps when full (the oldest record goes), 7: never overwrites."""
    percentage_full: int

    @property
    def wraps(self) -> bool:
        return self.overwrite_policy == 2

    def to_dict(self) -> dict[str, Any]:
        return {"records": self.records, "capacity": self.capacity, "frozen": self.frozen,
                "wraps_when_full": self.wraps, "percentage_full": self.percentage_full}


@dataclass(frozen=True)
class AuditLogStatus:
    """``AMT_AuditLog`` as the device reports it."""

    records: int
    percentage_free: int
    state: AuditState
    storage_policy: int
    """0: no roll-over, 1: roll-over (oldest records go), 2: roll-over of records older than MinDaysToKeep."""
    last_record: _dt.datetime | None
    enabled: bool

    def to_dict(self) -> dict[str, Any]:
        return {"records": self.records, "percentage_free": self.percentage_free,
                "state": [(flag.name or "").lower() for flag in AuditState if flag in self.state],
                "storage_policy": {0: "no-roll-over", 1: "roll-over", 2: "restricted-roll-over"}.get(
                    self.storage_policy, str(self.storage_policy)),
                "last_record": self.last_record.isoformat() if self.last_record else None, "enabled": self.enabled}


def _since(records: Sequence[T], since: _dt.datetime | None, time_of: Callable[[T], _dt.datetime | None]) -> list[T]:
    if since is None:
        return list(records)
    if since.tzinfo is None:
        since = since.replace(tzinfo=_dt.timezone.utc)
    kept = []
    for record in records:
        when = time_of(record)
        if when is not None and when >= since:
            kept.append(record)
    return kept


class EventLogReader(Subscriptions):
    """``client.events``: the device's event log, and its alert subscriptions (:mod:`amtkit.events.subscriptions`)."""

    def status(self) -> EventLogStatus:
        log = self._client.get(names.Cls.AMT_MessageLog)
        return EventLogStatus(records=_int(log.get("CurrentNumberOfRecords")),
                              capacity=_int(log.get("MaxNumberOfRecords")), frozen=_bool(log.get("IsFrozen")),
                              overwrite_policy=_int(log.get("OverwritePolicy")),
                              percentage_full=_int(log.get("PercentageNearFull")))

    def records(self, *, since: _dt.datetime | None = None, page_size: int = MAX_RECORDS_PER_CALL) -> list[EventRecord]:
        """Every record, newest first as AMT keeps them (``since``: only those at or after it)."""
        if not 1 <= page_size <= MAX_RECORDS_PER_CALL:
            raise exc.UsageError(f"page_size must be 1-{MAX_RECORDS_PER_CALL}, not {page_size}", host=self._client.host)
        raw: list[str] = []
        position = 1
        for _ in range(_MAX_PAGES):
            output = self._client.invoke(names.Cls.AMT_MessageLog, "GetRecords",
                                         {"IterationIdentifier": position, "MaxReadRecords": page_size}, check=False)
            result = output.return_value
            if result in (GetRecordsResult.NO_RECORD, GetRecordsResult.INVALID_RECORD) and position == 1:
                return []
            if result != GetRecordsResult.COMPLETED:
                raise self._get_records_error(result)
            page = _strings(output.outputs.get("RecordArray"))
            raw.extend(page)
            if _bool(output.outputs.get("NoMoreRecords")) or not page:
                break
            position = _int(output.outputs.get("IterationIdentifier"), position + len(page) - 1) + 1
        else:
            raise exc.RemoteProtocolError(f"the event log did not end after {_MAX_PAGES} GetRecords calls",
                                          host=self._client.host)
        return _since([self._decode(text) for text in raw], since, lambda r: r.time)

    def _decode(self, text: str) -> EventRecord:
        try:
            return decode_event_record(text)
        except RecordError as error:
            raise exc.RemoteProtocolError(f"unreadable event log record {text[:40]!r}: {error}",
                                          host=self._client.host) from error

    def _get_records_error(self, value: int) -> exc.AMTError:
        try:
            meaning = GetRecordsResult(value).name
        except ValueError:
            meaning = "unknown"
        return exc.AMTReturnError(f"AMT_MessageLog.GetRecords returned {value} ({meaning})", return_value=value,
                                  host=self._client.host, method="GetRecords", meaning=meaning,
                                  resource_uri=names.resource_uri(names.Cls.AMT_MessageLog),
                                  action=names.method_action(names.Cls.AMT_MessageLog, "GetRecords"))

    def freeze(self, frozen: bool = True) -> None:
        """Freeze the log (no new records are kept, nothing is overwritten) or let it record again."""
        self._client.invoke(names.Cls.AMT_MessageLog, "FreezeLog", {"Freeze": frozen})

    def clear(self) -> None:
        """Empty the log (AMT refuses while it is frozen: PT_STATUS 0x080B EVENTLOG_FROZEN)."""
        self._client.invoke(names.Cls.AMT_MessageLog, "ClearLog")


_AUDIT_PAGE_GUARD = 100_000
"""Records read at most, whatever TotalRecordCount claims (a real log holds a few thousand)."""


class AuditLogReader:
    """``client.audit``: the device's audit log (the Access Monitor)."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def status(self) -> AuditLogStatus:
        log: CimInstance = self._client.get(names.Cls.AMT_AuditLog)
        last = log.get("TimeOfLastRecord")
        return AuditLogStatus(records=_int(log.get("CurrentNumberOfRecords")),
                              percentage_free=_int(log.get("PercentageFree")),
                              state=AuditState(_int(log.get("AuditState")) & 0x1F),
                              storage_policy=_int(log.get("StoragePolicy")),
                              last_record=last if isinstance(last, _dt.datetime) else None,
                              enabled=_int(log.get("EnabledState"), 2) == 2)

    def records(self, *, since: _dt.datetime | None = None) -> list[AuditRecord]:
        """Every record, oldest first (``since``: only those at or after it)."""
        raw: list[str] = []
        total = None
        while total is None or len(raw) < total:
            output = self._client.invoke(names.Cls.AMT_AuditLog, "ReadRecords", {"StartIndex": len(raw) + 1})
            total = _int(output.outputs.get("TotalRecordCount"))
            page = _strings(output.outputs.get("EventRecords"))
            if not page:
                break  # the log shrank (cleared, rolled over) while it was read
            raw.extend(page)
            if len(raw) > _AUDIT_PAGE_GUARD:
                raise exc.RemoteProtocolError(f"the audit log claims more than {_AUDIT_PAGE_GUARD} records",
                                              host=self._client.host)
        return _since([self._decode(text) for text in raw], since, lambda r: r.time)

    def _decode(self, text: str) -> AuditRecord:
        try:
            return decode_audit_record(text)
        except AuditRecordError as error:
            raise exc.RemoteProtocolError(f"unreadable audit log record {text[:40]!r}: {error}",
                                          host=self._client.host) from error

    def clear(self) -> None:
        """Empty the audit log (an auditor's right on real AMT)."""
        self._client.invoke(names.Cls.AMT_AuditLog, "ClearLog")
