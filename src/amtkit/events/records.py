"""AMT's event log records (``AMT_MessageLog``): 21 bytes each, decoded into a readable event (sans-IO).

``GetRecords`` answers base64 strings of 21 bytes, no header. The layout is the PET (ASF) event of
IPMI: a little-endian Unix time, then one byte each for the device address, sensor type, event
type, event offset, source type, severity, sensor number, entity and entity instance, then eight
bytes of event data (a first byte of ``0xAA`` marks AMT's own extended data). Sources: Intel AMT SDK
(``AMT_MessageLog``, "Get a Record from the Event Log"), IPMI v1.5 tables 36-3 (sensor types) and
37-12 (entities), and the decoding consoles apply (MeshCommander, go-wsman-messages).

:func:`decode_event_record` and :meth:`EventRecord.encode` are exact inverses; :attr:`EventRecord.description`
says in words what happened, in the order consoles test the fields.
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import enum
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "RECORD_SIZE",
    "EventRecord",
    "EventSeverity",
    "RecordError",
    "SensorType",
    "decode_event_record",
    "entity_name",
]

RECORD_SIZE = 21
"""Bytes of one record (``AMT_MessageLog.MaxRecordSize``)."""

_LAYOUT = struct.Struct("<I9B8s")
EXTENDED_DATA_MARK = 0xAA
"""First byte of the event data when the rest is AMT's own (OEM) extended data."""
_UNSET_TIMES = (0, 0xFFFFFFFF)


class RecordError(ValueError):
    """Bytes that are not an event log record."""


class EventSeverity(enum.IntEnum):
    """PET event severity (``EventSeverity``), a one-bit value."""

    UNSPECIFIED = 0
    MONITOR = 1
    INFORMATION = 2
    OK = 4
    NON_CRITICAL = 8
    """A warning."""
    CRITICAL = 16
    NON_RECOVERABLE = 32

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", "-")


class SensorType(enum.IntEnum):
    """IPMI sensor types AMT writes, or consoles decode, in the event log."""

    TEMPERATURE = 0x01
    VOLTAGE = 0x02
    FAN = 0x04
    PHYSICAL_SECURITY = 0x05
    """Offset 0: chassis intrusion."""
    PLATFORM_SECURITY = 0x06
    """Offset 5: out-of-band access password violation (failed logins)."""
    FIRMWARE_PROGRESS = 0x0F
    """System firmware (BIOS) error (offset 0), hang (1) or progress (2)."""
    SYSTEM_EVENT = 0x12
    BOOT_ERROR = 0x1E
    """No bootable media."""
    OS_CRITICAL_STOP = 0x20
    ACPI_POWER_STATE = 0x22
    """System ACPI power state (offset: the state entered)."""
    WATCHDOG = 0x23
    PLATFORM_ALERT = 0x24
    """AMT: a System Defense filter matched."""
    ENTITY_PRESENCE = 0x25
    REDIRECTION = 0xC0
    """OEM: AMT's remote sessions (SOL, IDE-R) and security policy actions."""
    REMOTE_CONNECTION = 0xC1
    """OEM: remote connection request, EAC/HWA errors."""


_ENTITY_NAMES = (
    "Unspecified", "Other", "Unknown", "Processor", "Disk", "Peripheral", "System management module",
    "System board", "Memory module", "Processor module", "Power supply", "Add in card", "Front panel board",
    "Back panel board", "Power system board", "Drive backplane", "System internal expansion board",
    "Other system board", "Processor board", "Power unit", "Power module", "Power management board",
    "Chassis back panel board", "System chassis", "Sub chassis", "Other chassis board", "Disk drive bay",
    "Peripheral bay", "Device bay", "Fan cooling", "Cooling unit", "Cable interconnect", "Memory device",
    "System management software", "BIOS", "Intel(r) ME", "System bus", "Group", "Intel(r) ME",
    "External environment", "Battery", "Processing blade", "Connectivity switch", "Processor/memory module",
    "I/O module", "Processor I/O module", "Management controller firmware", "IPMI channel", "PCI bus",
    "PCI express bus", "SCSI bus", "SATA/SAS bus", "Processor front side bus",
)
"""IPMI entity IDs 0-52 as consoles name them (35 and 38 both read "Intel(r) ME" in MeshCommander)."""


