"""The test side channel: read and change a running device's state, inject faults.

Every call takes the device's lock, so it is safe from any thread while the simulator serves.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from amtkit.codes import ControlMode, PowerAction, PowerState, ProvisioningState

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
