"""RemoteControlService: the ASF power state, the remote control capabilities, power and boot control.

Over the same backends as WS-Man (:mod:`amtsim.backends.power`, :mod:`amtsim.backends.boot`), so a
change made through one protocol is what the other reads:

* ``GetSystemPowerState`` reports the power backend's state as an ASF system power state (ON -> 0,
  soft off -> 5, ...; 14 while the state is unknown).
* ``RemoteControl`` maps Reset/PowerUp/PowerDown/PowerCycleReset onto the WS-Man power actions
  (reset, on, off, cycle) and the special command onto the one-time boot override the next power-up
  consumes (PXE, hard drive, CD/DVD; with Intel's OEM command 0xC1: BIOS setup, IDE-R floppy/CD;
  ``OEMparameters`` bit 0: BIOS output over SOL). Options set for a command that is then refused are
  taken back.

Refusals (codes per the SDK's names; which code the firmware picks in each case is inferred): an IANA
number other than 343/4542, or Intel's command without 343: UNSUPPORTED_OEM_NUMBER; an unknown command:
INVALID_COMMAND; an unknown special command: INVALID_SPECIAL_COMMAND; a boot the platform cannot do:
UNSUPPORTED_BOOT_OPTION; parameters out of the WSDL's order: INVALID_PARAMETER; the power state unknown:
INTERNAL_ERROR (the consoles' "FromState detected as unknown:14"); a command not possible in the current
state or during a redirection session: NOT_PERMITTED; a change still under way: NOT_READY.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from amtkit.boot import IDERBootDevice
from amtkit.codes import (
    OEM_PARAMETER_USE_SOL,
    IanaOemNumber,
    IntelOemParameter,
    OemCapability,
    PowerAction,
    PTStatus,
    RemoteControlCommand,
    ReturnValue,
    SpecialCommand,
    SpecialCommandSupport,
    SystemCapability,
    SystemPowerState,
)
from amtkit.eoi.envelope import Fields
from amtkit.eoi.names import REMOTE_CONTROL
from amtkit.wsman import names
from amtkit.wsman.values import Value

from ..backends.boot import BootBackend, boot_backend_of
from .base import ReplyFields, ServiceHandler, StatusError, register, required

if TYPE_CHECKING:
    from ..device import SimulatedDevice

_ORDER = ("Command", "IanaOemNumber", "SpecialCommand", "SpecialCommandParameter", "BootOptions", "OEMparameters")
_POWER_ACTIONS = {
    RemoteControlCommand.RESET: PowerAction.RESET,
    RemoteControlCommand.POWER_UP: PowerAction.ON,
    RemoteControlCommand.POWER_DOWN: PowerAction.OFF,
    RemoteControlCommand.POWER_CYCLE_RESET: PowerAction.CYCLE,
}
_SOURCES = {
    SpecialCommand.PXE: (names.BOOT_SOURCE_PXE, "ForcePXEBoot"),
    SpecialCommand.HARD_DRIVE: (names.BOOT_SOURCE_HARD_DRIVE, "ForceHardDriveBoot"),
    SpecialCommand.CD_DVD: (names.BOOT_SOURCE_CD_DVD, "ForceCDorDVDBoot"),
}
_SPECIAL_CAPABILITIES = {
    "ForcePXEBoot": SpecialCommandSupport.PXE, "ForceHardDriveBoot": SpecialCommandSupport.HARD_DRIVE,
    "ForceHardDriveSafeModeBoot": SpecialCommandSupport.HARD_DRIVE_SAFE_MODE,
    "ForceDiagnosticBoot": SpecialCommandSupport.DIAGNOSTICS, "ForceCDorDVDBoot": SpecialCommandSupport.CD_DVD,
}
_OEM_CAPABILITIES = {"IDER": OemCapability.IDER, "SOL": OemCapability.SOL, "BIOSReflash": OemCapability.BIOS_REFLASH,
                     "BIOSSetup": OemCapability.BIOS_SETUP, "BIOSPause": OemCapability.BIOS_PAUSE}
_FIRMWARE_CAPABILITIES = {"KeyboardLock": 0x20, "PowerButtonLock": 0x2, "ResetButtonLock": 0x4,
                          "SleepButtonLock": 0x40, "UserPasswordBypass": 0x800, "ForcedProgressEvents": 0x1000,
                          "ConfigurationDataReset": 0x8000}
_BOOT_OPTION_FLAGS = {0x0002: "LockPowerButton", 0x0004: "LockResetButton", 0x0020: "LockKeyboard",
                      0x0040: "LockSleepButton", 0x0800: "UserPasswordBypass", 0x1000: "ForcedProgressEvents",
                      0x8000: "ConfigurationDataReset"}
_BOOT_OPTIONS_RESERVED = 0x0719
_VERBOSITY_MASK, _VERBOSITY_SHIFT = 0x6000, 13


def _flags(capabilities: dict[str, Value], table: Mapping[str, int]) -> int:
    return sum(int(bit) for name, bit in table.items() if capabilities.get(name) is True)


class RemoteControl(ServiceHandler):
    service = REMOTE_CONTROL
    operations = {"GetSystemPowerState": "get_system_power_state",
                  "GetRemoteControlCapabilities": "get_capabilities", "RemoteControl": "remote_control"}

    def get_system_power_state(self, device: SimulatedDevice, fields: Fields) -> ReplyFields:
        state = SystemPowerState.from_power_state(device.power.reported_state)
        return [("SystemPowerState", int(state))]

    def get_capabilities(self, device: SimulatedDevice, fields: Fields) -> ReplyFields:
        capabilities = boot_backend_of(device).capabilities
        system = SystemCapability.POWER_CYCLE_RESET | SystemCapability.POWER_DOWN | SystemCapability.POWER_UP \
            | SystemCapability.RESET
        return [
            ("IanaOemNumber", int(IanaOemNumber.INTEL)),
            ("OemDefinedCapabilities", _flags(capabilities, _OEM_CAPABILITIES)),
            ("SpecialCommandsSupported", _flags(capabilities, _SPECIAL_CAPABILITIES)),
            ("SystemCapabilitiesSupported", int(system)),
            ("SystemFirmwareCapabilities", _flags(capabilities, _FIRMWARE_CAPABILITIES)),
        ]

    def remote_control(self, device: SimulatedDevice, fields: Fields) -> ReplyFields:
        given = [name for name in fields.names() if name in _ORDER]
        if given != sorted(given, key=_ORDER.index) or len(given) != len(fields.names()):
            raise StatusError(PTStatus.INVALID_PARAMETER, "parameters out of the WSDL's order, or unknown ones")
        try:
            command = RemoteControlCommand(required(fields, "Command"))
        except ValueError:
            raise StatusError(PTStatus.INVALID_COMMAND) from None
        iana = required(fields, "IanaOemNumber")
        if iana not in (IanaOemNumber.INTEL, IanaOemNumber.ASF):
            raise StatusError(PTStatus.UNSUPPORTED_OEM_NUMBER)
        boot = boot_backend_of(device)
        saved = (dict(boot.settings), boot.source, boot.role_is_next)
        self._set_boot_options(boot, fields, iana)
        if command is RemoteControlCommand.SET_BOOT_OPTIONS:
            return []
        try:
            self._power(device, _POWER_ACTIONS[command])
        except StatusError:
            boot.settings, boot.source, boot.role_is_next = saved
            raise
        return []

    def _power(self, device: SimulatedDevice, action: PowerAction) -> None:
        power = device.power
        if power.state_unknown:
            raise StatusError(PTStatus.INTERNAL_ERROR, "FromState detected as unknown:14")
        result = power.request(int(action))
        if result == ReturnValue.BUSY:
            raise StatusError(PTStatus.NOT_READY, "a power change is under way")
        if result != ReturnValue.COMPLETED:
            raise StatusError(PTStatus.NOT_PERMITTED, f"{action.cli_name} is not possible now")

    def _set_boot_options(self, boot: BootBackend, fields: Fields, iana: int) -> None:
        special_code = fields.integer("SpecialCommand")
        parameter = fields.integer("SpecialCommandParameter") or 0
        options = fields.integer("BootOptions") or 0
        oem = fields.integer("OEMparameters") or 0
        if special_code is not None:
            try:
                special = SpecialCommand(special_code)
            except ValueError:
                raise StatusError(PTStatus.INVALID_SPECIAL_COMMAND) from None
            self._special(boot, special, parameter, iana)
        if options & _BOOT_OPTIONS_RESERVED:
            raise StatusError(PTStatus.INVALID_PARAMETER, "reserved BootOptions bits set")
        for bit, setting in _BOOT_OPTION_FLAGS.items():
            if options & bit:
                boot.settings[setting] = True
        if options & _VERBOSITY_MASK:
            boot.settings["FirmwareVerbosity"] = (options & _VERBOSITY_MASK) >> _VERBOSITY_SHIFT
        if oem & OEM_PARAMETER_USE_SOL and iana == IanaOemNumber.INTEL:
            boot.settings["UseSOL"] = True
        if special_code or options or oem:
            boot.role_is_next = True  # EOI options always apply to the next boot

    def _special(self, boot: BootBackend, special: SpecialCommand, parameter: int, iana: int) -> None:
        capabilities = boot.capabilities
        if special is SpecialCommand.NOP:
            return
        if special in _SOURCES:
            source, capability = _SOURCES[special]
            if capabilities.get(capability) is not True:
                raise StatusError(PTStatus.UNSUPPORTED_BOOT_OPTION, f"no {capability}")
            boot.source = source
            boot.role_is_next = True
            return
        if special is not SpecialCommand.INTEL_OEM:
            raise StatusError(PTStatus.UNSUPPORTED_BOOT_OPTION, f"{special.name} boots are not offered")
        if iana != IanaOemNumber.INTEL:
            raise StatusError(PTStatus.UNSUPPORTED_OEM_NUMBER, "Intel's OEM command needs IANA number 343")
        if parameter == 0:
            boot.role_is_next = True  # amttool's "bios": default boot, BIOS output over SOL
            return
        try:
            what = IntelOemParameter(parameter)
        except ValueError:
            raise StatusError(PTStatus.INVALID_PARAMETER, f"SpecialCommandParameter {parameter:#x}") from None
        if what in (IntelOemParameter.IDER_FLOPPY, IntelOemParameter.IDER_CD):
            if capabilities.get("IDER") is not True:
                raise StatusError(PTStatus.UNSUPPORTED_BOOT_OPTION, "no IDE-R")
            boot.settings["UseIDER"] = True
            boot.settings["IDERBootDevice"] = int(
                IDERBootDevice.CD if what is IntelOemParameter.IDER_CD else IDERBootDevice.FLOPPY)
        elif what is IntelOemParameter.BIOS_SETUP and capabilities.get("BIOSSetup") is True:
            boot.settings["BIOSSetup"] = True
        elif what is IntelOemParameter.BIOS_PAUSE and capabilities.get("BIOSPause") is True:
            boot.settings["BIOSPause"] = True
        else:
            raise StatusError(PTStatus.UNSUPPORTED_BOOT_OPTION, f"{what.name} is not offered")
        boot.settings["OptionsCleared"] = False
        boot.role_is_next = True


register(RemoteControl())
