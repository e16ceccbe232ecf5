"""Events and logs: what each machine recorded, and alerts gathered on a manager.

* :mod:`amtkit.events.records` and :mod:`amtkit.events.audit`: the event log's 21-byte records and the
  audit log's records, decoded (sans-IO);
* :mod:`amtkit.events.log`: ``client.events`` and ``client.audit`` read them from a device.
"""

from __future__ import annotations

from .audit import AuditApp, AuditEvent, AuditRecord, decode_audit_record
from .log import AuditLogReader, AuditLogStatus, EventLogReader, EventLogStatus
from .records import EventRecord, EventSeverity, SensorType, decode_event_record

__all__ = ["AuditApp", "AuditEvent", "AuditLogReader", "AuditLogStatus", "AuditRecord", "EventLogReader",
           "EventLogStatus", "EventRecord", "EventSeverity", "SensorType", "decode_audit_record",
           "decode_event_record"]
