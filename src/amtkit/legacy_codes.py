"""Legacy SOAP (EOI) RemoteControl codes: ASF power states, commands and capability bits.

Part of :mod:`amtkit.codes` (where every name here still resolves), kept apart so that a WS-Man
client does not build these enums.
"""

from __future__ import annotations

import enum

from .codes import PowerState

__all__ = [
    "SystemPowerState", "RemoteControlCommand", "SpecialCommand", "IanaOemNumber",
    "IntelOemParameter", "OemCapability", "SpecialCommandSupport", "SystemCapability", "OEM_PARAMETER_USE_SOL",
]


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
