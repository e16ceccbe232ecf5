"""Simulated fleets for the fleet tests: generated with a mix of conditions, one device per loopback address,
all on one port, served by the session's simulator (the CLI tests reach them from a subprocess)."""

from __future__ import annotations

import random
import shutil
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path

PASSWORD = "P@ssw0rd"

#: What amtkit must say about each condition when reading the power state: the truth of the scenario,
#: written here as the categories the issue names, not computed from amtkit.
POWER_STATUS_TRUTH: dict[str, str | None] = {
    "healthy": None,
    "hung": "timeout",
    "no-listener": "unreachable",
    "wrong-password": "auth-failed",
    "power-unknown": "power-state-unknown",
    "busy": "busy",
    "goes-silent": "timeout",
    "not-provisioned": "not-provisioned",  # its RMCP pong says pre-provisioning (state byte 0)
    "unprovisioned-closed": "not-provisioned",  # its web ports refuse; the pong says pre-provisioning
}


@dataclass
class SimFleet:
    hosts: list[str]
    port: int
    conditions: dict[str, str]
    devices: dict[str, object] = field(repr=False)
    password: str = PASSWORD

    def options(self, **overrides: object):  # type: ignore[no-untyped-def]
        from amtkit.fleet import FleetOptions

        settings: dict[str, object] = {"port": self.port, "rmcp_port": self.port, "deadline": 1.5, "timeout": 1.0,
                                       "backoff": 0.05, "concurrency": 64, **overrides}
        return FleetOptions(**settings)  # type: ignore[arg-type]

    def login(self):  # type: ignore[no-untyped-def]
        from amtkit.fleet import Login

        return Login(password=self.password)

    def with_condition(self, condition: str) -> list[str]:
        return [host for host in self.hosts if self.conditions[host] == condition]

    def stats(self, host: str) -> dict[str, int]:
        from amtsim.control import DeviceControl

        return DeviceControl(self.devices[host]).stats()  # type: ignore[arg-type]


def free_block() -> tuple[str, int]:
    """A /16 of loopback nobody else in this run uses, and a port free on its first address, over TCP (WS-Man)
    and over UDP (the devices answer RMCP presence pings on the same number)."""
    while True:
        second = random.randrange(100, 250)
        first = f"127.{second}.{random.randrange(1, 250)}.1"
        with socket.socket() as probe, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            try:
                probe.bind((first, 0))
                port = int(probe.getsockname()[1])
                udp.bind(("0.0.0.0", port))
            except OSError:
                continue
            return first, port


def build_fleet(simulator, count: int, mix: str = "", delay: tuple[float, float] = (0.0, 0.0),  # type: ignore[no-untyped-def]
                seed: int = 1, **defaults: object) -> SimFleet:
    """Generate a fleet (:mod:`amtsim.fleetgen`) and start it in ``simulator``, all devices on one port (TCP
    for WS-Man, UDP for RMCP); ``defaults``: more scenario defaults for every device (``amt_version``)."""
    from amtsim.fleetgen import FleetSpec, generate, parse_mix
    from amtsim.scenario import parse_scenario

    first, port = free_block()
    scenario = generate(FleetSpec(count=count, mix=parse_mix(mix), delay=delay, first_address=first, seed=seed,
                                  password=PASSWORD, rmcp_port=port))
    scenario["defaults"].update(http_port=port, **defaults)
    configs = parse_scenario(scenario, "test fleet")
    devices = {config.address: simulator.add_device(config) for config in configs}
    return SimFleet([c.address for c in configs], port, {c.address: c.condition for c in configs}, devices)


def amtkit_path() -> str:
    found = shutil.which("amtkit", path=str(Path(sys.executable).parent))
    assert found is not None, "the amtkit console script is not installed"
    return found


def fleet_args(net, *extra: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [f"{net.hosts[0]}-{net.hosts[-1].rsplit('.', 1)[1]}", "--port", str(net.port), "--rmcp-port",
            str(net.port), "--deadline", "1", "--timeout", "1", *extra]
