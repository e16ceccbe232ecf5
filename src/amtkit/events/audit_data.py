"""The event-specific data of audit records, in words (sans-IO).

Only layouts documented by Intel's SDK or read the same way by the consoles are decoded; others
are left to the hex dump in :meth:`~amtkit.events.audit.AuditRecord.to_dict`. A record whose data is
shorter than its layout says is described as such, never raised: the log is evidence, and a
truncated entry must still be shown.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable

__all__ = ["describe_extended"]

_PROVISIONING_METHODS = {2: "remote configuration", 3: "MEBx", 5: "host-based configuration"}
_TLS_AUTH = {0: "no authentication", 1: "server authentication", 2: "mutual authentication"}
_REALM_MODE = {0: "no authentication", 1: "authentication", 2: "disabled"}
_UNPROVISION_SOURCES = {0: "BIOS", 1: "MEBx", 2: "local MEI", 3: "local WS-MAN", 4: "remote WS-MAN"}
_BOOT_COMMANDS = {0: "none", 1: "PXE", 2: "hard disk", 3: "hard disk, safe mode", 4: "diagnostics", 5: "CD/DVD",
                  193: "Intel one-click recovery", 194: "HTTPS boot", 195: "PBA boot"}
_ACL_CHANGES = ((1, "user name"), (2, "password"), (4, "local realms"), (8, "remote realms"),
                (0x10, "Kerberos domain"), (0x20, "SID"))
_OPT_IN_POLICIES = {0: "none", 1: "KVM only", 2: "all", 255: "all"}
_RECOVERY_REASONS = {0: "unknown", 1: "migration", 2: "initialization failure"}


def _counted_name(data: bytes, start: int = 0) -> str:
    """An initiator type byte, then a length byte and the name (16/2, 16/4 and their kin)."""
    if len(data) < start + 2:
        return ""
    length = data[start + 1]
    return data[start + 2:start + 2 + length].decode("utf-8", "replace")


def _provisioning(data: bytes) -> str:
    return "by " + _PROVISIONING_METHODS.get(data[0], f"method {data[0]}")


def _acl_entry(data: bytes) -> str:
    return f"user {_counted_name(data)}"


def _acl_modified(data: bytes) -> str:
    changed = [name for bit, name in _ACL_CHANGES if data[0] & bit]
    return f"user {_counted_name(data, 1)}: " + (", ".join(changed) or "nothing") + " changed"


def _acl_state(data: bytes) -> str:
    return f"user {_counted_name(data, 1)} " + ("disabled" if data[0] else "enabled")


def _invalid_credentials(data: bytes) -> str:
    return "through the MEBx" if data[0] else "through the network interface"


def _tls_state(data: bytes) -> str:
    if len(data) < 2:
        return "truncated"
    return f"remote: {_TLS_AUTH.get(data[0], data[0])}, local: {_TLS_AUTH.get(data[1], data[1])}"


def _realm_mode(data: bytes) -> str:
    if len(data) < 5:
        return "truncated"
    realm = int.from_bytes(data[:4], "big")
    return f"realm {realm}: {_REALM_MODE.get(data[4], data[4])}"


def _unprovisioning(data: bytes) -> str:
    return "from " + _UNPROVISION_SOURCES.get(data[0], f"source {data[0]}")


def _boot(data: bytes) -> str:
    command = _BOOT_COMMANDS.get(data[0], f"command {data[0]}")
    return f"boot: {command}" if data[0] else ""


def _firmware_versions(data: bytes) -> str:
    if len(data) < 16:
        return "truncated"
    words = [int.from_bytes(data[i:i + 2], "big") for i in range(0, 16, 2)]
    return "from {}.{}.{}.{} to {}.{}.{}.{}".format(*words)


def _time_set(data: bytes) -> str:
    if len(data) < 4:
        return "truncated"
    when = _dt.datetime.fromtimestamp(int.from_bytes(data[:4], "big"), _dt.timezone.utc)
    return f"to {when.isoformat()}"


def _name(data: bytes) -> str:
    return data[1:1 + data[0]].decode("utf-8", "replace")


def _frozen(data: bytes) -> str:
    return "frozen" if data[0] else "unfrozen"


def _recovered(data: bytes) -> str:
    return "reason: " + _RECOVERY_REASONS.get(data[0], str(data[0]))


def _opt_in_policy(data: bytes) -> str:
    if len(data) < 2:
        return "truncated"
    return f"from {_OPT_IN_POLICIES.get(data[0], data[0])} to {_OPT_IN_POLICIES.get(data[1], data[1])}"


def _consent_code(data: bytes) -> str:
    return "failed three times" if data[0] else "accepted"


_DESCRIBERS: dict[int, Callable[[bytes], str]] = {
    1601: _provisioning, 1602: _acl_entry, 1604: _acl_entry, 1603: _acl_modified, 1606: _acl_state,
    1605: _invalid_credentials, 1607: _tls_state, 1617: _realm_mode, 1619: _unprovisioning,
    1700: _boot, 1702: _boot, 1703: _boot, 1704: _boot, 1706: _boot,
    1900: _firmware_versions, 2005: _recovered, 2100: _time_set, 2201: _name, 2202: _name, 2403: _frozen,
    3000: _opt_in_policy, 3001: _consent_code,
}


def describe_extended(key: int, data: bytes) -> str:
    """The extended data of event ``key`` (``app * 100 + event``) in words; empty when unknown or absent."""
    describe = _DESCRIBERS.get(key)
    if describe is None or not data:
        return ""
    return describe(data)
