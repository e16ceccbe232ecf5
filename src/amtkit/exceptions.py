"""Every error amtkit raises, as one tree. Each says *why* a call failed, in words a person can act on.

::

    AMTError                      .message .host .category .hint .exit_code, to_dict()
    ├── TransportError
    │   ├── UnreachableError      nothing answers (connection refused, no route, DNS)
    │   ├── ConnectTimeoutError   the TCP connection was not accepted in time
    │   ├── ReadTimeoutError      connected, but the device did not answer in time
    │   └── TLSError              handshake failed: .reason verification | pin-mismatch | protocol
    ├── NotDetectedError          something answered, but it is not Intel AMT
    ├── AuthenticationError       digest credentials rejected (names host and user, never the password)
    ├── ProtocolError
    │   ├── LocalProtocolError    amtkit was asked to send something invalid
    │   └── RemoteProtocolError   the device sent malformed, hostile or unexpected XML/HTTP
    ├── WSManFault                a SOAP fault: .code .subcode .reason .detail .amt_status
    │   ├── DestinationUnreachableFault
    │   ├── AccessDeniedFault
    │   └── DeviceBusyError       AMT is busy (InternalError, AMT-STATUS NOT_READY): a transient refusal
    ├── AMTReturnError            a method's ReturnValue != 0: .return_value .status (PT_STATUS name)
    │   └── NotProvisionedError   the device is not provisioned (or in the wrong mode)
    ├── FeatureUnavailableError   the device does not offer this (e.g. System Defense in client control mode)
    ├── SystemDefenseError        a System Defense change refused or not carried out as asked
    │   ├── LockoutError          the filter set would cut the host off from its manager: .blocked
    │   ├── DefenseLimitError     more policies or filters than the firmware holds: .what .limit .actual
    │   └── DefenseMismatchError  the device does not hold what was applied (read-back differs): .differences
    ├── UsageError                a request that cannot mean anything (unknown action name, bad value);
    │                             also a ValueError. System Defense's DefenseError family are UsageErrors
    └── PowerError
        ├── PowerActionNotSupported   the device does not offer this action now
        ├── PowerChangeInProgress     a previous change is still under way
        ├── PowerStateUnknownError    the device cannot tell its power state
        └── PowerWaitTimeout          the target state was not reached in time

The ``category`` strings are the diagnosis classes reported per host in fleet jobs and by
``amtkit diagnose``; the CLI maps them to exit codes in one table (:data:`EXIT_CODES`), which
``error.exit_code`` reads. An error raised while handling another keeps it as ``__cause__``:
``to_dict()`` names it (``cause``, and ``errno`` for an operating-system error), so the errno or
TLS reason behind "unreachable" is never lost.
"""

from __future__ import annotations

import errno as errno_names
from typing import ClassVar

from .codes import PTStatus

__all__ = [
    "AMTError",
    "AMTReturnError",
    "AccessDeniedFault",
    "AuthenticationError",
    "ConnectTimeoutError",
    "DefenseLimitError",
    "DefenseMismatchError",
    "DestinationUnreachableFault",
    "DeviceBusyError",
    "EXIT_CODES",
    "FeatureUnavailableError",
    "LocalProtocolError",
    "LockoutError",
    "NotDetectedError",
    "NotProvisionedError",
    "PowerActionNotSupported",
    "PowerChangeInProgress",
    "PowerError",
    "PowerStateUnknownError",
    "PowerWaitTimeout",
    "ProtocolError",
    "ReadTimeoutError",
    "RemoteProtocolError",
    "SystemDefenseError",
    "TLSError",
    "TransportError",
    "UnreachableError",
    "UsageError",
    "WSManFault",
]


