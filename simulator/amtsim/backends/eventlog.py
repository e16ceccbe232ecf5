"""The device's event log and audit log, and what the firmware records in them (no XML, no HTTP).

Rules, as Intel's SDK describes ``AMT_MessageLog`` and ``AMT_AuditLog``:

* Rule 1: the event log holds :data:`EVENT_LOG_CAPACITY` records of 21 bytes, newest first (position
  1 is the latest); when full it wraps (``OverwritePolicy`` 2): the oldest record goes.
* Rule 2: a frozen event log (``FreezeLog(true)``) keeps no new record and refuses to be cleared
  (PT_STATUS 0x080B EVENTLOG_FROZEN) until it is unfrozen; an event that happens meanwhile is still
  alerted, only not logged.
* Rule 3: the audit log is oldest first, bounded in bytes rather than records; under the default
  storage policy (roll-over) the oldest records make room. Clearing it is itself audited (20/0).
* Rule 4: every record carries the device's wall clock; audit records name the initiator (the
  digest user, or local) and the address the request came from.

What the firmware records (:class:`EventLogBackend` methods, called by the other services):

========================================  ==========================================  ==============================
happening                                 event log record                            audit record
========================================  ==========================================  ==============================
a failed login                            at lockout: sensor 0x06 "authentication     16/5 ACL access with invalid
                                          failed N times"                             credentials
a power change requested                  sensor 0x22, the ACPI state entered         17/0-9 (power up, down...)
the host powering up and booting          sensor 0x25 firmware started, 0x0F BIOS     -
                                          progress "OS boot", or 0x1E no bootable
                                          media when the boot failed
a System Defense filter with event on     sensor 0x24 "filter N was matched"          -
match, a default drop, a spoofed packet
a SOL / IDE-R session opened or closed    sensor 0xC0, AA 30 0-3                      18/4,5 and 18/0,1
a setting changed over WS-Man             -                                           the audit event of the change
========================================  ==========================================  ==============================

Sensor 0x22 records for power changes are this simulator's choice (IPMI's ACPI power state sensor);
whether AMT writes them is not documented. Each logged record is also handed to :attr:`EventLogBackend.on_event`
(the alert service pushes it to subscribers).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from amtkit.codes import PowerAction
from amtkit.events.audit import AuditEvent, AuditRecord, InitiatorType, LocationType
from amtkit.events.records import EXTENDED_DATA_MARK, EventRecord, EventSeverity, SensorType

__all__ = ["AUDIT_LOG_CAPACITY_BYTES", "EVENT_LOG_CAPACITY", "EventLogBackend", "Happening", "Requester"]

EVENT_LOG_CAPACITY = 390
"""``AMT_MessageLog.MaxNumberOfRecords`` as recorded."""
AUDIT_LOG_CAPACITY_BYTES = 81920
"""The audit log's storage; inferred from a recorded ``AMT_AuditLog`` (864 records, 57% free)."""
AUDIT_READ_BATCH = 10
"""Records one ``ReadRecords`` returns at most (the SDK's MOF hints at ten)."""

_ENTITY_BIOS = 0x22
_ENTITY_ME = 0x26
_INSTANCE_LAN = 0x61
_POWER_AUDIT = {
    PowerAction.ON: AuditEvent.POWER_UP, PowerAction.OFF: AuditEvent.POWER_DOWN,
    PowerAction.OFF_HARD: AuditEvent.POWER_DOWN, PowerAction.CYCLE: AuditEvent.POWER_CYCLE,
    PowerAction.CYCLE_HARD: AuditEvent.POWER_CYCLE, PowerAction.RESET: AuditEvent.RESET,
    PowerAction.OFF_GRACEFUL: AuditEvent.GRACEFUL_POWER_DOWN, PowerAction.OFF_HARD_GRACEFUL: AuditEvent.GRACEFUL_POWER_DOWN,
    PowerAction.RESET_GRACEFUL: AuditEvent.GRACEFUL_RESET, PowerAction.CYCLE_GRACEFUL: AuditEvent.GRACEFUL_RESET,
    PowerAction.CYCLE_HARD_GRACEFUL: AuditEvent.GRACEFUL_RESET, PowerAction.SLEEP: AuditEvent.STANDBY,
    PowerAction.SLEEP_LIGHT: AuditEvent.STANDBY, PowerAction.HIBERNATE: AuditEvent.HIBERNATE,
    PowerAction.NMI: AuditEvent.NMI,
}
_ACPI_OFFSET = {  # IPMI sensor type 0x22 offsets of the state a power action leaves the host in
    PowerAction.ON: 0, PowerAction.OFF: 5, PowerAction.OFF_GRACEFUL: 5, PowerAction.OFF_HARD: 7,
    PowerAction.OFF_HARD_GRACEFUL: 7, PowerAction.SLEEP: 3, PowerAction.SLEEP_LIGHT: 1, PowerAction.HIBERNATE: 4,
    PowerAction.CYCLE: 5, PowerAction.CYCLE_HARD: 7, PowerAction.CYCLE_GRACEFUL: 5, PowerAction.CYCLE_HARD_GRACEFUL: 7,
}
"""A cycle is logged as the off it passes through; the power-up that follows logs the boot."""
_SESSION_CODES = {("sol", True): 0, ("sol", False): 1, ("ider", True): 2, ("ider", False): 3}
_SESSION_AUDIT = {("sol", True): AuditEvent.SOL_SESSION_OPENED, ("sol", False): AuditEvent.SOL_SESSION_CLOSED,
                  ("ider", True): AuditEvent.IDER_SESSION_OPENED, ("ider", False): AuditEvent.IDER_SESSION_CLOSED}
