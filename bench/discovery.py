"""Issue 5's figures: discovering a /22 with 500 simulated AMT devices, and the round trips of one inventory.

``discovery.scan``
    A simulator in a child process (its own GIL, pinned to one CPU when there are two) serves 500
    devices on 127.100.0.0/22 (every other address of the first 1000; the other 522 addresses are
    empty), each with an HTTP and a TLS listener and RMCP presence answers on one shared port, of mixed
    AMT versions and provisioning states. This process runs :func:`amtkit.discovery.discover` over the
    whole /22 with the default settings (RMCP ping, banner on both ports, WS-Man Identify), times it,
    and checks the result: every device found with its version and provisioning state, nothing else
    taken for AMT. Then it reads one device's inventory and counts the HTTP requests: on first contact
    (the digest challenge included) and on a client already logged in.

Run it alone with ``python -m bench.discovery [--quick]``, or with the rest through ``python -m bench``.
Goal (issue 5): the /22 in under 5 s, all 500 found, no false positives; the inventory in the
minimum number of round trips, one per class read.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import socket
import sys
import time
from dataclasses import dataclass
from typing import IO

from .framework import Placement, Row, Settings, Target, cpu_seconds, goal, minimum, pinned
from .record import rows_table
from .simproc import ChildProcess

NETWORK = "127.100.0.0/22"
DEVICES = 500
USERNAME = "admin"
PASSWORD = "P@ssw0rd"
SCAN_TARGET = Target.at_most(5.0, goal(5, "a /22 with 500 devices discovered in under 5 s"))
FOUND_TARGET = Target.at_least(DEVICES, goal(5, "all 500 found with version and provisioning state"), every_run=True)
FALSE_POSITIVES_TARGET = Target.at_most(0, goal(5, "no host taken for AMT that is not"), every_run=True)
INVENTORY_ARGUED = "inventory-round-trips"
START_TIMEOUT_SECONDS = 120.0

_VERSIONS = ("16.1.25", "15.0.23", "12.0.67", "11.8.55")
_STATES = ("post",) * 8 + ("pre", "in")  # most of a fleet is provisioned


@dataclass(frozen=True)
class PlannedDevice:
    address: str
    version: str
    state: str
    """``pre``, ``in`` or ``post``."""


def fleet_plan(count: int = DEVICES, network: str = NETWORK) -> list[PlannedDevice]:
    """The devices of the bench fleet: every other host address, versions and states in rotation."""
    hosts = list(ipaddress.ip_network(network).hosts())
    if 2 * count > len(hosts):
        raise ValueError(f"{network} cannot hold {count} devices at every other address")
    return [PlannedDevice(str(hosts[2 * i]), _VERSIONS[i % len(_VERSIONS)], _STATES[i % len(_STATES)])
            for i in range(count)]


def _free_port(kind: socket.SocketKind) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("0.0.0.0", 0))
        return int(sock.getsockname()[1])


# -- the child: a simulator serving the fleet ----------------------------------------------------


def _serve(count: int, ports: dict[str, int], cpu: int | None, out: IO[str]) -> None:
    from amtkit.codes import ControlMode, ProvisioningState
    from amtsim.config import DeviceConfig, Timing
    from amtsim.server import Simulator

    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    states = {"pre": ProvisioningState.PRE, "in": ProvisioningState.IN, "post": ProvisioningState.POST}
    with Simulator() as simulator:
        for planned in fleet_plan(count):
            state = states[planned.state]
            simulator.add_device(DeviceConfig(
                name=planned.address, address=planned.address, amt_version=planned.version,
                provisioning_state=state, control_mode=ControlMode.ADMIN if state is ProvisioningState.POST
                else ControlMode.NONE, http_port=ports["http"], tls_port=ports["https"], rmcp_port=ports["rmcp"],
                username=USERNAME, password=PASSWORD, timing=Timing(power_transition=0, power_off_phase=0)))
        out.write(json.dumps({"ready": True, "devices": len(simulator.devices)}) + "\n")
        out.flush()
        for line in sys.stdin:
            if line.strip() == "quit":
                break


class FleetProcess(ChildProcess):
    """The parent's handle on the child simulator serving the fleet."""

    def __init__(self, count: int, cpu: int | None) -> None:
        self.ports = {"rmcp": _free_port(socket.SOCK_DGRAM), "http": _free_port(socket.SOCK_STREAM),
                      "https": _free_port(socket.SOCK_STREAM)}
        command = [sys.executable, "-m", "bench.discovery", "--serve", str(count), "--ports", json.dumps(self.ports)]
        if cpu is not None:
            command += ["--cpu", str(cpu)]
        super().__init__(command, start_timeout=START_TIMEOUT_SECONDS, stop_timeout=30.0)
        self.devices = int(str(self.ready["devices"]))