def entity_name(entity: int) -> str:
    return _ENTITY_NAMES[entity] if 0 <= entity < len(_ENTITY_NAMES) else "Unknown"


_FIRMWARE_ERRORS = (
    "unspecified", "no system memory installed", "no usable system memory", "unrecoverable hard disk/ATAPI/IDE "
    "device failure", "unrecoverable system board failure", "unrecoverable diskette subsystem failure",
    "unrecoverable hard disk controller failure", "unrecoverable keyboard failure", "removable boot media not found",
    "unrecoverable video controller failure", "no video device detected", "firmware (BIOS) ROM corruption detected",
    "CPU voltage mismatch", "CPU speed matching failure",
)
_FIRMWARE_PROGRESS = (
    "unspecified", "memory initialization", "hard disk initialization", "secondary processor initialization",
    "user authentication", "entering BIOS setup", "USB resource configuration", "PCI resource configuration",
    "option ROM initialization", "video initialization", "cache initialization", "SMBus initialization",
    "keyboard controller initialization", "management controller initialization", "docking station attachment",
    "enabling docking station", "docking station ejection", "disabling docking station",
    "calling the operating system wake-up vector", "starting the operating system boot",
    "baseboard initialization", "reserved", "floppy initialization", "keyboard test", "pointing device test",
    "primary processor initialization",
)
_OCR_PROGRESS = (
    "boot parameters received from CSME", "boot option added", "HTTPS URI name resolved", "HTTPS connected",
    "HTTPS download done", "attempting boot", "exit boot services",
)
_OCR_ERRORS = {
    1: "no network connection", 2: "name resolution of the URI failed", 3: "connecting to the URI failed",
    4: "OEM application not found", 5: "HTTPS TLS authentication failed", 6: "HTTPS digest authentication failed",
    7: "verified boot failed", 8: "HTTPS boot file not found",
}
_OCR_SOURCES = {2: "HTTPS", 4: "local PBA", 8: "WinRE"}
_ERASE_ERRORS = {1: "SSD erase not supported", 2: "TPM erase not supported", 3: "maximum erase count reached"}
_ERASE_TARGETS = {2: "SSD", 3: "TPM", 5: "BIOS golden configuration"}
_WATCHDOG_STATES = {1: "not started", 2: "stopped", 4: "running", 8: "expired", 16: "suspended"}
_REDIRECTION_SESSIONS = {0: "SOL session established", 1: "SOL session finished",
                         2: "IDE-R session established", 3: "IDE-R session finished"}
_ACPI_STATES = (
    "S0/G0 working", "S1 sleeping with context", "S2 sleeping", "S3 sleeping (suspend to RAM)",
    "S4 hibernating (suspend to disk)", "S5/G2 soft off", "S4/S5 soft off", "G3 mechanical off",
    "sleeping in S1-S3", "G1 sleeping", "S5 entered by override", "legacy on", "legacy off", "unknown",
)
"""IPMI sensor type 0x22 offsets 0-13 (offset 13 is IPMI's 0x0E "unknown"; 0x0D is reserved)."""
_FILTER_SPECIAL_HANDLES = {
    0xFFFFFFFD: "All inbound packets were dropped (System Defense default rule)",
    0xFFFFFFFC: "All outbound packets were dropped (System Defense default rule)",
    0xFFFFFFFA: "A spoofed packet was dropped (anti-spoofing filter)",
}


def _pick(table: tuple[str, ...] | dict[int, str], index: int, unknown: str) -> str:
    if isinstance(table, dict):
        return table.get(index, f"{unknown} {index}")
    return table[index] if 0 <= index < len(table) else f"{unknown} {index}"


