"""AMT and CIM codes as enums, each member documented with its meaning.

Sources: DMTF CIM schema (CIM_AssociatedPowerManagementService, DSP1027 power state
management profile), Intel AMT SDK (PT_STATUS / AMT_STATUS codes, AMT_SetupAndConfigurationService).
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .legacy_codes import OEM_PARAMETER_USE_SOL as OEM_PARAMETER_USE_SOL
    from .legacy_codes import IanaOemNumber as IanaOemNumber
    from .legacy_codes import IntelOemParameter as IntelOemParameter
    from .legacy_codes import OemCapability as OemCapability
    from .legacy_codes import RemoteControlCommand as RemoteControlCommand
    from .legacy_codes import SpecialCommand as SpecialCommand
    from .legacy_codes import SpecialCommandSupport as SpecialCommandSupport
    from .legacy_codes import SystemCapability as SystemCapability
    from .legacy_codes import SystemPowerState as SystemPowerState


class PowerState(enum.IntEnum):
    """The power state a device *reports* (``CIM_AssociatedPowerManagementService.PowerState``).

    Kept apart from :class:`PowerAction`: newer CIM schemas give the requested codes other
    meanings than the reported ones, so a reported 5 is not "power cycle".
    """

    UNKNOWN = 0
    OTHER = 1
    ON = 2
    """S0, fully on."""
    SLEEP_LIGHT = 3
    """S1/S2."""
    SLEEP_DEEP = 4
    """S3, standby."""
    POWER_CYCLE_OFF_SOFT = 5
    OFF_HARD = 6
    """G3, mechanical off."""
    HIBERNATE = 7
    """S4."""
    OFF_SOFT = 8
    """S5, soft off."""
    POWER_CYCLE_OFF_HARD = 9
    MASTER_BUS_RESET = 10
    DIAGNOSTIC_INTERRUPT_NMI = 11
    OFF_SOFT_GRACEFUL = 12
    OFF_HARD_GRACEFUL = 13
    MASTER_BUS_RESET_GRACEFUL = 14
    POWER_CYCLE_OFF_SOFT_GRACEFUL = 15
    POWER_CYCLE_OFF_HARD_GRACEFUL = 16
    DIAGNOSTIC_INTERRUPT_INIT = 17

    @property
    def is_on(self) -> bool:
        return self is PowerState.ON

    @property
    def is_off(self) -> bool:
        return self in (PowerState.OFF_SOFT, PowerState.OFF_HARD)


class PowerAction(enum.IntEnum):
    """A power change one *requests* with ``CIM_PowerManagementService.RequestPowerStateChange``."""

    ON = 2
    """Power up."""
    SLEEP_LIGHT = 3
    SLEEP = 4
    """Sleep - Deep (S3)."""
    CYCLE = 5
    """Power Cycle (Off - Soft): soft off, then on."""
    OFF_HARD = 6
    HIBERNATE = 7
    OFF = 8
    """Off - Soft (S5)."""
    CYCLE_HARD = 9
    RESET = 10
    """Master Bus Reset: a hardware reset."""
    NMI = 11
    """Diagnostic interrupt (NMI)."""
    OFF_GRACEFUL = 12
    """OS-coordinated shutdown (needs a host agent)."""
    OFF_HARD_GRACEFUL = 13
    RESET_GRACEFUL = 14
    """OS-coordinated reset."""
    CYCLE_GRACEFUL = 15
    CYCLE_HARD_GRACEFUL = 16

    @property
    def cli_name(self) -> str:
        return self.name.lower().replace("_", "-")

    @classmethod
    def from_name(cls, name: str) -> PowerAction:
        key = name.strip().upper().replace("-", "_")
        aliases = {"SOFT_OFF": "OFF", "OFF_SOFT": "OFF", "POWER_CYCLE": "CYCLE", "HARD_OFF": "OFF_HARD", "UP": "ON"}
        key = aliases.get(key, key)
        try:
            return cls[key]
        except KeyError as error:
            valid = ", ".join(member.cli_name for member in cls)
            raise ValueError(f"unknown power action {name!r}; valid: {valid}") from error


#: What a device is in once an action completes (cycle and reset pass through off, end on).
ACTION_RESULT: dict[PowerAction, PowerState] = {
    PowerAction.ON: PowerState.ON,
    PowerAction.SLEEP_LIGHT: PowerState.SLEEP_LIGHT,
    PowerAction.SLEEP: PowerState.SLEEP_DEEP,
    PowerAction.CYCLE: PowerState.ON,
    PowerAction.OFF_HARD: PowerState.OFF_HARD,
    PowerAction.HIBERNATE: PowerState.HIBERNATE,
    PowerAction.OFF: PowerState.OFF_SOFT,
    PowerAction.CYCLE_HARD: PowerState.ON,
    PowerAction.RESET: PowerState.ON,
    PowerAction.NMI: PowerState.ON,
    PowerAction.OFF_GRACEFUL: PowerState.OFF_SOFT,
    PowerAction.OFF_HARD_GRACEFUL: PowerState.OFF_HARD,
    PowerAction.RESET_GRACEFUL: PowerState.ON,
    PowerAction.CYCLE_GRACEFUL: PowerState.ON,
    PowerAction.CYCLE_HARD_GRACEFUL: PowerState.ON,
}


class EnabledState(enum.IntEnum):
    """The state an element *reports* (``CIM_EnabledLogicalElement.EnabledState``).

    Kept apart from :class:`RequestedState`: the requested codes mean other things (5 there is
    "no change", 12 "not applicable"). AMT's own redirection service uses an Intel vendor range
    instead (:class:`amtkit.redirection.service.RedirectionState`).
    """

    UNKNOWN = 0
    OTHER = 1
    ENABLED = 2
    """Running and usable (for KVM: enabled, a session is open)."""
    DISABLED = 3
    """Switched off."""
    SHUTTING_DOWN = 4
    NOT_APPLICABLE = 5
    """The element does not support being enabled or disabled (AMT's fixed services say so)."""
    ENABLED_BUT_OFFLINE = 6
    """Enabled, but not serving now (for KVM: enabled, no session)."""
    IN_TEST = 7
    DEFERRED = 8
    QUIESCE = 9
    """Enabled, but restricted."""
    STARTING = 10


class RequestedState(enum.IntEnum):
    """The last state change requested of an element (``CIM_EnabledLogicalElement.RequestedState``)."""

    UNKNOWN = 0
    """No change was requested, or which one is not known."""
    ENABLED = 2
    DISABLED = 3
    SHUT_DOWN = 4
    NO_CHANGE = 5
    OFFLINE = 6
    TEST = 7
    DEFERRED = 8
    QUIESCE = 9
    REBOOT = 10
    RESET = 11
    NOT_APPLICABLE = 12
    """The element does not support state change requests."""


class ProvisioningState(enum.IntEnum):
    """``AMT_SetupAndConfigurationService.ProvisioningState``."""

    PRE = 0
    """Not provisioned: factory state, answers Identify but no authenticated WS-Man."""
    IN = 1
    """Provisioning in progress."""
    POST = 2
    """Provisioned and manageable."""


class ControlMode(enum.IntEnum):
    """``AMT_SetupAndConfigurationService.ProvisioningMode``: the control mode once provisioned."""

    NONE = 0
    ADMIN = 1
    """Admin Control Mode (ACM): every feature."""
    CLIENT = 4
    """Client Control Mode (CCM): user consent for redirection, no System Defense."""


class PTStatus(enum.IntEnum):
    """PT_STATUS / AMT_STATUS codes (Intel AMT SDK). Method ReturnValues and fault details carry them.

    Standard CIM methods report them as 32768 + code; :meth:`from_return_value` undoes that.
    """

    SUCCESS = 0x0000
    INTERNAL_ERROR = 0x0001
    NOT_READY = 0x0002
    INVALID_PT_MODE = 0x0003
    """Not permitted in the current mode (e.g. not provisioned, or client control mode)."""
    INVALID_MESSAGE_LENGTH = 0x0004
    NOT_PERMITTED = 0x0010
    MAX_LIMIT_REACHED = 0x0017
    INVALID_AUTH_TYPE = 0x0018
    AUTHENTICATION_FAILED = 0x0019
    INVALID_PROVISIONING_STATE = 0x0020
    INVALID_INDEX = 0x0023
    INVALID_PARAMETER = 0x0024
    INVALID_NETMASK = 0x0025
    FLASH_WRITE_LIMIT_EXCEEDED = 0x0026
    DISABLED_BY_POLICY = 0x0400
    NETWORK_IF_ERROR_BASE = 0x0800
    UNSUPPORTED_OEM_NUMBER = 0x0801
    UNSUPPORTED_BOOT_OPTION = 0x0802
    INVALID_COMMAND = 0x0803
    INVALID_SPECIAL_COMMAND = 0x0804
    INVALID_HANDLE = 0x0805
    INVALID_PASSWORD = 0x0806
    INVALID_REALM = 0x0807
    STORAGE_ACL_ENTRY_IN_USE = 0x0808
    DATA_MISSING = 0x0809
    DUPLICATE = 0x080A
    EVENTLOG_FROZEN = 0x080B
    PKI_MISSING_KEYS = 0x080C
    PKI_GENERATING_KEYS = 0x080D
    INVALID_KEY = 0x080E
    INVALID_CERT = 0x080F
    CERT_KEY_NOT_MATCH = 0x0810
    MAX_KERB_DOMAIN_REACHED = 0x0811
    UNSUPPORTED = 0x0812
    INVALID_PRIORITY = 0x0813
    NOT_FOUND = 0x0814
    INVALID_CREDENTIALS = 0x0815
    INVALID_PASSPHRASE = 0x0816
    NO_ASSOCIATION = 0x0818
    AUDIT_FAIL = 0x081B
    BLOCKING_COMPONENT = 0x081C
    USER_CONSENT_REQUIRED = 0x0821

    @classmethod
    def describe(cls, code: int) -> str:
        """``"0x080A DUPLICATE"``; unknown codes are shown in hex only."""
        try:
            return f"0x{code:04X} {cls(code).name}"
        except ValueError:
            return f"0x{code:04X}"

    @classmethod
    def from_return_value(cls, value: int) -> int:
        """Strip the 32768 offset standard CIM methods add to PT_STATUS codes."""
        return value - 32768 if value >= 32768 else value


class ReturnValue(enum.IntEnum):
    """Generic CIM method return values (DSP0004 conventions) used by CIM_ classes on AMT.

    AMT's own classes (AMT_, IPS_) return PT_STATUS codes instead; :func:`describe_return_value`
    knows which is which.
    """

    COMPLETED = 0
    NOT_SUPPORTED = 1
    UNKNOWN_ERROR = 2
    TIMEOUT = 3
    FAILED = 4
    INVALID_PARAMETER = 5
    IN_USE = 6
    JOB_STARTED = 4096
    INVALID_STATE_TRANSITION = 4097
    TIMEOUT_PARAMETER_NOT_SUPPORTED = 4098
    BUSY = 4099
    """A previous request is still being carried out (e.g. a power transition)."""


def pt_status_of(class_name: str, value: int) -> int | None:
    """The PT_STATUS a method's ReturnValue carries, or None when it is a generic CIM code.

    AMT_ and IPS_ methods return PT_STATUS directly; CIM_ methods return generic CIM codes
    below 32768 and ``32768 + PT_STATUS`` for AMT-specific failures.
    """
    if class_name.startswith("CIM_"):
        return value - 32768 if value >= 32768 else None
    return value


def describe_return_value(class_name: str, value: int) -> str:
    """``"2 (UNKNOWN_ERROR)"`` or ``"2058 (0x080A DUPLICATE)"``: a method's ReturnValue and its meaning."""
    status = pt_status_of(class_name, value)
    if status is not None:
        return f"{value} ({PTStatus.describe(status)})"
    try:
        return f"{value} ({ReturnValue(value).name})"
    except ValueError:
        return str(value)


# -- legacy SOAP (EOI) RemoteControl: ASF power states, commands and capability bits ----------------
# In amtkit.legacy_codes, loaded when first asked for here (PEP 562): only a legacy (AMT 2.x-8.x)
# device or the simulator needs them, and building their eight enums cost about 0.7 ms of every CLI call.

_LEGACY = frozenset({
    "SystemPowerState", "RemoteControlCommand", "SpecialCommand", "IanaOemNumber",
    "IntelOemParameter", "OemCapability", "SpecialCommandSupport", "SystemCapability", "OEM_PARAMETER_USE_SOL",
})


def __getattr__(name: str) -> Any:
    if name in _LEGACY:
        from . import legacy_codes

        return getattr(legacy_codes, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