# -- the parent: discover, check, count --------------------------------------------------------------


@dataclass(frozen=True)
class ScanResult:
    seconds: float
    cpu_seconds: float
    correct: int
    wrong: list[str]
    false_positives: list[str]
    hosts: int


def _scan_once(ports: dict[str, int], plan: list[PlannedDevice], identify: bool) -> ScanResult:
    from amtkit.discovery import ProbeSettings, discover
    from amtkit.discovery.identify import WsmanIdentify

    settings = ProbeSettings(rmcp_port=ports["rmcp"], http_port=ports["http"], https_port=ports["https"])
    expected = {d.address: (d.version, d.state.upper()) for d in plan}
    cpu_before, started = cpu_seconds(), time.perf_counter()
    records = discover(NETWORK, settings=settings, identify=WsmanIdentify() if identify else None)
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu_before
    wrong, false_positives, correct = [], [], 0
    for record in records:
        want = expected.get(record.host)
        if want is None:
            if record.is_amt:
                false_positives.append(record.host)
            continue
        state = record.provisioning_state.name if record.provisioning_state is not None else None
        if record.is_amt and (record.version, state) == want and (not identify or record.identify is not None):
            correct += 1
        else:
            wrong.append(f"{record.host}: {record.classification.value} {record.version} {state}")
    return ScanResult(seconds, cpu, correct, wrong, false_positives, len(records))


def _inventory_round_trips(ports: dict[str, int], address: str) -> tuple[int, int, int]:
    """HTTP requests of one full inventory: first contact, then warm; and the classes read."""
    from amtkit.client import Client
    from amtkit.inventory import INVENTORY_CLASSES

    with Client(address, port=ports["http"], username=USERNAME, password=PASSWORD, timeout=10.0) as client:
        cold = client.inventory.collect().round_trips
        warm = client.inventory.collect().round_trips
    return cold, warm, len(INVENTORY_CLASSES)


def scan(settings: Settings) -> list[Row]:
    """One discovery of the /22 (with and without Identify) and one inventory's round trips.

    The harness repeats it (``--repeat``); the correctness figures must hold in every repetition.
    """
    from amtkit.inventory import INVENTORY_CLASSES

    placement = Placement.choose()
    plan = fleet_plan()
    with FleetProcess(len(plan), placement.server_cpu) as fleet, pinned(placement.client_cpu):
        result = _scan_once(fleet.ports, plan, identify=True)
        bare = _scan_once(fleet.ports, plan, identify=False)
        first_post = next(d.address for d in plan if d.state == "post")
        cold, warm, classes = _inventory_round_trips(fleet.ports, first_post)
    name = "discovery.scan"
    # The fewest round trips of an inventory: one optimized Enumerate per class it reads (argued in the docs);
    # the classes are the inventory's specification, not something the measurement produces.
    inventory_target = Target.at_most(len(INVENTORY_CLASSES), minimum(
        INVENTORY_ARGUED, f"one optimized Enumerate per class read, {len(INVENTORY_CLASSES)} classes"))
    return [
        Row(name, "/22 discovery, 500 devices (RMCP + banner + Identify)", result.seconds, "s", SCAN_TARGET,
            note=f"{result.hosts} addresses, {len(plan)} devices; {placement.describe()}", cpu=result.cpu_seconds),
        Row(name, "devices found with right version and state", result.correct, "devices", FOUND_TARGET,
            note="; ".join(result.wrong[:3])),
        Row(name, "false positives", len(result.false_positives), "hosts", FALSE_POSITIVES_TARGET,
            note=", ".join(result.false_positives[:3])),
        Row(name, "/22 discovery without Identify", bare.seconds, "s", cpu=bare.cpu_seconds,
            note=f"{bare.correct} correct, {len(bare.false_positives)} false positives"),
        Row(name, "inventory round trips, logged-in client", warm, "req", inventory_target,
            note=f"{classes} classes read"),
        Row(name, "inventory round trips, first contact", cold, "req", better="lower",
            note="includes the digest challenge (401) of the first request"),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.discovery", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="accepted for symmetry (one discovery either way)")
    parser.add_argument("--serve", type=int, metavar="N", help=argparse.SUPPRESS)
    parser.add_argument("--ports", help=argparse.SUPPRESS)
    parser.add_argument("--cpu", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve is not None:
        _serve(args.serve, json.loads(args.ports), args.cpu, sys.stdout)
        return 0
    print(rows_table(scan(Settings.for_run(args.quick))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