@dataclass(frozen=True)
class EventRecord:
    """One event log record, field by field as AMT stores it."""

    timestamp: int
    """Seconds since 1970 (UTC) as written; 0 and 0xFFFFFFFF mean "clock not set"."""
    device_address: int = 0xFF
    sensor_type: int = 0
    event_type: int = 0x6F
    """0x6F: sensor-specific offsets."""
    event_offset: int = 0
    source_type: int = 0x68
    """0x68 in every record AMT was seen writing (its ASF source type)."""
    severity: int = 0
    sensor_number: int = 0xFF
    entity: int = 0
    entity_instance: int = 0
    data: bytes = bytes(8)

    def __post_init__(self) -> None:
        if len(self.data) != 8:
            raise RecordError(f"event data is 8 bytes, not {len(self.data)}")
        if not 0 <= self.timestamp <= 0xFFFFFFFF:
            raise RecordError(f"timestamp {self.timestamp} does not fit 32 bits")
        for name in ("device_address", "sensor_type", "event_type", "event_offset", "source_type", "severity",
                     "sensor_number", "entity", "entity_instance"):
            if not 0 <= getattr(self, name) <= 0xFF:
                raise RecordError(f"{name} {getattr(self, name)} does not fit one byte")

    # -- bytes -----------------------------------------------------------------------------------
    def encode(self) -> bytes:
        return _LAYOUT.pack(self.timestamp, self.device_address, self.sensor_type, self.event_type,
                            self.event_offset, self.source_type, self.severity, self.sensor_number, self.entity,
                            self.entity_instance, self.data)

    def to_base64(self) -> str:
        """The form ``GetRecords`` carries in ``RecordArray``."""
        return base64.b64encode(self.encode()).decode("ascii")

    # -- meaning ---------------------------------------------------------------------------------
    @property
    def time(self) -> _dt.datetime | None:
        """When it happened (UTC), or ``None`` when the device's clock was not set."""
        if self.timestamp in _UNSET_TIMES:
            return None
        return _dt.datetime.fromtimestamp(self.timestamp, _dt.timezone.utc)

    @property
    def severity_name(self) -> str:
        try:
            return EventSeverity(self.severity).label
        except ValueError:
            return f"severity-{self.severity}"

    @property
    def entity_name(self) -> str:
        return entity_name(self.entity)

    @property
    def extended(self) -> bool:
        """Whether the event data is AMT's own extended data (first byte 0xAA)."""
        return self.data[0] == EXTENDED_DATA_MARK

    @property
    def description(self) -> str:
        """What happened, in words."""
        describe = _DESCRIBERS.get(self.sensor_type)
        if describe is None:
            return f"Unknown sensor type 0x{self.sensor_type:02X} (offset {self.event_offset})"
        return describe(self)

    def to_dict(self) -> dict[str, Any]:
        time = self.time
        return {
            "time": time.isoformat() if time is not None else None,
            "timestamp": self.timestamp,
            "severity": self.severity_name,
            "source": self.entity_name,
            "description": self.description,
            "sensor_type": self.sensor_type,
            "event_type": self.event_type,
            "event_offset": self.event_offset,
            "source_type": self.source_type,
            "severity_code": self.severity,
            "sensor_number": self.sensor_number,
            "device_address": self.device_address,
            "entity": self.entity,
            "entity_instance": self.entity_instance,
            "data": self.data.hex(),
            "record": self.to_base64(),
        }


def decode_event_record(data: bytes | str) -> EventRecord:
    """A record from its 21 bytes, or from the base64 text ``GetRecords`` carries.

    Raises :class:`RecordError` for anything else (wrong length, not base64).
    """
    if isinstance(data, str):
        try:
            data = base64.b64decode(data.strip(), validate=True)
        except (binascii.Error, ValueError) as error:
            raise RecordError("an event log record is not valid base64") from error
    if len(data) != RECORD_SIZE:
        raise RecordError(f"an event log record is {RECORD_SIZE} bytes, not {len(data)}")
    (timestamp, address, sensor, event_type, offset, source, severity, number, entity, instance,
     event_data) = _LAYOUT.unpack(data)
    return EventRecord(timestamp, address, sensor, event_type, offset, source, severity, number, entity, instance,
                       event_data)


# -- descriptions, one function per sensor type -------------------------------------------------------

def _firmware(record: EventRecord) -> str:
    data, offset = record.data, record.event_offset
    if data[0] == 0xEB:
        return "Invalid data"
    if offset == 0:
        return "BIOS error: " + _pick(_FIRMWARE_ERRORS, data[1], "error")
    if offset == 3:
        return _firmware_oem_error(data)
    if offset == 5:
        return _firmware_oem_progress(data)
    return "BIOS progress: " + _pick(_FIRMWARE_PROGRESS, data[1], "progress code")


def _firmware_oem_error(data: bytes) -> str:
    if data[0] == EXTENDED_DATA_MARK and data[1] == 0x30:
        return "One-click recovery error: " + _pick(_OCR_ERRORS, data[2], "error")
    if data[0] == EXTENDED_DATA_MARK and data[1] == 0x40:
        return "Remote platform erase error: " + _pick(_ERASE_ERRORS, data[2], "error")
    return "OEM-specific firmware error"


