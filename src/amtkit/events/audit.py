"""AMT's audit log records (``AMT_AuditLog``, the Access Monitor): who did what, from where, when (sans-IO).

``ReadRecords`` answers base64 strings of variable length. Layout (Intel AMT SDK ``AMT_AuditLog``,
"Read the Audit Log"; multi-byte numbers big-endian):

====================  ==========  =================================================================
AuditAppID            2 bytes     the application (:class:`AuditApp`)
EventID               2 bytes     the event within it (:class:`AuditEvent` is ``app * 100 + event``)
InitiatorType         1 byte      0 digest user, 1 Kerberos user (SID), 2 local, 3 KVM default port
InitiatorData         variable    digest: 1-byte length + user name; Kerberos: 4 bytes + 1-byte length + SID
TimeStamp             4 bytes     seconds since 1970
MCLocationType        1 byte      0 IPv4, 1 IPv6, 2 none
NetAddressLength      1 byte      then the address as ASCII text (``127.0.0.1``)
ExtendedDataLength    1 byte      then event-specific data
====================  ==========  =================================================================

:func:`decode_audit_record` and :meth:`AuditRecord.encode` are exact inverses.
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import enum
import ipaddress
import struct
from dataclasses import dataclass
from typing import Any

__all__ = ["AuditApp", "AuditEvent", "AuditRecord", "AuditRecordError", "InitiatorType", "LocationType",
           "decode_audit_record"]


class AuditRecordError(ValueError):
    """Bytes that are not an audit log record."""


class AuditApp(enum.IntEnum):
    """Audited applications (``AuditAppID``)."""

    SECURITY_ADMIN = 16
    REMOTE_CONTROL = 17
    """RCO: power and boot control."""
    REDIRECTION_MANAGER = 18
    FIRMWARE_UPDATE_MANAGER = 19
    SECURITY_AUDIT_LOG = 20
    NETWORK_TIME = 21
    NETWORK_ADMINISTRATION = 22
    STORAGE_ADMINISTRATION = 23
    EVENT_MANAGER = 24
    SYSTEM_DEFENSE = 25
    """Circuit Breaker."""
    AGENT_PRESENCE_MANAGER = 26
    WIRELESS_CONFIGURATION = 27
    EAC = 28
    """Endpoint access control."""
    KVM = 29
    USER_OPT_IN = 30
    SCREEN_BLANKING = 32
    WATCHDOG = 33

    @property
    def label(self) -> str:
        return _APP_LABELS[self]


_APP_LABELS = {
    AuditApp.SECURITY_ADMIN: "Security Admin", AuditApp.REMOTE_CONTROL: "Remote Control",
    AuditApp.REDIRECTION_MANAGER: "Redirection Manager", AuditApp.FIRMWARE_UPDATE_MANAGER: "Firmware Update Manager",
    AuditApp.SECURITY_AUDIT_LOG: "Security Audit Log", AuditApp.NETWORK_TIME: "Network Time",
    AuditApp.NETWORK_ADMINISTRATION: "Network Administration",
    AuditApp.STORAGE_ADMINISTRATION: "Storage Administration", AuditApp.EVENT_MANAGER: "Event Manager",
    AuditApp.SYSTEM_DEFENSE: "System Defense", AuditApp.AGENT_PRESENCE_MANAGER: "Agent Presence Manager",
    AuditApp.WIRELESS_CONFIGURATION: "Wireless Configuration", AuditApp.EAC: "Endpoint Access Control",
    AuditApp.KVM: "KVM", AuditApp.USER_OPT_IN: "User Opt-In", AuditApp.SCREEN_BLANKING: "Screen Blanking",
    AuditApp.WATCHDOG: "Watchdog",
}


class AuditEvent(enum.IntEnum):
    """Audited events, numbered as consoles key them: ``AuditAppID * 100 + EventID``."""

    PROVISIONING_STARTED = 1600
    PROVISIONING_COMPLETED = 1601
    ACL_ENTRY_ADDED = 1602
    ACL_ENTRY_MODIFIED = 1603
    ACL_ENTRY_REMOVED = 1604
    ACL_ACCESS_INVALID_CREDENTIALS = 1605
    """A login with wrong credentials."""
    ACL_ENTRY_STATE = 1606
    TLS_STATE_CHANGED = 1607
    TLS_SERVER_CERTIFICATE_SET = 1608
    TLS_SERVER_CERTIFICATE_REMOVED = 1609
    TLS_TRUSTED_ROOT_ADDED = 1610
    TLS_TRUSTED_ROOT_REMOVED = 1611
    TLS_PRESHARED_KEY_SET = 1612
    KERBEROS_SETTINGS_MODIFIED = 1613
    KERBEROS_MAIN_KEY_MODIFIED = 1614
    FLASH_WEAR_OUT_COUNTERS_RESET = 1615
    POWER_PACKAGE_MODIFIED = 1616
    REALM_AUTHENTICATION_MODE_SET = 1617
    UPGRADED_TO_ADMIN_CONTROL_MODE = 1618
    UNPROVISIONING_STARTED = 1619
    POWER_UP = 1700
    POWER_DOWN = 1701
    POWER_CYCLE = 1702
    RESET = 1703
    BOOT_OPTIONS_SET = 1704
    GRACEFUL_POWER_DOWN = 1705
    GRACEFUL_RESET = 1706
    STANDBY = 1707
    HIBERNATE = 1708
    NMI = 1709
    IDER_SESSION_OPENED = 1800
    IDER_SESSION_CLOSED = 1801
    IDER_ENABLED = 1802
    IDER_DISABLED = 1803
    SOL_SESSION_OPENED = 1804
    SOL_SESSION_CLOSED = 1805
    SOL_ENABLED = 1806
    SOL_DISABLED = 1807
    KVM_SESSION_STARTED = 1808
    KVM_SESSION_ENDED = 1809
    KVM_ENABLED = 1810
    KVM_DISABLED = 1811
    VNC_PASSWORD_FAILED_3_TIMES = 1812
    FIRMWARE_UPDATED = 1900
    FIRMWARE_UPDATE_FAILED = 1901
    AUDIT_LOG_CLEARED = 2000
    AUDIT_POLICY_MODIFIED = 2001
    AUDIT_LOG_DISABLED = 2002
    AUDIT_LOG_ENABLED = 2003
    AUDIT_LOG_EXPORTED = 2004
    AUDIT_LOG_RECOVERED = 2005
    ME_TIME_SET = 2100
    TCPIP_PARAMETERS_SET = 2200
    HOST_NAME_SET = 2201
    DOMAIN_NAME_SET = 2202
    VLAN_PARAMETERS_SET = 2203
    LINK_POLICY_SET = 2204
    IPV6_PARAMETERS_SET = 2205
    GLOBAL_STORAGE_ATTRIBUTES_SET = 2300
    STORAGE_EACL_MODIFIED = 2301
    STORAGE_FPACL_MODIFIED = 2302
    STORAGE_WRITE_OPERATION = 2303
    ALERT_SUBSCRIBED = 2400
    ALERT_UNSUBSCRIBED = 2401
    EVENT_LOG_CLEARED = 2402
    EVENT_LOG_FROZEN = 2403
    FILTER_ADDED = 2500
    FILTER_REMOVED = 2501
    POLICY_ADDED = 2502
    POLICY_REMOVED = 2503
    DEFAULT_POLICY_SET = 2504
    HEURISTICS_OPTION_SET = 2505
    HEURISTICS_STATE_CLEARED = 2506
    AGENT_WATCHDOG_ADDED = 2600
    AGENT_WATCHDOG_REMOVED = 2601
    AGENT_WATCHDOG_ACTION_SET = 2602
    WIRELESS_PROFILE_ADDED = 2700
    WIRELESS_PROFILE_REMOVED = 2701
    WIRELESS_PROFILE_UPDATED = 2702
    WIRELESS_PROFILE_SYNC_MODIFIED = 2703
    WIRELESS_LINK_PREFERENCE_CHANGED = 2704
    WIRELESS_UEFI_PROFILE_SHARE_CHANGED = 2705
    EAC_POSTURE_SIGNER_SET = 2800
    EAC_ENABLED = 2801
    EAC_DISABLED = 2802
    EAC_POSTURE_STATE = 2803
    EAC_OPTIONS_SET = 2804
    KVM_OPT_IN_ENABLED = 2900
    KVM_OPT_IN_DISABLED = 2901
    KVM_PASSWORD_CHANGED = 2902
    KVM_CONSENT_SUCCEEDED = 2903
    KVM_CONSENT_FAILED = 2904
    OPT_IN_POLICY_CHANGED = 3000
    CONSENT_CODE_SENT = 3001
    START_OPT_IN_BLOCKED = 3002
    WATCHDOG_ACTION_SETTINGS_MODIFIED = 3301
    WATCHDOG_ACTION_PAIRING_MODIFIED = 3302

    @property
    def app(self) -> int:
        return self // 100

    @property
    def event_id(self) -> int:
        return self % 100

    @property
    def label(self) -> str:
        """The event as consoles word it: ``Power Up``, ``SoL Session Opened``..."""
        return _EVENT_LABELS.get(self) or self.name.replace("_", " ").title()


_EVENT_LABELS = {
    AuditEvent.ACL_ACCESS_INVALID_CREDENTIALS: "ACL Access with Invalid Credentials",
    AuditEvent.IDER_SESSION_OPENED: "IDE-R Session Opened", AuditEvent.IDER_SESSION_CLOSED: "IDE-R Session Closed",
    AuditEvent.IDER_ENABLED: "IDE-R Enabled", AuditEvent.IDER_DISABLED: "IDE-R Disabled",
    AuditEvent.SOL_SESSION_OPENED: "SOL Session Opened", AuditEvent.SOL_SESSION_CLOSED: "SOL Session Closed",
    AuditEvent.SOL_ENABLED: "SOL Enabled", AuditEvent.SOL_DISABLED: "SOL Disabled",
    AuditEvent.KVM_SESSION_STARTED: "KVM Session Started", AuditEvent.KVM_SESSION_ENDED: "KVM Session Ended",
    AuditEvent.KVM_ENABLED: "KVM Enabled", AuditEvent.KVM_DISABLED: "KVM Disabled",
    AuditEvent.ME_TIME_SET: "Intel(r) ME Time Set", AuditEvent.TCPIP_PARAMETERS_SET: "TCP/IP Parameters Set",
    AuditEvent.VLAN_PARAMETERS_SET: "VLAN Parameters Set", AuditEvent.IPV6_PARAMETERS_SET: "IPv6 Parameters Set",
    AuditEvent.STORAGE_EACL_MODIFIED: "Storage EACL Modified", AuditEvent.STORAGE_FPACL_MODIFIED: "Storage FPACL Modified",
    AuditEvent.NMI: "NMI", AuditEvent.TLS_STATE_CHANGED: "TLS State Changed",
    AuditEvent.EAC_POSTURE_SIGNER_SET: "EAC Posture Signer Set", AuditEvent.EAC_ENABLED: "EAC Enabled",
    AuditEvent.EAC_DISABLED: "EAC Disabled", AuditEvent.EAC_POSTURE_STATE: "EAC Posture State",
    AuditEvent.EAC_OPTIONS_SET: "EAC Options Set", AuditEvent.KVM_OPT_IN_ENABLED: "KVM Opt-In Enabled",
    AuditEvent.KVM_OPT_IN_DISABLED: "KVM Opt-In Disabled", AuditEvent.OPT_IN_POLICY_CHANGED: "Opt-In Policy Changed",
    AuditEvent.START_OPT_IN_BLOCKED: "Start Opt-In Blocked", AuditEvent.VNC_PASSWORD_FAILED_3_TIMES:
    "VNC Password Failed 3 Times", AuditEvent.TLS_PRESHARED_KEY_SET: "TLS Preshared Key Set",
}


class InitiatorType(enum.IntEnum):
    """Who did it (``InitiatorType``)."""

    DIGEST_USER = 0
    KERBEROS_USER = 1
    LOCAL = 2
    """The host itself (or firmware) with no account."""
    KVM_DEFAULT_PORT = 3


class LocationType(enum.IntEnum):
    """The address form of where it came from (``MCLocationType``)."""

    IPV4 = 0
    IPV6 = 1
    NONE = 2


@dataclass(frozen=True)
class AuditRecord:
    """One audit log record, field by field."""

    app: int
    event_id: int
    initiator_type: int = InitiatorType.LOCAL
    user: str = ""
    """Digest user name; for a Kerberos initiator the SID as text (``S-1-5-21-...``)."""
    timestamp: int = 0
    """Seconds since 1970 as written (AMT's clock; a never-set clock reads 2004)."""
    location_type: int = LocationType.NONE
    address: str = ""
    """Where the request came from (``127.0.0.1``, an IPv6 address), empty for none."""
    extended_data: bytes = b""
    kerberos_in_domain: int = 0
    """Kerberos initiators only: the 4 bytes before the SID."""
    sid: bytes = b""
    """Kerberos initiators only: the binary SID."""

    def __post_init__(self) -> None:
        if not (0 <= self.app <= 0xFFFF and 0 <= self.event_id <= 0xFFFF):
            raise AuditRecordError("application and event IDs are 16-bit numbers")
        if not 0 <= self.timestamp <= 0xFFFFFFFF:
            raise AuditRecordError(f"timestamp {self.timestamp} does not fit 32 bits")
        if not (0 <= self.initiator_type <= 0xFF and 0 <= self.location_type <= 0xFF):
            raise AuditRecordError("initiator and location types are one byte")
        for what, value in (("user name", self.user.encode("utf-8")), ("address", self.address.encode("ascii")),
                            ("extended data", self.extended_data), ("SID", self.sid)):
            if len(value) > 0xFF:
                raise AuditRecordError(f"the {what} is longer than 255 bytes")

    # -- bytes -----------------------------------------------------------------------------------
    def encode(self) -> bytes:
        out = bytearray(struct.pack(">HHB", self.app, self.event_id, self.initiator_type))
        if self.initiator_type == InitiatorType.DIGEST_USER:
            name = self.user.encode("utf-8")
            out += bytes([len(name)]) + name
        elif self.initiator_type == InitiatorType.KERBEROS_USER:
            out += struct.pack(">IB", self.kerberos_in_domain, len(self.sid)) + self.sid
        out += struct.pack(">IB", self.timestamp, self.location_type)
        address = self.address.encode("ascii")
        out += bytes([len(address)]) + address
        out += bytes([len(self.extended_data)]) + self.extended_data
        return bytes(out)

    def to_base64(self) -> str:
        """The form ``ReadRecords`` carries in ``EventRecords``."""
        return base64.b64encode(self.encode()).decode("ascii")

    # -- meaning ---------------------------------------------------------------------------------
    @property
    def key(self) -> int:
        """``app * 100 + event``: the number :class:`AuditEvent` members carry."""
        return self.app * 100 + self.event_id

    @property
    def event(self) -> AuditEvent | None:
        try:
            return AuditEvent(self.key) if self.event_id < 100 else None
        except ValueError:
            return None

    @property
    def app_name(self) -> str:
        try:
            return AuditApp(self.app).label
        except ValueError:
            return f"Application {self.app}"

    @property
    def event_name(self) -> str:
        event = self.event
        return event.label if event is not None else f"Event {self.event_id}"

    @property
    def time(self) -> _dt.datetime:
        return _dt.datetime.fromtimestamp(self.timestamp, _dt.timezone.utc)

    @property
    def initiator(self) -> str:
        """Who, in words: the user name, the SID, ``local`` or ``KVM default port``."""
        if self.initiator_type in (InitiatorType.DIGEST_USER, InitiatorType.KERBEROS_USER):
            return self.user
        if self.initiator_type == InitiatorType.LOCAL:
            return "local"
        if self.initiator_type == InitiatorType.KVM_DEFAULT_PORT:
            return "KVM default port"
        return f"initiator type {self.initiator_type}"

    @property
    def details(self) -> str:
        """The event-specific data in words, where its layout is known; else empty."""
        from .audit_data import describe_extended

        return describe_extended(self.key, self.extended_data)

    @property
    def description(self) -> str:
        details = self.details
        return f"{self.app_name}: {self.event_name}" + (f" ({details})" if details else "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "time": self.time.isoformat(),
            "timestamp": self.timestamp,
            "app_id": self.app,
            "app": self.app_name,
            "event_id": self.event_id,
            "event": self.event_name,
            "initiator_type": self.initiator_type,
            "initiator": self.initiator,
            "address": self.address or None,
            "details": self.details or None,
            "description": self.description,
            "extended_data": self.extended_data.hex(),
            "record": self.to_base64(),
        }


class _Reader:
    """Reads the fields of one record in order; a short record is an :class:`AuditRecordError`."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, count: int, what: str) -> bytes:
        end = self.pos + count
        if end > len(self.data):
            raise AuditRecordError(f"the audit record ends inside its {what} (byte {self.pos} of {len(self.data)})")
        chunk = self.data[self.pos:end]
        self.pos = end
        return chunk

    def byte(self, what: str) -> int:
        return self.take(1, what)[0]

    def counted(self, what: str) -> bytes:
        return self.take(self.byte(what + " length"), what)


def sid_text(sid: bytes) -> str:
    """A binary SID as text: ``S-<revision>-<authority>`` then each 32-bit sub-authority (little-endian)."""
    if len(sid) < 8:
        return sid.hex()
    parts = [f"S-{sid[0]}-{sid[7]}"]
    parts += [f"-{int.from_bytes(sid[i:i + 4], 'little')}" for i in range(8, len(sid) - 3, 4)]
    return "".join(parts)


def _address_text(raw: bytes, location: int) -> str:
    """The address as AMT wrote it, without AMT 4.0's trailing NUL; IPv6 written in full is shortened."""
    text = raw.split(b"\0", 1)[0].decode("ascii", "replace")
    if location == LocationType.IPV6:
        try:
            return str(ipaddress.IPv6Address(text))
        except ValueError:
            return text
    return text


def decode_audit_record(data: bytes | str) -> AuditRecord:
    """A record from its bytes, or from the base64 text ``ReadRecords`` carries.

    Raises :class:`AuditRecordError` for bytes that do not hold one whole record.
    """
    if isinstance(data, str):
        try:
            data = base64.b64decode(data.strip(), validate=True)
        except (binascii.Error, ValueError) as error:
            raise AuditRecordError("an audit log record is not valid base64") from error
    reader = _Reader(data)
    app, event_id = struct.unpack(">HH", reader.take(4, "application and event IDs"))
    initiator_type = reader.byte("initiator type")
    user, in_domain, sid = "", 0, b""
    if initiator_type == InitiatorType.DIGEST_USER:
        user = reader.counted("user name").decode("utf-8", "replace")
    elif initiator_type == InitiatorType.KERBEROS_USER:
        in_domain = int.from_bytes(reader.take(4, "Kerberos initiator"), "big")
        sid = reader.counted("SID")
        user = sid_text(sid)
    (timestamp,) = struct.unpack(">I", reader.take(4, "time stamp"))
    location = reader.byte("location type")
    address = _address_text(reader.counted("network address"), location)
    extended = reader.counted("extended data")
    if reader.pos != len(data):
        raise AuditRecordError(f"{len(data) - reader.pos} bytes follow the audit record")
    return AuditRecord(app, event_id, initiator_type, user, timestamp, location, address, extended, in_domain, sid)
