"""The host power-state machine.

Theory of operation:

* Rule 1: time belongs to the device. A requested change starts a *transition* with an end
  time; every read first applies whatever transitions have completed by now (``settle``), so
  no timer thread is needed.
* Rule 2: one change at a time. While a transition runs, another request is refused with
  ReturnValue 4099 (Busy), as AMT makes a second change wait for the first.
* Rule 3: cycle and reset pass through off: a transition has an optional off phase before
  it lands on its final state.
* Rule 4: what is offered depends on the state (``AvailableRequestedPowerStates``): an off
  machine can only be powered on; sleep and hibernate only where the platform supports them.
* Fault mode ``power_state_unknown``: the state reads as 0 (Unknown) and every action fails.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from amtkit.codes import ACTION_RESULT, PowerAction, PowerState, ReturnValue

_OFF_LIKE = (PowerState.OFF_SOFT, PowerState.OFF_HARD, PowerState.HIBERNATE)
_THROUGH_OFF = (
    PowerAction.CYCLE, PowerAction.CYCLE_HARD, PowerAction.RESET, PowerAction.RESET_GRACEFUL,
    PowerAction.CYCLE_GRACEFUL, PowerAction.CYCLE_HARD_GRACEFUL,
)


@dataclass
class Transition:
    action: PowerAction
    target: PowerState
    off_until: float | None
    """End of the off phase (cycle/reset), or None."""
    ends_at: float


@dataclass
class PowerBackend:
    state: PowerState = PowerState.ON
    transition_seconds: float = 0.5
    off_phase_seconds: float = 0.5
    sleep_supported: bool = True
    state_unknown: bool = False
    clock: Callable[[], float] = time.monotonic
    transition: Transition | None = None
    history: list[tuple[float, PowerAction]] = field(default_factory=list)
    """Every accepted request, for tests and the control API."""
    refusal: Callable[[PowerAction], int | None] | None = None
    """Hook for other services' rules (e.g. no off/cycle during a redirection session)."""
    on_power_up: list[Callable[[PowerAction], None]] = field(default_factory=list)
    """Called when the host (re)starts: power on, cycle, reset (firmware boot hooks)."""

    def settle(self) -> None:
        """Apply a finished transition (Rule 1)."""
        current = self.transition
        if current is None:
            return
        now = self.clock()
        if now >= current.ends_at:
            self.state = current.target
            self.transition = None
            if current.target == PowerState.ON and current.action != PowerAction.NMI:
                for hook in self.on_power_up:
                    hook(current.action)
        elif current.off_until is not None and now < current.off_until:
            self.state = PowerState.OFF_SOFT

    @property
    def reported_state(self) -> PowerState:
        if self.state_unknown:
            return PowerState.UNKNOWN
        self.settle()
        return self.state

    @property
    def in_transition(self) -> bool:
        self.settle()
        return self.transition is not None

    def available_actions(self) -> list[PowerAction]:
        """``AvailableRequestedPowerStates`` in AMT's observed order (Rule 4)."""
        if self.state_unknown:
            return []
        state = self.reported_state
        if state in _OFF_LIKE:
            return [PowerAction.ON]
        if state in (PowerState.SLEEP_DEEP, PowerState.SLEEP_LIGHT):
            return [PowerAction.ON, PowerAction.OFF, PowerAction.RESET]
        offered = [PowerAction.RESET, PowerAction.OFF, PowerAction.CYCLE, PowerAction.NMI]
        if self.sleep_supported:
            offered += [PowerAction.SLEEP, PowerAction.HIBERNATE]
        offered += [PowerAction.RESET_GRACEFUL, PowerAction.OFF_GRACEFUL]
        return offered

    def request(self, code: int) -> int:
        """RequestPowerStateChange: returns the method's ReturnValue."""
        if self.state_unknown:
            return int(ReturnValue.UNKNOWN_ERROR)
        try:
            action = PowerAction(code)
        except ValueError:
            return int(ReturnValue.INVALID_PARAMETER)
        if self.in_transition:
            return int(ReturnValue.BUSY)
        if action not in self.available_actions():
            return int(ReturnValue.NOT_SUPPORTED)
        if self.refusal is not None:
            refused = self.refusal(action)
            if refused is not None:
                return refused
        now = self.clock()
        off_until = now + self.off_phase_seconds if action in _THROUGH_OFF else None
        ends_at = (off_until or now) + self.transition_seconds
        self.transition = Transition(action, ACTION_RESULT[action], off_until, ends_at)
        self.history.append((now, action))
        self.settle()
        return int(ReturnValue.COMPLETED)

    def force_state(self, state: PowerState) -> None:
        """Control API: put the machine in a state at once, ending any transition."""
        self.transition = None
        self.state = state