def _firmware_oem_progress(data: bytes) -> str:
    if data[0] == EXTENDED_DATA_MARK and data[1] == 0x30:
        if data[2] == 1:
            source = _OCR_SOURCES.get(data[3])
            return "One-click recovery: boot option added" + (f" ({source})" if source else "")
        return "One-click recovery: " + _pick(_OCR_PROGRESS, data[2], "step")
    if data[0] == EXTENDED_DATA_MARK and data[1] == 0x40:
        step, target = data[2], _ERASE_TARGETS.get(data[3], f"device {data[3]}")
        return {1: f"Remote platform erase: erasing {target}", 2: f"Remote platform erase: {target} erased",
                3: "Remote platform erase begins", 4: "Remote platform erase: reserved parameters cleared",
                5: "Remote platform erase: all settings decremented"}.get(step, f"Remote platform erase step {step}")
    return "OEM-specific firmware progress"


def _agent_watchdog(record: EventRecord) -> str:
    data = record.data
    if not record.extended:
        return "System event"
    agent = f"{data[4]:02x}{data[3]:02x}{data[2]:02x}{data[1]:02x}-{data[6]:02x}{data[5]:02x}"
    return f"Agent watchdog {agent}-... changed to {_pick(_WATCHDOG_STATES, data[7], 'state')}"


def _physical_security(record: EventRecord) -> str:
    return "Case intrusion" if record.event_offset == 0 else f"Physical security event (offset {record.event_offset})"


def _authentication(record: EventRecord) -> str:
    count = record.data[1] + 256 * record.data[2]
    return f"Authentication failed {count} times; the system may be under attack"


def _filter_match(record: EventRecord) -> str:
    handle = int.from_bytes(record.data[1:5], "big")
    nic = "wired" if record.extended else f"#{record.data[0]}"
    special = _FILTER_SPECIAL_HANDLES.get(handle)
    if special is not None:
        return f"{special} on the {nic} interface"
    return f"System Defense filter {handle} was matched on the {nic} interface"


def _redirection(record: EventRecord) -> str:
    data = record.data
    if record.event_offset == 0 and data[0] == EXTENDED_DATA_MARK and data[1] == 0x30:
        return _pick(_REDIRECTION_SESSIONS, data[2], "remote session event")
    if data[2] == 0:
        return "Security policy invoked: transmit traffic stopped"
    if data[2] == 2:
        return "Security policy invoked: receive traffic stopped"
    return "Security policy invoked"


def _remote_connection(record: EventRecord) -> str:
    head = bytes(record.data[:4])
    if head == b"\xaa\x30\x00\x00":
        return "Remote connection request"
    if head == b"\xaa\x20\x03\x01":
        return "Endpoint access control (EAC) error"
    if head == b"\xaa\x20\x04\x00":
        return "HWA error"
    return "OEM remote connection event"


def _boot_error(record: EventRecord) -> str:
    return "No bootable media"


def _os_stop(record: EventRecord) -> str:
    return "Operating system lockup or power interrupt"


def _watchdog(record: EventRecord) -> str:
    return "BIOS POST watchdog timeout" if record.data[0] == 0x40 else "System boot failure"


def _firmware_started(record: EventRecord) -> str:
    return "System firmware started (at least one CPU is executing)"


def _power_state(record: EventRecord) -> str:
    return "Power state changed: " + _pick(_ACPI_STATES, record.event_offset, "state")


_DESCRIBERS: dict[int, Callable[[EventRecord], str]] = {
    SensorType.FIRMWARE_PROGRESS: _firmware,
    SensorType.SYSTEM_EVENT: _agent_watchdog,
    SensorType.PHYSICAL_SECURITY: _physical_security,
    SensorType.PLATFORM_ALERT: _filter_match,
    SensorType.REDIRECTION: _redirection,
    SensorType.REMOTE_CONNECTION: _remote_connection,
    SensorType.PLATFORM_SECURITY: _authentication,
    SensorType.BOOT_ERROR: _boot_error,
    SensorType.OS_CRITICAL_STOP: _os_stop,
    SensorType.WATCHDOG: _watchdog,
    SensorType.ENTITY_PRESENCE: _firmware_started,
    SensorType.ACPI_POWER_STATE: _power_state,
}
