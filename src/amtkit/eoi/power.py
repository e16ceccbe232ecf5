"""``client.power`` on legacy SOAP (AMT 2.x-8.x): the same API as :class:`amtkit.power.PowerControl`.

The state is ``RemoteControl.GetSystemPowerState`` (an ASF system power state, reported here as the
CIM :class:`~amtkit.codes.PowerState` that means the same, the ASF value kept in
:attr:`LegacyPowerStatus.system_power_state`). Actions map onto ``RemoteControl`` commands: on ->
PowerUp, off -> PowerDown, cycle -> PowerCycleReset, reset -> Reset; the others (sleep, hibernate,
NMI, graceful variants) have no legacy command.

A machine whose firmware reports state 14 (unknown) cannot be switched: the old consoles said
"Generic error, FromState detected as unknown:14". amtkit reads the state before every action and
raises :class:`~amtkit.exceptions.PowerStateUnknownError` saying so and what to check, instead of
sending a command the firmware refuses.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from .. import exceptions as exc
from ..boot import BootTarget
from ..codes import (
    OEM_PARAMETER_USE_SOL,
    IanaOemNumber,
    IntelOemParameter,
    OemCapability,
    PowerAction,
    PowerState,
    PTStatus,
    RemoteControlCommand,
    SpecialCommand,
    SpecialCommandSupport,
    SystemCapability,
    SystemPowerState,
)
from ..power import PowerControl, PowerStatus
from .names import REMOTE_CONTROL

__all__ = [
    "BOOT_COMMANDS",
    "UNKNOWN_STATE_SYMPTOM",
    "LegacyPowerControl",
    "LegacyPowerStatus",
    "RemoteControlCapabilities",
]

UNKNOWN_STATE_SYMPTOM = "Generic error, FromState detected as unknown:14"
"""What consoles of the legacy era printed for a power action while AMT reports state 14."""

_COMMANDS: dict[PowerAction, RemoteControlCommand] = {
    PowerAction.ON: RemoteControlCommand.POWER_UP,
    PowerAction.OFF: RemoteControlCommand.POWER_DOWN,
    PowerAction.OFF_HARD: RemoteControlCommand.POWER_DOWN,
    PowerAction.CYCLE: RemoteControlCommand.POWER_CYCLE_RESET,
    PowerAction.CYCLE_HARD: RemoteControlCommand.POWER_CYCLE_RESET,
    PowerAction.RESET: RemoteControlCommand.RESET,
}
_OFF_LIKE = (PowerState.OFF_SOFT, PowerState.OFF_HARD, PowerState.HIBERNATE)
_SLEEPING = (PowerState.SLEEP_LIGHT, PowerState.SLEEP_DEEP)

#: One-time boot targets as (special command, special command parameter, IANA number they need).
BOOT_COMMANDS: dict[BootTarget, tuple[SpecialCommand, int, IanaOemNumber]] = {
    BootTarget.PXE: (SpecialCommand.PXE, 0, IanaOemNumber.INTEL),
    BootTarget.DISK: (SpecialCommand.HARD_DRIVE, 0, IanaOemNumber.INTEL),
    BootTarget.CD: (SpecialCommand.CD_DVD, 0, IanaOemNumber.INTEL),
    BootTarget.BIOS: (SpecialCommand.INTEL_OEM, IntelOemParameter.BIOS_SETUP, IanaOemNumber.INTEL),
    BootTarget.IDER_FLOPPY: (SpecialCommand.INTEL_OEM, IntelOemParameter.IDER_FLOPPY, IanaOemNumber.INTEL),
    BootTarget.IDER_CD: (SpecialCommand.INTEL_OEM, IntelOemParameter.IDER_CD, IanaOemNumber.INTEL),
}


@dataclass(frozen=True)
class LegacyPowerStatus(PowerStatus):
    system_power_state: SystemPowerState = SystemPowerState.UNKNOWN
    """The ASF state the firmware reported."""

    def to_dict(self) -> dict[str, object]:
        data = super().to_dict()
        data.update(asf_state=int(self.system_power_state), asf_meaning=self.system_power_state.meaning)
        return data


def offered(state: PowerState) -> tuple[PowerAction, ...]:
    """What a legacy command can do from ``state`` (ASF: reset from S0-S3, power up from S4/S5)."""
    if state in _OFF_LIKE:
        return (PowerAction.ON,)
    if state in _SLEEPING:
        return (PowerAction.ON, PowerAction.OFF, PowerAction.RESET)
    return (PowerAction.RESET, PowerAction.OFF, PowerAction.CYCLE)


def unknown_state_error(host: str | None, action: str | None = None) -> exc.PowerStateUnknownError:
    doing = f"cannot {action}: " if action else ""
    return exc.PowerStateUnknownError(
        f"{doing}AMT reports the host's power state as unknown (ASF state 14); consoles of the legacy era "
        f"reported this as \"{UNKNOWN_STATE_SYMPTOM}\"", host=host)


@dataclass(frozen=True)
class RemoteControlCapabilities:
    """``GetRemoteControlCapabilities``: what the firmware's remote control can do."""

    iana_oem_number: int
    oem: OemCapability
    special_commands: SpecialCommandSupport
    system: SystemCapability
    firmware: int
    """``SystemFirmwareCapabilities`` bits (locks, verbosity, ...) as reported."""

    def to_dict(self) -> dict[str, object]:
        def names(flags: enum.IntFlag) -> list[str]:
            return [member.name.lower() for member in type(flags) if member in flags and member.name]

        return {"iana_oem_number": self.iana_oem_number, "oem": names(self.oem),
                "special_commands": names(self.special_commands), "system": names(self.system),
                "firmware": self.firmware}


