"""AMT and CIM codes as enums, each member documented with its meaning.

Sources: DMTF CIM schema (CIM_AssociatedPowerManagementService, DSP1027 power state
management profile), Intel AMT SDK (PT_STATUS / AMT_STATUS codes, AMT_SetupAndConfigurationService).
"""

from __future__ import annotations

import enum


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


class SystemPowerState(enum.IntEnum):
    """The ASF system power state legacy AMT reports (``GetSystemPowerState``, bits 3:0).

    Values of the ASF "System State Response" (DMTF DSP0136); 13 and 15 are undefined. Consoles
    of that era decode only the low nibble (``value & 0x0F``), as :meth:`from_wire` does. A power
    action on a machine reporting 14 is refused: the "Generic error, FromState detected as
    unknown:14" of the old consoles.
    """

    S0_WORKING = 0
    """S0/G0: working."""
    S1_SLEEPING = 1
    """S1: sleeping, processor and hardware context kept."""
    S2_SLEEPING = 2
    """S2: sleeping, processor context lost."""
    S3_SLEEPING = 3
    """S3: sleeping, memory kept (suspend to RAM)."""
    S4_HIBERNATE = 4
    """S4: non-volatile sleep (suspend to disk)."""
    S5_SOFT_OFF = 5
    """S5/G2: soft off."""
    S4_S5_SOFT_OFF = 6
    """S4 or S5: soft off, which one cannot be told."""
    G3_MECHANICAL_OFF = 7
    """G3: mechanical off (no standby power to the host)."""
    SLEEPING = 8
    """Sleeping in S1, S2 or S3; which one cannot be told."""
    G1_SLEEPING = 9
    """G1: sleeping, S1-S4 cannot be told apart."""
    S5_OVERRIDE = 10
    """S5 entered by override (a forced power down)."""
    LEGACY_ON = 11
    """Legacy on (a system without ACPI)."""
    LEGACY_OFF = 12
    """Legacy off."""
    UNKNOWN = 14
    """The firmware cannot tell the host's power state."""

    @property
    def meaning(self) -> str:
        return _SYSTEM_POWER_MEANINGS[self]

    @classmethod
    def from_wire(cls, value: int) -> SystemPowerState:
        """The state in the low nibble of ``SystemPowerState``; undefined codes read as UNKNOWN."""
        try:
            return cls(value & 0x0F)
        except ValueError:
            return cls.UNKNOWN

    @property
    def power_state(self) -> PowerState:
        """The WS-Man (CIM) power state that means the same, as ``client.power.state()`` reports it."""
        return _ASF_TO_CIM[self]

    @classmethod
    def from_power_state(cls, state: PowerState) -> SystemPowerState:
        """What legacy AMT reports for a host in the CIM power state ``state`` (used by the simulator)."""
        return _CIM_TO_ASF.get(state, cls.UNKNOWN)


_SYSTEM_POWER_MEANINGS: dict[SystemPowerState, str] = {
    SystemPowerState.S0_WORKING: "S0 working",
    SystemPowerState.S1_SLEEPING: "S1 sleeping",
    SystemPowerState.S2_SLEEPING: "S2 sleeping",
    SystemPowerState.S3_SLEEPING: "S3 sleeping (suspend to RAM)",
    SystemPowerState.S4_HIBERNATE: "S4 hibernate (suspend to disk)",
    SystemPowerState.S5_SOFT_OFF: "S5 soft off",
    SystemPowerState.S4_S5_SOFT_OFF: "S4/S5 soft off",
    SystemPowerState.G3_MECHANICAL_OFF: "G3 mechanical off",
    SystemPowerState.SLEEPING: "sleeping (S1-S3)",
    SystemPowerState.G1_SLEEPING: "G1 sleeping (S1-S4)",
    SystemPowerState.S5_OVERRIDE: "S5 entered by override",
    SystemPowerState.LEGACY_ON: "legacy on",
    SystemPowerState.LEGACY_OFF: "legacy off",
    SystemPowerState.UNKNOWN: "unknown",
}
_ASF_TO_CIM: dict[SystemPowerState, PowerState] = {
    SystemPowerState.S0_WORKING: PowerState.ON,
    SystemPowerState.S1_SLEEPING: PowerState.SLEEP_LIGHT,
    SystemPowerState.S2_SLEEPING: PowerState.SLEEP_LIGHT,
    SystemPowerState.S3_SLEEPING: PowerState.SLEEP_DEEP,
    SystemPowerState.S4_HIBERNATE: PowerState.HIBERNATE,
    SystemPowerState.S5_SOFT_OFF: PowerState.OFF_SOFT,
    SystemPowerState.S4_S5_SOFT_OFF: PowerState.OFF_SOFT,
    SystemPowerState.G3_MECHANICAL_OFF: PowerState.OFF_HARD,
    SystemPowerState.SLEEPING: PowerState.SLEEP_DEEP,
    SystemPowerState.G1_SLEEPING: PowerState.SLEEP_DEEP,
    SystemPowerState.S5_OVERRIDE: PowerState.OFF_SOFT,
    SystemPowerState.LEGACY_ON: PowerState.ON,
    SystemPowerState.LEGACY_OFF: PowerState.OFF_SOFT,
    SystemPowerState.UNKNOWN: PowerState.UNKNOWN,
}
_CIM_TO_ASF: dict[PowerState, SystemPowerState] = {
    PowerState.ON: SystemPowerState.S0_WORKING,
    PowerState.SLEEP_LIGHT: SystemPowerState.S1_SLEEPING,
    PowerState.SLEEP_DEEP: SystemPowerState.S3_SLEEPING,
    PowerState.HIBERNATE: SystemPowerState.S4_HIBERNATE,
    PowerState.OFF_SOFT: SystemPowerState.S5_SOFT_OFF,
    PowerState.OFF_HARD: SystemPowerState.G3_MECHANICAL_OFF,
}


