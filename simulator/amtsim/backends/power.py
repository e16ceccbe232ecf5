"""The host power-state machine.

Theory of operation:

* Rule 1: time belongs to the device. A requested change starts a *transition* with an end
  time; every read first applies whatever transitions have completed by now (``settle``). The
  host shows a change at once (it is off, asleep, on from the request on); the transition
  *completes* ``transition_seconds`` later, when the BIOS has told AMT it is done: only then does
  the next change start and the power-up hooks run. The server also settles each change on its
  event loop when it is due (an ``on_request`` hook), so a power-up boots the host, logs its
  events and alerts subscribers at its time even when nobody reads the state.
* Rule 2: one change at a time, and a second one waits for the first. Intel's guide tells
  consoles not to request a change before the previous one has completed (the BIOS reports
  completion to AMT, up to about 10 s); AMT makes the second request wait rather than refuse
  it. :meth:`PowerBackend.request` raises :class:`ChangeInProgress` with the time left, and the
  wire layer holds the request until then and asks again, so the second change is judged
  against the state the first one left (off, then on: both succeed).
* Rule 3: cycle and reset pass through off: the host reports off from the request until the
  transition lands on its final state, ``off_phase_seconds`` plus ``transition_seconds`` later.
* Rule 4: what is offered depends on the state (``AvailableRequestedPowerStates``): an off
  machine can only be powered on; sleep and hibernate only where the platform supports them.
  A change not offered now is refused with ReturnValue 2, as DSP1027 (8.1.1) prescribes and AMT
  answers (an off refused on an AMT 10 machine, sdague/amt issue 28).
* What AMT refuses besides: power off and cycle while a redirection session is open (the
  ``refusal`` hook of the redirection service, ReturnValue 4097). Busy (4099) is never answered:
  no AMT documentation or recording shows it for ``RequestPowerStateChange``.
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


class ChangeInProgress(Exception):
    """A change was requested while another runs (Rule 2): ask again in ``seconds_left`` seconds."""

    def __init__(self, seconds_left: float) -> None:
        super().__init__(f"a power change is in progress for another {seconds_left:.3f} s")
        self.seconds_left = seconds_left


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
    on_request: list[Callable[[PowerAction], None]] = field(default_factory=list)
    """Called for every accepted request, before its transition starts (the event and audit logs)."""
    os_power_saving: bool = False
    """The OS is in its low-power idle (InstantGo / Modern Standby) while the hardware reads on."""

    def request_os_power_saving(self, saving: bool) -> int:
        """``IPS_PowerManagementService.RequestOSPowerSavingStateChange``: only while the host is on."""
        if self.reported_state is not PowerState.ON:
            return int(ReturnValue.UNKNOWN_ERROR)
        self.os_power_saving = saving
        return int(ReturnValue.COMPLETED)

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
        elif current.off_until is not None:
            self.state = PowerState.OFF_SOFT  # through off (Rule 3) until the transition lands
        elif current.action is not PowerAction.NMI:
            self.state = current.target  # the host shows the change at once (Rule 1)

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

    def seconds_until_idle(self) -> float:
        """How long the change in progress still runs (0 when none does)."""
        self.settle()
        current = self.transition
        return 0.0 if current is None else max(0.0, current.ends_at - self.clock())

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
        """RequestPowerStateChange: returns the method's ReturnValue.

        Raises :class:`ChangeInProgress` while another change runs (Rule 2).
        """
        if self.state_unknown:
            return int(ReturnValue.UNKNOWN_ERROR)
        try:
            action = PowerAction(code)
        except ValueError:
            return int(ReturnValue.INVALID_PARAMETER)
        waiting = self.seconds_until_idle()
        if waiting > 0:
            raise ChangeInProgress(waiting)
        if action not in self.available_actions():
            return int(ReturnValue.UNKNOWN_ERROR)  # Rule 4: DSP1027's answer to a state not offered
        if self.refusal is not None:
            refused = self.refusal(action)
            if refused is not None:
                return refused
        now = self.clock()
        off_until = now + self.off_phase_seconds if action in _THROUGH_OFF else None
        ends_at = (off_until or now) + self.transition_seconds
        self.transition = Transition(action, ACTION_RESULT[action], off_until, ends_at)
        self.history.append((now, action))
        for hook in self.on_request:
            hook(action)
        self.settle()
        return int(ReturnValue.COMPLETED)

    def force_state(self, state: PowerState) -> None:
        """Control API: put the machine in a state at once, ending any transition."""
        self.transition = None
        self.state = state