class LegacyPowerControl(PowerControl):
    """``client.power`` for a device spoken to over legacy SOAP."""

    def capabilities(self) -> RemoteControlCapabilities:
        reply = self._client.eoi.call(REMOTE_CONTROL, "GetRemoteControlCapabilities")
        return RemoteControlCapabilities(
            iana_oem_number=int(reply["IanaOemNumber"]), oem=OemCapability(int(reply["OemDefinedCapabilities"])),
            special_commands=SpecialCommandSupport(int(reply["SpecialCommandsSupported"])),
            system=SystemCapability(int(reply["SystemCapabilitiesSupported"])),
            firmware=int(reply["SystemFirmwareCapabilities"]))

    def system_power_state(self) -> SystemPowerState:
        """The ASF state as reported (``GetSystemPowerState``, low nibble)."""
        reply = self._client.eoi.call(REMOTE_CONTROL, "GetSystemPowerState")
        return SystemPowerState.from_wire(int(reply["SystemPowerState"]))

    def status(self) -> LegacyPowerStatus:
        asf = self.system_power_state()
        if asf is SystemPowerState.UNKNOWN:
            raise unknown_state_error(self._client.host)
        state = asf.power_state
        return LegacyPowerStatus(state=state, available=offered(state), system_power_state=asf)

    def request(self, action: PowerAction | str | int, *, check_offered: bool = True) -> None:
        """Request a power change with ``RemoteControl`` (on, off, cycle, reset)."""
        self.remote_control(self._command(action), check_offered=check_offered)

    def _command(self, action: PowerAction | str | int) -> RemoteControlCommand:
        code = self._code(action)
        try:
            chosen = PowerAction(code)
        except ValueError:
            chosen = None
        if chosen is None or chosen not in _COMMANDS:
            label = chosen.cli_name if chosen is not None else str(code)
            raise exc.PowerActionNotSupported(
                f"legacy SOAP (AMT before 9) has no command for power action {label!r}",
                valid=[a.cli_name for a in (PowerAction.ON, PowerAction.OFF, PowerAction.CYCLE, PowerAction.RESET)],
                host=self._client.host)
        return _COMMANDS[chosen]

    def boot_once(self, target: BootTarget | str, *, then: PowerAction | str = "auto") -> None:
        """Boot once to ``target`` (PXE, disk, CD, BIOS setup, IDE-R) with one ``RemoteControl``: the
        special command rides on the power command ``then`` (``"auto"``: power up when off, else reset)."""
        try:
            chosen = BootTarget.parse(target)
        except ValueError as error:
            raise exc.UsageError(str(error), host=self._client.host) from error
        special, parameter, iana = BOOT_COMMANDS[chosen]
        if then == "auto":
            state = self.status().state
            then = PowerAction.ON if state in _OFF_LIKE else PowerAction.RESET
        self.remote_control(self._command(then), special=special, parameter=parameter or None, iana=iana)

    def remote_control(self, command: RemoteControlCommand, *, special: SpecialCommand | None = None,
                       parameter: int | None = None, boot_options: int | None = None,
                       oem_parameters: int | None = None, iana: IanaOemNumber = IanaOemNumber.INTEL,
                       check_offered: bool = True) -> None:
        """One ``RemoteControl`` call, after checking the state (unknown: refused; ``check_offered``: the
        command must be possible from the current state). Intel's OEM command needs IANA number 343."""
        host = self._client.host
        if special is SpecialCommand.INTEL_OEM and iana is not IanaOemNumber.INTEL:
            raise exc.UsageError("Intel's OEM special command (0xC1) needs IANA number 343 (Intel)", host=host)
        if oem_parameters and oem_parameters & OEM_PARAMETER_USE_SOL and iana is not IanaOemNumber.INTEL:
            raise exc.UsageError("OEMparameters need IANA number 343 (Intel)", host=host)
        if command is not RemoteControlCommand.SET_BOOT_OPTIONS:
            self._check_state(command, check_offered)
        params: dict[str, int] = {"Command": int(command), "IanaOemNumber": int(iana)}
        for name, value in (("SpecialCommand", special), ("SpecialCommandParameter", parameter),
                            ("BootOptions", boot_options), ("OEMparameters", oem_parameters)):
            if value is not None:
                params[name] = int(value)
        reply = self._client.eoi.call(REMOTE_CONTROL, "RemoteControl", check=False, **params)
        self._raise_for_status(int(reply[REMOTE_CONTROL.status_element]), command)

    def _check_state(self, command: RemoteControlCommand, check_offered: bool) -> None:
        label = command.name.lower().replace("_", " ")
        asf = self.system_power_state()
        if asf is SystemPowerState.UNKNOWN:
            raise unknown_state_error(self._client.host, label)
        if not check_offered:
            return
        state = asf.power_state
        allowed = offered(state)
        wanted = [a for a, c in _COMMANDS.items() if c is command]
        if not any(a in allowed for a in wanted):
            raise exc.PowerActionNotSupported(
                f"the device cannot {label} while {asf.meaning}", valid=[a.cli_name for a in allowed],
                host=self._client.host)

    def _raise_for_status(self, status: int, command: RemoteControlCommand) -> None:
        if status == 0:
            return
        host = self._client.host
        label = command.name.lower().replace("_", " ")
        if status == PTStatus.NOT_READY:
            raise exc.PowerChangeInProgress("a previous power change is still in progress", host=host)
        if status == PTStatus.NOT_PERMITTED:
            raise exc.PowerActionNotSupported(
                f"the device refused to {label} now (AMT refuses power changes during a redirection session)",
                valid=[], host=host)
        if status == PTStatus.INTERNAL_ERROR and self.system_power_state() is SystemPowerState.UNKNOWN:
            raise unknown_state_error(host, label)
        if status in (PTStatus.UNSUPPORTED_BOOT_OPTION, PTStatus.INVALID_SPECIAL_COMMAND,
                      PTStatus.UNSUPPORTED_OEM_NUMBER):
            raise exc.FeatureUnavailableError(
                f"RemoteControl refused the boot options: {PTStatus.describe(status)}", host=host,
                hint="compare with what the device offers: client.power.capabilities()")
        from .services import return_error

        raise return_error("RemoteControl.RemoteControl", "RemoteControl", status, host)
