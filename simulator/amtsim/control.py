"""The test side channel: read and change a running device's state, inject faults.

Every call takes the device's lock, so it is safe from any thread while the simulator serves.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from amtkit.codes import ControlMode, PowerAction, PowerState, ProvisioningState
from amtkit.defense.model import FilterDirection, IPAddress, Packet

from .backends.defense import DefenseEvent, FlowResult, TrafficVerdict, defense_of
from .device import SimulatedDevice


class DeviceControl:
    def __init__(self, device: SimulatedDevice) -> None:
        self.device = device

    @property
    def power_state(self) -> PowerState:
        with self.device.lock:
            return self.device.power.reported_state

    def set_power_state(self, state: PowerState) -> None:
        with self.device.lock:
            self.device.power.force_state(state)

    def power_history(self) -> list[PowerAction]:
        with self.device.lock:
            return [action for _, action in self.device.power.history]

    def set_provisioning(self, state: ProvisioningState, mode: ControlMode | None = None) -> None:
        with self.device.lock:
            self.device.general.provisioning_state = state
            if mode is not None:
                self.device.general.control_mode = mode

    def set_password(self, password: str, user: str | None = None) -> None:
        with self.device.lock:
            self.device.accounts.set_password(user or self.device.config.username, password)

    def inject(self, **faults: Any) -> None:
        """``inject(power_state_unknown=True, response_delay=2.0, drop_connections=1, ...)``."""
        with self.device.lock:
            for name, value in faults.items():
                if not hasattr(self.device.faults, name):
                    raise AttributeError(f"no fault named {name!r}")
                setattr(self.device.faults, name, value)
            self.device.sync_faults()

    def clear_faults(self) -> None:
        with self.device.lock:
            self.device.faults.power_state_unknown = False
            self.device.faults.response_delay = 0.0
            self.device.faults.drop_connections = 0
            self.device.faults.internal_error_classes = []
            self.device.sync_faults()

    def stats(self) -> dict[str, int]:
        with self.device.lock:
            return asdict(self.device.stats)

    # -- System Defense: the simulated host's traffic (amtsim.backends.defense) ---------------------------
    def offer_packet(self, packet: Packet, *, port: int = 0) -> TrafficVerdict:
        """Offer one packet of the host's traffic to System Defense on ``port``; its verdict."""
        with self.device.lock:
            return defense_of(self.device).offer(packet, port)

    def offer_flow(self, direction: FilterDirection, protocol: int, *, src: IPAddress | None = None,
                   dst: IPAddress | None = None, src_port: int | None = None, dst_port: int | None = None,
                   packets: int = 1, port: int = 0) -> FlowResult:
        """Offer ``packets`` packets of one flow (direction from the host's side, IP protocol, addresses,
        ports); how many passed."""
        packet = Packet.ip(direction, protocol, src=src, dst=dst, src_port=src_port, dst_port=dst_port)
        with self.device.lock:
            return defense_of(self.device).offer_flow(packet, packets, port)

    def defense_events(self) -> list[DefenseEvent]:
        with self.device.lock:
            return list(defense_of(self.device).events)

    def counters(self, port: int = 0) -> dict[str, object]:
        """System Defense counters of ``port``'s active policy (per filter handle, defaults, totals)."""
        with self.device.lock:
            return defense_of(self.device).counters(port)

    def advance_defense_clock(self, seconds: float) -> None:
        """Let ``seconds`` pass for System Defense timeouts without waiting."""
        with self.device.lock:
            defense_of(self.device).advance(seconds)
