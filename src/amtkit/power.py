"""Power control: read the host's power state, request changes, wait for a state.

AMT classes: ``CIM_AssociatedPowerManagementService`` (the reported ``PowerState`` and the
``AvailableRequestedPowerStates`` offered now) and ``CIM_PowerManagementService``'s
``RequestPowerStateChange(PowerState, ManagedElement)``. Codes sent (:class:`PowerAction`) and
codes read back (:class:`PowerState`) are kept apart on purpose.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import exceptions as exc
from .codes import PowerAction, PowerState, ReturnValue
from .generation import legacy_aware
from .wsman import names
from .wsman.values import EndpointReference

if TYPE_CHECKING:
    from .client import Client

__all__ = ["PowerControl", "PowerStatus"]

MANAGED_SYSTEM = EndpointReference(names.resource_uri(names.Cls.CIM_ComputerSystem), names.MANAGED_SYSTEM_SELECTORS)


@dataclass(frozen=True)
class PowerStatus:
    state: PowerState
    available: tuple[PowerAction | int, ...]
    """Actions the device offers in this state (raw ints for codes amtkit does not name)."""

    @property
    def available_names(self) -> list[str]:
        return [a.cli_name if isinstance(a, PowerAction) else str(a) for a in self.available]

    def to_dict(self) -> dict[str, object]:
        return {"state": self.state.name.lower(), "state_code": int(self.state), "available": self.available_names}


def _action(code: int) -> PowerAction | int:
    try:
        return PowerAction(code)
    except ValueError:
        return code


class PowerControl:
    """``client.power``: the power feature of one device."""

    def __init__(self, client: Client) -> None:
        self._client = client

    @legacy_aware
    def status(self) -> PowerStatus:
        """The reported power state and the actions offered now.

        Raises :class:`~amtkit.exceptions.PowerStateUnknownError` when AMT reports state 0 (the
        console-era "FromState detected as unknown").
        """
        instance = self._client.get(names.Cls.CIM_AssociatedPowerManagementService)
        raw_state = instance.get("PowerState")
        try:
            state = PowerState(int(raw_state)) if raw_state not in (None, "") else PowerState.UNKNOWN  # type: ignore[arg-type]
        except (TypeError, ValueError):
            state = PowerState.UNKNOWN
        if state in (PowerState.UNKNOWN, PowerState.OTHER):
            raise exc.PowerStateUnknownError("AMT reports the host power state as unknown", host=self._client.host)
        offered = instance.get("AvailableRequestedPowerStates") or []
        codes = offered if isinstance(offered, list) else [offered]
        available = tuple(_action(int(c)) for c in codes if isinstance(c, int))
        return PowerStatus(state=state, available=available)

    def state(self) -> PowerState:
        return self.status().state

    @legacy_aware
    def request(self, action: PowerAction | str | int, *, check_offered: bool = True) -> None:
        """Request a power change.

        ``action`` is a :class:`PowerAction`, its name (``"cycle"``, ``"off"``...) or a raw code (the
        escape hatch for codes amtkit does not name). With ``check_offered`` the action is first
        checked against ``AvailableRequestedPowerStates``.
        """
        code = self._code(action)
        if check_offered:
            status = self.status()
            if code not in [int(a) for a in status.available]:
                name = _action(code)
                label = name.cli_name if isinstance(name, PowerAction) else str(code)
                raise exc.PowerActionNotSupported(
                    f"the device does not offer power action {label!r} while {status.state.name.lower()}",
                    valid=status.available_names, host=self._client.host)
        output = self._client.invoke(
            names.Cls.CIM_PowerManagementService, "RequestPowerStateChange",
            {"PowerState": code, "ManagedElement": MANAGED_SYSTEM},
            names.POWER_SERVICE_SELECTORS, check=False)
        self._raise_for(output.return_value, code)

    def _legacy(self) -> PowerControl | None:
        """The legacy SOAP twin when the client speaks legacy SOAP (:mod:`amtkit.generation`)."""
        if type(self) is PowerControl and self._client.generation == "eoi":
            return self._client.power_legacy
        return None

    def _code(self, action: PowerAction | str | int) -> int:
        if isinstance(action, PowerState):
            # A reported state is not a request: 5 means "cycle" sent but something else read back.
            raise exc.UsageError(f"{action!r} is a reported power state; pass a PowerAction",
                                 host=self._client.host)
        if isinstance(action, PowerAction):
            return int(action)
        if isinstance(action, int):
            return action
        text = action.strip()
        if text.isascii() and text.isdigit():
            return int(text)
        try:
            return int(PowerAction.from_name(text))
        except ValueError as error:
            raise exc.UsageError(str(error), host=self._client.host) from error

    def _raise_for(self, value: int, code: int) -> None:
        if value == 0:
            return
        host = self._client.host
        if value in (ReturnValue.BUSY, ReturnValue.IN_USE):
            raise exc.PowerChangeInProgress("a previous power change is still in progress", host=host)
        action = _action(code)
        label = action.cli_name if isinstance(action, PowerAction) else str(code)
        if value == ReturnValue.UNKNOWN_ERROR:
            # AMT's answer to a change not offered in the current state (DSP1027 8.1.1), and to any
            # failure it does not name: the state read now tells which.
            status = self._status_if_known()
            if status is not None and code not in [int(a) for a in status.available]:
                raise exc.PowerActionNotSupported(
                    f"power action {label!r} refused while {status.state.name.lower()}",
                    valid=status.available_names, host=host)
        if value in (ReturnValue.NOT_SUPPORTED, ReturnValue.INVALID_STATE_TRANSITION):
            # Say what the device said, no more: AMT gives no reason (an open redirection session is one
            # possible cause for off and cycle, named in the hint as a possibility only).
            said = "not supported" if value == ReturnValue.NOT_SUPPORTED else "invalid state transition"
            error = exc.PowerActionNotSupported(
                f"the device answered {value} ({said}) to power action {label!r}", valid=[], host=host)
            error.hint = ("`amtkit power status` lists what it offers now" + (
                "; AMT also refuses power off and cycle while a SOL or IDE-R session is open" if code in (
                    PowerAction.OFF, PowerAction.OFF_HARD, PowerAction.CYCLE, PowerAction.CYCLE_HARD) else ""))
            raise error
        raise self._client.return_error(names.Cls.CIM_PowerManagementService, "RequestPowerStateChange", value)

    def _status_if_known(self) -> PowerStatus | None:
        try:
            return self.status()
        except exc.PowerStateUnknownError:
            return None

    # Named helpers for the common actions.
    def on(self) -> None:
        self.request(PowerAction.ON)

    def off(self, *, graceful: bool = False, hard: bool = False) -> None:
        if graceful:
            self.request(PowerAction.OFF_HARD_GRACEFUL if hard else PowerAction.OFF_GRACEFUL)
        else:
            self.request(PowerAction.OFF_HARD if hard else PowerAction.OFF)

    def cycle(self, *, graceful: bool = False) -> None:
        self.request(PowerAction.CYCLE_GRACEFUL if graceful else PowerAction.CYCLE)

    def reset(self, *, graceful: bool = False) -> None:
        self.request(PowerAction.RESET_GRACEFUL if graceful else PowerAction.RESET)

    def wait_for(self, target: PowerState, *, timeout: float = 60.0, interval: float = 1.0) -> PowerState:
        """Poll until the device reports ``target``; raise :class:`PowerWaitTimeout` after ``timeout``."""
        deadline = time.monotonic() + timeout
        last: PowerState | None = None
        while True:
            try:
                last = self.state()
            except exc.PowerStateUnknownError:
                last = PowerState.UNKNOWN
            if last == target:
                return last
            if time.monotonic() >= deadline:
                seen = last.name.lower() if last is not None else "nothing"
                raise exc.PowerWaitTimeout(
                    f"power state did not reach {target.name.lower()} within {timeout:g} s (last seen: {seen})",
                    host=self._client.host)
            time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