class RemoteControlCommand(enum.IntEnum):
    """``RemoteControl(Command=...)`` of legacy AMT (ASF remote control commands)."""

    RESET = 16
    """Hardware reset (the host must be on or sleeping)."""
    POWER_UP = 17
    """Power on from soft off or hibernation."""
    POWER_DOWN = 18
    """Unconditional power down (lands in soft off)."""
    POWER_CYCLE_RESET = 19
    """Power down, then up."""
    SET_BOOT_OPTIONS = 33
    """Only set the boot options for the next boot."""


class SpecialCommand(enum.IntEnum):
    """``RemoteControl(SpecialCommand=...)``: where the next boot goes (ASF 0-5, Intel OEM 0xC1)."""

    NOP = 0
    PXE = 1
    """Force a network (PXE) boot."""
    HARD_DRIVE = 2
    """Force a boot from the hard drive (``SpecialCommandParameter``: boot media index)."""
    HARD_DRIVE_SAFE_MODE = 3
    DIAGNOSTICS = 4
    CD_DVD = 5
    """Force a boot from CD/DVD."""
    INTEL_OEM = 0xC1
    """Intel's OEM command (needs IANA number 343): the parameter picks IDE-R, BIOS setup, ..."""


class IanaOemNumber(enum.IntEnum):
    """The IANA enterprise number ``RemoteControl`` carries."""

    INTEL = 343
    """Intel: required for the Intel OEM special command 0xC1 and its parameters."""
    ASF = 4542
    """The ASF forum: standard ASF commands only."""


class IntelOemParameter(enum.IntEnum):
    """``SpecialCommandParameter`` with the Intel OEM special command 0xC1."""

    IDER_FLOPPY = 0x0001
    """Boot from the IDE-R floppy."""
    REFLASH_BIOS = 0x0004
    BIOS_SETUP = 0x0008
    """Enter BIOS setup."""
    BIOS_PAUSE = 0x0010
    IDER_CD = 0x0101
    """Boot from the IDE-R CD."""


class OemCapability(enum.IntFlag):
    """``OemDefinedCapabilities`` bits of ``GetRemoteControlCapabilities``."""

    IDER = 0x01
    SOL = 0x02
    BIOS_REFLASH = 0x04
    BIOS_SETUP = 0x08
    BIOS_PAUSE = 0x10


class SpecialCommandSupport(enum.IntFlag):
    """``SpecialCommandsSupported`` bits (ASF: the special command number as bit 8 + n - 1)."""

    PXE = 0x0100
    HARD_DRIVE = 0x0200
    HARD_DRIVE_SAFE_MODE = 0x0400
    DIAGNOSTICS = 0x0800
    CD_DVD = 0x1000


class SystemCapability(enum.IntFlag):
    """``SystemCapabilitiesSupported`` bits: the power commands the firmware accepts."""

    POWER_CYCLE_RESET = 0x01
    POWER_DOWN = 0x02
    POWER_UP = 0x04
    RESET = 0x08


OEM_PARAMETER_USE_SOL = 0x0001
"""``OEMparameters`` bit 0: BIOS output over Serial-over-LAN (with IANA 343)."""