class AMTError(Exception):
    """Base of every amtkit error. ``str(error)`` is the message to show a person."""

    category: ClassVar[str] = "error"
    default_hint: ClassVar[str] = ""

    def __init__(self, message: str, *, host: str | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.host = host
        self.hint = hint if hint is not None else self.default_hint

    def __str__(self) -> str:
        prefix = f"{self.host}: " if self.host else ""
        return prefix + self.message

    @property
    def exit_code(self) -> int:
        """The CLI's exit code for this error: :data:`EXIT_CODES` of its category (1 for a category
        without a code of its own)."""
        return EXIT_CODES.get(self.category, 1)

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready description (fleet reports, ``--json``): error, category, exit_code, message,
        host, hint, and the cause when there is one."""
        data: dict[str, object] = {"error": type(self).__name__, "category": self.category,
                                   "exit_code": self.exit_code, "message": self.message, "host": self.host,
                                   "hint": self.hint or None}
        data.update(_cause_of(self))
        return data


def _cause_of(error: BaseException) -> dict[str, object]:
    """``cause`` (type and text of ``__cause__``) and, for an operating-system error, ``errno`` (its
    symbolic name, e.g. ``ECONNREFUSED``)."""
    cause = error.__cause__
    if cause is None:
        return {}
    found: dict[str, object] = {"cause": f"{type(cause).__name__}: {cause}"}
    if isinstance(cause, OSError) and cause.errno is not None:
        found["errno"] = errno_names.errorcode.get(cause.errno, str(cause.errno))
    return found


class TransportError(AMTError):
    category = "unreachable"


class UnreachableError(TransportError):
    default_hint = "check the address, that the machine is on the network, and that ports 16992/16993 are open"


class ConnectTimeoutError(TransportError):
    default_hint = "the host did not accept a connection in time: is it on, on this network, behind a firewall?"


class ReadTimeoutError(TransportError):
    category = "timeout"
    default_hint = "AMT accepted the connection but did not answer; its management engine may be busy or asleep"


class TLSError(TransportError):
    category = "tls"

    def __init__(self, message: str, *, reason: str, host: str | None = None, hint: str | None = None) -> None:
        super().__init__(message, host=host, hint=hint)
        self.reason = reason
        """``verification``, ``pin-mismatch``, ``protocol``, or ``configuration`` (an unusable CA file or
        client certificate on this side)."""

    def to_dict(self) -> dict[str, object]:
        return {**super().to_dict(), "reason": self.reason}


class NotDetectedError(AMTError):
    category = "not-detected"
    default_hint = "the port answered but not like Intel AMT: check the port, or that AMT is enabled in the MEBx"


class AuthenticationError(AMTError):
    category = "auth-failed"
    default_hint = ("check the user name and password; after repeated failures AMT locks the account for a while "
                    "(anti-hammering)")

    def __init__(self, message: str, *, host: str | None = None, username: str | None = None,
                 hint: str | None = None) -> None:
        super().__init__(message, host=host, hint=hint)
        self.username = username

    def to_dict(self) -> dict[str, object]:
        return {**super().to_dict(), "username": self.username}


class ProtocolError(AMTError):
    category = "protocol"


class LocalProtocolError(ProtocolError):
    """amtkit was asked to build something invalid (a bug in the caller's arguments)."""


class RemoteProtocolError(ProtocolError):
    """The device sent something amtkit cannot accept."""


class WSManFault(AMTError):
    category = "fault"

    def __init__(self, message: str, *, code: str, subcode: str, reason: str, detail: str = "",
                 host: str | None = None, resource_uri: str | None = None, action: str | None = None) -> None:
        super().__init__(message, host=host)
        self.code = code
        self.subcode = subcode
        self.reason = reason
        self.detail = detail
        self.resource_uri = resource_uri
        self.action = action

    @property
    def amt_status(self) -> int | None:
        marker = "AMT-STATUS"
        if marker in self.detail:
            try:
                return int(self.detail.split(marker, 1)[1].split()[0], 0)
            except (IndexError, ValueError):
                return None
        return None

    def to_dict(self) -> dict[str, object]:
        data = super().to_dict()
        data.update(code=self.code, subcode=self.subcode, reason=self.reason, detail=self.detail or None,
                    amt_status=self.amt_status, resource_uri=self.resource_uri, action=self.action)
        return data


class DestinationUnreachableFault(WSManFault):
    """AMT's answer for a class with no instance or a feature absent on this SKU."""

    category = "not-available"


class AccessDeniedFault(WSManFault):
    category = "access-denied"
    default_hint = "the account lacks the realm (permission) this operation needs"


class DeviceBusyError(WSManFault):
    """AMT refused the request because its engine is busy (InternalError with AMT-STATUS 2, NOT_READY);
    nothing was done, and the same request may succeed a little later."""

    category = "busy"
    default_hint = "the management engine is busy; retry in a few seconds"


class AMTReturnError(AMTError):
    category = "amt-status"

    def __init__(self, message: str, *, return_value: int, host: str | None = None, method: str | None = None,
                 hint: str | None = None, meaning: str | None = None, resource_uri: str | None = None,
                 action: str | None = None) -> None:
        super().__init__(message, host=host, hint=hint)
        self.return_value = return_value
        self.method = method
        self._meaning = meaning
        # The request the ReturnValue answers, as a fault names it: which class, which method's action.
        self.resource_uri = resource_uri
        self.action = action

    @property
    def status(self) -> str:
        """What the ReturnValue means (PT_STATUS name, or the generic CIM code for CIM_ methods)."""
        return self._meaning or PTStatus.describe(PTStatus.from_return_value(self.return_value))

    def to_dict(self) -> dict[str, object]:
        data = super().to_dict()
        data.update(return_value=self.return_value, status=self.status, method=self.method,
                    resource_uri=self.resource_uri, action=self.action)
        return data


class NotProvisionedError(AMTReturnError):
    category = "not-provisioned"
    default_hint = "provision the device (ACM or CCM) before managing it"


class FeatureUnavailableError(AMTError):
    category = "not-available"


class SystemDefenseError(AMTError):
    """A System Defense (host network filter) change was refused or not carried out as asked."""


class LockoutError(SystemDefenseError):
    """The filter set would block flows the host needs to reach its management server.

    ``blocked`` lists them, one line each: ``transmit tcp any -> 10.0.0.5:443: blocked by default
    transmit action drop``.
    """

    category = "lockout"
    default_hint = "fix the filter set or the manager address (--manager); --force applies it anyway"

    def __init__(self, message: str, *, blocked: list[str], host: str | None = None,
                 hint: str | None = None) -> None:
        super().__init__(message, host=host, hint=hint)
        self.blocked = blocked

    def to_dict(self) -> dict[str, object]:
        data = super().to_dict()
        data["blocked"] = list(self.blocked)
        return data


class DefenseLimitError(SystemDefenseError):
    """More System Defense policies or filters than the firmware holds (AMT: MAX_LIMIT_REACHED)."""

    category = "amt-status"
    default_hint = "remove unused System Defense policies or filters, or apply a smaller filter set"

    def __init__(self, message: str, *, what: str, limit: int | None = None, actual: int | None = None,
                 host: str | None = None, hint: str | None = None) -> None:
        super().__init__(message, host=host, hint=hint)
        self.what = what
        self.limit = limit
        """AMT's maximum, when known."""
        self.actual = actual
        """How many the change would have needed, when known."""

    def to_dict(self) -> dict[str, object]:
        data = super().to_dict()
        data.update(what=self.what, limit=self.limit, actual=self.actual)
        return data


class DefenseMismatchError(SystemDefenseError):
    """Reading back after a change found the device holding something other than what was sent."""

    category = "protocol"
    default_hint = "the firmware changed or refused part of the filter set; run 'amtkit defense show' to see it"

    def __init__(self, message: str, *, differences: list[str], host: str | None = None) -> None:
        super().__init__(message, host=host)
        self.differences = differences

    def to_dict(self) -> dict[str, object]:
        data = super().to_dict()
        data["differences"] = list(self.differences)
        return data


class PowerError(AMTError):
    category = "power"


class PowerActionNotSupported(PowerError):
    def __init__(self, message: str, *, valid: list[str], host: str | None = None) -> None:
        hint = ("valid now: " + ", ".join(valid)) if valid else "read `amtkit power status` for what is offered now"
        super().__init__(message, host=host, hint=hint)
        self.valid = valid


class PowerChangeInProgress(PowerError):
    default_hint = "wait for the previous power change to finish (AMT needs up to ~10 s) and retry"


class PowerStateUnknownError(PowerError):
    category = "power-state-unknown"
    default_hint = ("AMT reports the host power state as unknown; check the host's power supply, or reset the "
                    "management engine (remove AC power)")


class PowerWaitTimeout(PowerError):
    category = "power-timeout"
    default_hint = "the machine may still be changing state: check `amtkit power status`, or wait longer"


class UsageError(AMTError, ValueError):
    """The caller asked for something that cannot mean anything (an unknown action name, a bad value).

    Also a :class:`ValueError`, so code that validates arguments the usual Python way keeps working."""

    category = "usage"


#: Exit codes of the CLI, by category (documented in docs/cli.md).
EXIT_CODES: dict[str, int] = {
    "error": 1,
    "usage": 2,
    "unreachable": 3,
    "timeout": 3,
    "tls": 4,
    "not-detected": 5,
    "auth-failed": 6,
    "not-provisioned": 7,
    "fault": 8,
    "access-denied": 8,
    "not-available": 9,
    "amt-status": 10,
    "protocol": 11,
    "power": 12,
    "power-state-unknown": 13,
    "lockout": 14,
    "not-bootable": 15,
    "power-timeout": 16,
    "busy": 17,
    "cancelled": 130,
}
