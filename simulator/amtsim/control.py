"""The test side channel: read and change a running device's state, inject faults.

Every call takes the device's lock, so it is safe from any thread while the simulator serves.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from amtkit.codes import ControlMode, PowerAction, PowerState, ProvisioningState
from amtkit.defense.model import FilterDirection, IPAddress, Packet
from amtkit.events.audit import AuditRecord
from amtkit.events.records import EventRecord, EventSeverity, SensorType
from amtkit.wsman.values import Value

from .backends.boot import BootRecord, SequentialReadPlan, boot_backend_of
from .backends.consent import consent_of
from .backends.defense import DefenseEvent, FlowResult, TrafficVerdict, defense_of
from .backends.eventing import EventingBackend, eventing_of
from .backends.redirection import redirection_service_of
from .backends.serial import host_console_of
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
            self.device.faults.hang = False
            self.device.faults.busy = False
            self.device.faults.silent_after_requests = 0
            self.device.faults.fail_request_number = 0
            self.device.faults.fail_following = False
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

    # -- boot and redirection ----------------------------------------------------------------------
    def boot_results(self) -> list[BootRecord]:
        """Every power-up of the host so far, oldest first: what it booted, or why it could not."""
        with self.device.lock:
            return list(boot_backend_of(self.device).records)

    def last_boot(self) -> BootRecord | None:
        with self.device.lock:
            records = boot_backend_of(self.device).records
            return records[-1] if records else None

    def wait_for_boot(self, number: int = 1, timeout: float = 30.0) -> BootRecord:
        """Wait until the host's boot number ``number`` (1-based) is recorded, and return it.

        IDE-R boots are recorded when the transfer ends, after the power request has returned.
        Raises ``TimeoutError`` if it does not come within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        with self.device.lock:
            backend = boot_backend_of(self.device)
            while True:
                # Power transitions land when someone reads the state (the device's own clock, see
                # amtsim.backends.power): settle here, so a power-up that is due boots the host even
                # when no console is polling the power state meanwhile.
                self.device.power.settle()
                if len(backend.records) >= number:
                    return backend.records[number - 1]
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                pending = self.device.power.seconds_until_idle()
                backend.changed.wait(min(left, max(pending, 0.005)) if pending > 0 else left)
        raise TimeoutError(f"boot {number} of {self.device.name} was not recorded within {timeout:g} s")

    def boot_settings(self) -> dict[str, Value]:
        """``AMT_BootSettingData`` as the device holds it now."""
        with self.device.lock:
            return dict(boot_backend_of(self.device).settings)

    def pending_boot_source(self) -> str | None:
        """The boot source forced for the next boot: the side channel's view of what AMT never reports."""
        with self.device.lock:
            return boot_backend_of(self.device).source

    def set_boot_capabilities(self, **capabilities: bool) -> None:
        """``set_boot_capabilities(ForcePXEBoot=False, IDER=False)``: what ``AMT_BootCapabilities`` reports."""
        with self.device.lock:
            backend = boot_backend_of(self.device)
            for name, value in capabilities.items():
                if not isinstance(backend.capabilities.get(name), bool):
                    raise AttributeError(f"no boot capability named {name!r}")
                backend.capabilities[name] = value

    def arm_sequential_read(self, blocks: int | None = None, sectors_per_read: int = 512) -> None:
        """Bench mode: the next IDE-R boot reads the drive's first ``blocks`` blocks (all: ``None``) in
        READ(10)s of ``sectors_per_read`` and keeps nothing, instead of booting (:class:`amtsim.bios.SequentialRead`)."""
        with self.device.lock:
            boot_backend_of(self.device).sequential_read = SequentialReadPlan(blocks, sectors_per_read)

    def set_redirection(self, *, ider: bool | None = None, sol: bool | None = None,
                        listener: bool | None = None) -> None:
        """Switch IDE-R, SOL or the redirection listener on or off, as the MEBx or a console would."""
        with self.device.lock:
            service = redirection_service_of(self.device)
            if ider is not None:
                service.ider_enabled = ider
            if sol is not None:
                service.sol_enabled = sol
            if listener is not None:
                service.listener_enabled = listener

    def redirection_sessions(self) -> int:
        """Authenticated redirection sessions open now."""
        with self.device.lock:
            return len(redirection_service_of(self.device).sessions)

    def wait_for_sessions(self, count: int, timeout: float = 30.0) -> None:
        """Wait until exactly ``count`` redirection sessions are open (e.g. 0: a console's close has landed)."""
        with self.device.lock:
            service = redirection_service_of(self.device)
            assert service.changed is not None
            if not service.changed.wait_for(lambda: len(service.sessions) == count, timeout):
                raise TimeoutError(f"{len(service.sessions)} redirection sessions open after {timeout:g} s, "
                                   f"not {count}")

    def print_on_host(self, text: str) -> None:
        """The host writes ``text`` to its serial port (what a SOL console attached now receives)."""
        with self.device.lock:
            host_console_of(self.device).print(text)

    def wait_for_ider_drives(self, timeout: float = 30.0) -> None:
        """Wait until an IDE-R session has enabled its drives (a console is ready to serve a boot)."""
        with self.device.lock:
            service = redirection_service_of(self.device)
            assert service.changed is not None
            if not service.changed.wait_for(lambda: service.ider_drives_enabled, timeout):
                raise TimeoutError(f"no IDE-R session enabled its drives within {timeout:g} s")

    def redirection_stats(self) -> dict[str, int]:
        with self.device.lock:
            service = redirection_service_of(self.device)
            return {"open": len(service.sessions), "opened": service.sessions_opened,
                    "auth_failures": service.auth_failures, "refused": service.refused,
                    "idle_closed": service.idle_closed}

    # -- user consent ------------------------------------------------------------------------------
    def consent_code(self) -> str | None:
        """The user-consent code on the host's screen (after a console's ``StartOptIn``), or ``None``."""
        with self.device.lock:
            return consent_of(self.device).displayed_code

    def set_consent_required(self, required: int) -> None:
        """``IPS_OptInService.OptInRequired``: 0 none, 1 KVM only, 0xFFFFFFFF everything."""
        with self.device.lock:
            consent_of(self.device).required = required

    # -- event and audit logs (amtsim.backends.eventlog) ---------------------------------------------
    def event_log(self) -> list[EventRecord]:
        """The event log, newest first."""
        with self.device.lock:
            return list(self.device.event_log.records)

    def audit_log(self) -> list[AuditRecord]:
        """The audit log, oldest first."""
        with self.device.lock:
            return list(self.device.event_log.audit)

    def raise_events(self, count: int = 1) -> None:
        """``count`` test events (a watchdog's "system event" record each), logged and alerted as any other."""
        with self.device.lock:
            log = self.device.event_log
            for number in range(count):
                record = EventRecord(int(log.clock()), sensor_type=SensorType.SYSTEM_EVENT,
                                     severity=EventSeverity.INFORMATION, entity=0x26,
                                     data=number.to_bytes(4, "big").rjust(8, b"\0"))
                log.log("test", record, number=number)

    def wait_for_alerts(self, condition: Callable[[EventingBackend], bool], timeout: float = 30.0) -> None:
        """Wait until ``condition(subscriptions)`` holds (deliveries and drops counted per listener, subscribers
        removed); ``TimeoutError`` after ``timeout`` seconds."""
        with self.device.lock:
            backend = eventing_of(self.device)
            assert backend.changed is not None
            if not backend.changed.wait_for(lambda: condition(backend), timeout):
                raise TimeoutError(f"the alert condition did not hold within {timeout:g} s")
