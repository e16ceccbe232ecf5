"""AMT_MessageLog (the event log) and AMT_AuditLog (the audit log) over WS-Man.

The logs themselves are :mod:`amtsim.backends.eventlog`; this module answers for them the way the
recorded AMT answers do: the ``Get`` bodies field by field, ``GetRecords`` with the position of the
last record sent as its ``IterationIdentifier`` and ``NoMoreRecords``, ``ReadRecords`` ten records at
a time, oldest first.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar

from amtkit.codes import PTStatus
from amtkit.events.log import GetRecordsResult
from amtkit.events.records import RECORD_SIZE
from amtkit.wsman import names
from amtkit.wsman.names import Cls
from amtkit.wsman.values import CimInstance, Scalar, Selector, Value

from ..backends.eventlog import AUDIT_READ_BATCH, EVENT_LOG_CAPACITY
from .base import ClassHandler, register

if TYPE_CHECKING:
    from ..device import SimulatedDevice

Output = tuple[int, dict[str, Value]]


def _int(value: Value, default: int = -1) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return default


class MessageLog(ClassHandler):
    class_name = Cls.AMT_MessageLog
    methods: ClassVar[dict[str, str]] = {
        "PositionToFirstRecord": "position_to_first_record", "GetRecords": "get_records",
        "FreezeLog": "freeze_log", "ClearLog": "clear_log", "CancelIteration": "cancel_iteration",
    }

    def instances(self, device: SimulatedDevice) -> list[CimInstance]:
        log = device.event_log
        count = len(log.records)
        return [CimInstance(self.class_name, {
            "Capabilities": [5, 6, 8, 7], "CharacterSet": 10, "CreationClassName": self.class_name,
            "CurrentNumberOfRecords": count, "ElementName": names.MESSAGE_LOG_NAME, "EnabledDefault": 2,
            "EnabledState": 2, "HealthState": 5, "IsFrozen": log.frozen, "LastChange": 0, "LogState": 4,
            "MaxLogSize": 0, "MaxNumberOfRecords": EVENT_LOG_CAPACITY, "MaxRecordSize": RECORD_SIZE,
            "Name": names.MESSAGE_LOG_NAME, "OperationalStatus": 2, "OverwritePolicy": 2,
            "PercentageNearFull": count * 100 // EVENT_LOG_CAPACITY, "RequestedState": 12, "SizeOfHeader": 0,
            "SizeOfRecordHeader": 0, "Status": "OK",
        })]

    def position_to_first_record(self, device: SimulatedDevice, selectors: Mapping[str, Selector],
                                 params: dict[str, Value]) -> Output:
        if not device.event_log.records:
            return 2, {}  # no record
        return 0, {"IterationIdentifier": 1}

    def get_records(self, device: SimulatedDevice, selectors: Mapping[str, Selector],
                    params: dict[str, Value]) -> Output:
        records = device.event_log.records
        start = _int(params.get("IterationIdentifier"), 1)
        wanted = _int(params.get("MaxReadRecords"), 1)
        if not records:
            return int(GetRecordsResult.NO_RECORD), {}
        if start < 1 or start > len(records) or wanted < 1:
            return int(GetRecordsResult.INVALID_RECORD), {}
        end = min(len(records), start - 1 + min(wanted, EVENT_LOG_CAPACITY))
        page: list[Scalar] = [records[i].to_base64() for i in range(start - 1, end)]
        last = start + len(page) - 1
        return int(GetRecordsResult.COMPLETED), {"IterationIdentifier": last, "NoMoreRecords": last >= len(records),
                                                 "RecordArray": page}

    def freeze_log(self, device: SimulatedDevice, selectors: Mapping[str, Selector],
                   params: dict[str, Value]) -> Output:
        text = str(params.get("Freeze", "")).strip().lower()
        if text not in ("true", "false", "1", "0"):
            return int(PTStatus.INVALID_PARAMETER), {}
        device.event_log.frozen = text in ("true", "1")
        return 0, {}

    def clear_log(self, device: SimulatedDevice, selectors: Mapping[str, Selector],
                  params: dict[str, Value]) -> Output:
        return (0 if device.event_log.clear() else int(PTStatus.EVENTLOG_FROZEN)), {}

    def cancel_iteration(self, device: SimulatedDevice, selectors: Mapping[str, Selector],
                         params: dict[str, Value]) -> Output:
        return 0, {}


class AuditLog(ClassHandler):
    class_name = Cls.AMT_AuditLog
    methods: ClassVar[dict[str, str]] = {"ReadRecords": "read_records", "ClearLog": "clear_log"}

    def instances(self, device: SimulatedDevice) -> list[CimInstance]:
        log = device.event_log
        last = log.audit[-1].time if log.audit else _dt.datetime.fromtimestamp(0, _dt.timezone.utc)
        return [CimInstance(self.class_name, {
            "AuditState": 16, "CurrentNumberOfRecords": len(log.audit), "ElementName": names.AUDIT_LOG_ELEMENT_NAME,
            "EnabledState": 2, "MaxAllowedAuditors": 1, "MaxNumberOfRecords": 0, "Name": names.AUDIT_LOG_NAME,
            "OverwritePolicy": 2, "PercentageFree": log.audit_percentage_free, "RequestedState": 2,
            "StoragePolicy": 1, "TimeOfLastRecord": last,
        })]

    def read_records(self, device: SimulatedDevice, selectors: Mapping[str, Selector],
                     params: dict[str, Value]) -> Output:
        audit = device.event_log.audit
        start = _int(params.get("StartIndex"))
        total = len(audit)
        if start < 1 or (start > total and not (start == 1 and total == 0)):
            return int(PTStatus.INVALID_INDEX), {}
        page: list[Scalar] = [audit[i].to_base64() for i in range(start - 1, min(total, start - 1 + AUDIT_READ_BATCH))]
        return 0, {"TotalRecordCount": total, "RecordsReturned": len(page), "EventRecords": page}

    def clear_log(self, device: SimulatedDevice, selectors: Mapping[str, Selector],
                  params: dict[str, Value]) -> Output:
        device.event_log.clear_audit(device.requester)
        return 0, {}


for _handler in (MessageLog(), AuditLog()):
    register(_handler)
