"""The redirection service of a device: its switches and the sessions open on its listener.

The switches (``EnabledState`` for IDE-R and SOL, ``ListenerEnabled``) are the inventory's
:class:`~amtsim.backends.inventory.RedirectionBackend`; :class:`RedirectionService` extends that
state rather than copying it, and adds what sessions need:

* Rule 1: a session is *open* once it has authenticated; from then on AMT refuses power off and
  power cycle (``RequestPowerStateChange`` answers Invalid State Transition) until it closes.
  Reset and power on stay allowed: they are how an IDE-R boot starts.
* Rule 2: one IDE-R session and one SOL session at a time; a second start of either is refused.
* Rule 3: an IDE-R boot needs the open IDE-R session with its drives enabled
  (``DisableEnableFeatures``); :meth:`RedirectionService.launch_ider_boot` hands the boot to it or
  says why it cannot.

The firmware half of the protocol lives in :mod:`amtsim.redirection`; its session objects register
here through the small :class:`FirmwareSession` protocol.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from amtkit.codes import PowerAction, ReturnValue

from .boot import BootPlan, boot_backend_of
from .inventory import REDIRECTION_KEY, RedirectionBackend

if TYPE_CHECKING:
    from ..device import SimulatedDevice

__all__ = ["FirmwareSession", "RedirectionService", "redirection_service_of"]

REFUSED_DURING_SESSION = frozenset({
    PowerAction.OFF, PowerAction.OFF_HARD, PowerAction.OFF_GRACEFUL, PowerAction.OFF_HARD_GRACEFUL,
    PowerAction.CYCLE, PowerAction.CYCLE_HARD, PowerAction.CYCLE_GRACEFUL, PowerAction.CYCLE_HARD_GRACEFUL,
})
"""Power actions AMT rejects while a redirection session is open (Intel AMT SDK, "Change System Power State")."""


class FirmwareSession(Protocol):
    """What the backend needs from a session of the listener."""

    @property
    def drives_enabled(self) -> bool: ...

    def request_boot(self, plan: BootPlan) -> None:
        """Boot from the session's drive (thread-safe; the session runs it on its event loop)."""

    def close(self) -> None:
        """End the session (thread-safe)."""


@dataclass
class RedirectionService(RedirectionBackend):
    """The redirection switches plus the sessions open on the device's listener."""

    sessions: list[FirmwareSession] = field(default_factory=list)
    """Authenticated sessions (Rule 1)."""
    ider_session: FirmwareSession | None = None
    """The session with IDE-R open (Rule 2)."""
    sol_session: FirmwareSession | None = None
    """The session with SOL started (Rule 2: one at a time, like IDE-R)."""
    sessions_opened: int = 0
    auth_failures: int = 0
    refused: int = 0
    """Sessions refused: listener off, feature off, bad credentials, a second IDE-R."""
    idle_closed: int = 0
    changed: threading.Condition | None = None
    """Notified (under the device lock) when a session opens or closes."""

    def open_session(self, session: FirmwareSession) -> None:
        self.sessions.append(session)
        self.sessions_opened += 1
        self._notify()

    def close_session(self, session: FirmwareSession) -> None:
        if session in self.sessions:
            self.sessions.remove(session)
        if self.ider_session is session:
            self.ider_session = None
        self.release_sol(session)
        self._notify()

    def drives_changed(self) -> None:
        """The IDE-R session switched its drives on or off (call with the device lock held)."""
        self._notify()

    @property
    def ider_drives_enabled(self) -> bool:
        return self.ider_session is not None and self.ider_session.drives_enabled

    def _notify(self) -> None:
        if self.changed is not None:
            self.changed.notify_all()

    def claim_ider(self, session: FirmwareSession) -> bool:
        """Rule 2: make ``session`` the IDE-R session, unless another one is."""
        if self.ider_session is not None and self.ider_session is not session:
            return False
        self.ider_session = session
        return True

    def claim_sol(self, session: FirmwareSession) -> bool:
        """Rule 2 for SOL: make ``session`` the SOL session, unless another one is."""
        if self.sol_session is not None and self.sol_session is not session:
            return False
        self.sol_session = session
        return True

    def release_sol(self, session: FirmwareSession) -> None:
        if self.sol_session is session:
            self.sol_session = None

    def refusal(self, action: PowerAction) -> int | None:
        """The power backend's refusal hook (Rule 1)."""
        if self.sessions and action in REFUSED_DURING_SESSION:
            return int(ReturnValue.INVALID_STATE_TRANSITION)
        return None

    def launch_ider_boot(self, plan: BootPlan) -> str | None:
        """Rule 3: start an IDE-R boot on the open session; why it cannot, or ``None``."""
        session = self.ider_session
        if session is None:
            return "no IDE-R session is open"
        if not session.drives_enabled:
            return "the IDE-R session never enabled its drives (DisableEnableFeatures)"
        session.request_boot(plan)
        return None

    def close_all(self) -> None:
        for session in list(self.sessions):
            session.close()


def redirection_service_of(device: SimulatedDevice) -> RedirectionService:
    """The device's redirection service, hooked to its power and boot backends.

    The inventory may have created the plain switches first (on a Get of
    ``AMT_RedirectionService``): their state is carried over into the service.
    """
    backend = device.extensions.get(REDIRECTION_KEY)
    if isinstance(backend, RedirectionService):
        return backend
    plain = backend if isinstance(backend, RedirectionBackend) else RedirectionBackend.from_config(device.config)
    service = RedirectionService(**{f.name: getattr(plain, f.name) for f in dataclasses.fields(RedirectionBackend)})
    service.changed = threading.Condition(device.lock)
    device.extensions[REDIRECTION_KEY] = service
    _chain_refusal(device, service)
    boot_backend_of(device).ider_launcher = service.launch_ider_boot
    return service


def _chain_refusal(device: SimulatedDevice, service: RedirectionService) -> None:
    earlier = device.power.refusal

    def refusal(action: PowerAction) -> int | None:
        if earlier is not None:
            refused = earlier(action)
            if refused is not None:
                return refused
        return redirection_service_of(device).refusal(action)

    device.power.refusal = refusal