_DEFENSE_HANDLES = {"default": None, "anti-spoofing": 0xFFFFFFFA}


@dataclass(frozen=True)
class Requester:
    """Who asked, for audit records: the digest user (empty: local) and the address the request came from."""

    user: str = ""
    address: str = ""


@dataclass(frozen=True)
class Happening:
    """Something the firmware recorded, as the alert service needs it: the event log record (``None``
    for happenings only audited) and what kind of alert it is."""

    kind: str
    """``login``, ``lockout``, ``power``, ``boot``, ``system-defense``, ``redirection``."""
    record: EventRecord
    detail: dict[str, object] = field(default_factory=dict)
    at: float = 0.0
    """Wall clock (``time.time()``) with sub-second precision."""


@dataclass
class EventLogBackend:
    clock: Callable[[], float] = time.time
    """The device's wall clock (seconds since 1970)."""
    records: deque[EventRecord] = field(default_factory=lambda: deque(maxlen=EVENT_LOG_CAPACITY))
    """Newest first (Rule 1)."""
    frozen: bool = False
    audit: deque[AuditRecord] = field(default_factory=deque)
    """Oldest first (Rule 3)."""
    audit_bytes: int = 0
    audit_capacity: int = AUDIT_LOG_CAPACITY_BYTES
    on_event: list[Callable[[Happening], None]] = field(default_factory=list)
    """Called for every event, logged or not (the alert service)."""
    login_failures: dict[str, int] = field(default_factory=dict)
    """Failed logins per user since their last success or lockout (the count an authentication record carries)."""

    # -- the logs ----------------------------------------------------------------------------------
    def log(self, kind: str, record: EventRecord, *, keep: bool = True, **detail: object) -> None:
        """Keep ``record`` (Rules 1, 2; ``keep=False``: alert only) and hand it to the alert service."""
        if keep and not self.frozen:
            self.records.appendleft(record)
        happening = Happening(kind, record, dict(detail), self.clock())
        for listener in self.on_event:
            listener(happening)

    def clear(self) -> bool:
        """Empty the event log; ``False`` when it is frozen (Rule 2)."""
        if self.frozen:
            return False
        self.records.clear()
        return True

    def add_audit(self, event: AuditEvent, requester: Requester | None = None, extended: bytes = b"") -> AuditRecord:
        who = requester or Requester()
        initiator = InitiatorType.DIGEST_USER if who.user else InitiatorType.LOCAL
        location = LocationType.NONE
        if who.address:
            location = LocationType.IPV6 if ":" in who.address else LocationType.IPV4
        record = AuditRecord(event.app, event.event_id, initiator, who.user, self._now(), location, who.address,
                             extended)
        size = len(record.encode())
        self.audit.append(record)
        self.audit_bytes += size
        while self.audit_bytes > self.audit_capacity and len(self.audit) > 1:
            self.audit_bytes -= len(self.audit.popleft().encode())  # roll-over (Rule 3)
        return record

    def clear_audit(self, requester: Requester | None = None) -> None:
        self.audit.clear()
        self.audit_bytes = 0
        self.add_audit(AuditEvent.AUDIT_LOG_CLEARED, requester)

    @property
    def audit_percentage_free(self) -> int:
        return max(0, 100 - self.audit_bytes * 100 // self.audit_capacity)

    def _now(self) -> int:
        return int(self.clock()) & 0xFFFFFFFF

    def _record(self, sensor: SensorType, severity: EventSeverity, *, offset: int = 0, entity: int = _ENTITY_ME,
                instance: int = 0, data: bytes = b"") -> EventRecord:
        return EventRecord(self._now(), sensor_type=sensor, event_offset=offset, severity=severity, entity=entity,
                           entity_instance=instance, data=data.ljust(8, b"\0"))

    # -- what happens to the device ------------------------------------------------------------------
    def login_failed(self, user: str, requester: Requester | None, locked: bool) -> None:
        """A wrong password: audited (16/5) and alerted each time; the event log keeps one record when the
        account locks, saying how many logins failed (sensor 0x06 offset 5, as recorded from AMT)."""
        self.add_audit(AuditEvent.ACL_ACCESS_INVALID_CREDENTIALS, requester, b"\0")
        count = self.login_failures.get(user, 0) + 1
        self.login_failures[user] = count
        severity = EventSeverity.CRITICAL if locked else EventSeverity.NON_CRITICAL
        record = self._record(SensorType.PLATFORM_SECURITY, severity, offset=5, instance=_INSTANCE_LAN,
                              data=bytes([EXTENDED_DATA_MARK, count & 0xFF, count >> 8 & 0xFF]))
        address = requester.address if requester else ""
        if locked:
            self.login_failures.pop(user, None)
            self.log("lockout", record, user=user, failures=count, address=address)
        else:
            self.log("login", record, keep=False, user=user, failures=count, address=address)

    def login_succeeded(self, user: str) -> None:
        self.login_failures.pop(user, None)

    def power_requested(self, action: PowerAction, requester: Requester | None) -> None:
        event = _POWER_AUDIT.get(action)
        if event is not None:
            self.add_audit(event, requester, b"\0" * 7 if event in (AuditEvent.POWER_UP, AuditEvent.POWER_CYCLE,
                                                                   AuditEvent.RESET, AuditEvent.GRACEFUL_RESET)
                           else b"")
        offset = _ACPI_OFFSET.get(action)
        if offset is not None:
            self.log("power", self._record(SensorType.ACPI_POWER_STATE, EventSeverity.INFORMATION, offset=offset,
                                           entity=0x07), action=action.cli_name)

    def powered_up(self, booted: bool, target: str) -> None:
        """The host came up: firmware started, then the boot (or no bootable media)."""
        self.log("boot", self._record(SensorType.ENTITY_PRESENCE, EventSeverity.INFORMATION, entity=_ENTITY_BIOS),
                 target=target)
        if booted:
            self.log("boot", self._record(SensorType.FIRMWARE_PROGRESS, EventSeverity.MONITOR, offset=2,
                                          entity=_ENTITY_BIOS, data=bytes([0x40, 19])), target=target)
        else:
            self.log("boot", self._record(SensorType.BOOT_ERROR, EventSeverity.CRITICAL, offset=0,
                                          entity=_ENTITY_BIOS), target=target, booted=False)

    def filter_event(self, kind: str, handle: int | None, inbound: bool, detail: str) -> None:
        """A System Defense filter with event on match matched (``match``), a default rule or the
        anti-spoofing filter dropped a packet."""
        if kind == "match" and handle is not None:
            special = handle
        elif kind == "anti-spoofing":
            special = 0xFFFFFFFA
        elif kind == "default":
            special = 0xFFFFFFFD if inbound else 0xFFFFFFFC
        else:
            return
        data = bytes([EXTENDED_DATA_MARK]) + special.to_bytes(4, "big")
        self.log("system-defense", self._record(SensorType.PLATFORM_ALERT, EventSeverity.NON_CRITICAL, data=data,
                                                instance=_INSTANCE_LAN),
                 rule=kind, filter=handle, inbound=inbound, packet=detail)

    def session(self, kind: str, opened: bool, requester: Requester | None) -> None:
        """A SOL or IDE-R session opened or closed (``kind``: ``sol`` or ``ider``)."""
        self.add_audit(_SESSION_AUDIT[(kind, opened)], requester if opened else Requester(address=(
            requester.address if requester else "")))
        code = _SESSION_CODES[(kind, opened)]
        self.log("redirection", self._record(SensorType.REDIRECTION, EventSeverity.INFORMATION,
                                             instance=_INSTANCE_LAN, data=bytes([EXTENDED_DATA_MARK, 0x30, code])),
                 session=kind, opened=opened, user=requester.user if requester else "")
