"""Discovery end to end: a small simulated fleet on 127.51.0.x, probed over loopback with RMCP, banners and Identify.

The fleet shares one HTTP, one TLS and one RMCP port, as a real network shares 16992/16993/623:

=========  ==================================================================
.1         provisioned AMT 16.1.25 in admin control mode, HTTP and TLS
.2         unprovisioned AMT 15.0.23 (answers Identify, no account)
.3         AMT disabled in the MEBx: no listeners, no pong
.4         a web server that is not AMT
.5         nothing at all (the loopback stack refuses the ports)
.6         provisioned AMT whose RMCP ping answers are switched off
.7         AMT 11.8 in client control mode, plain HTTP only
=========  ==================================================================
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from amtkit.codes import ControlMode
from amtkit.codes import ProvisioningState as SetupState
from amtkit.discovery import Classification, HostRecord, ProbeSettings, ProvisioningState, discover
from amtkit.discovery.identify import wsman_identify
from amtkit.store import Store
from amtsim import DeviceConfig, SimulatedDevice, Simulator
from amtsim.config import Faults
from amtsim.control import DeviceControl

NET = "127.51.0"


def free_port(kind: socket.SocketKind) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("0.0.0.0", 0))
        return int(sock.getsockname()[1])


class _NotAmt(BaseHTTPRequestHandler):
    server_version = "nginx/1.24.0"
    sys_version = ""

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        body = b"<html><body>welcome</body></html>"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET  # noqa: N815

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


class Fleet:
    def __init__(self, simulator: Simulator) -> None:
        self.simulator = simulator
        self.settings = ProbeSettings(
            rmcp_port=free_port(socket.SOCK_DGRAM), http_port=free_port(socket.SOCK_STREAM),
            https_port=free_port(socket.SOCK_STREAM), rmcp_timeout=0.3, connect_timeout=1.0)
        self.devices: dict[str, SimulatedDevice] = {}
        self._web: ThreadingHTTPServer | None = None

    def add(self, last_octet: int, *, tls: bool = True, **config: object) -> SimulatedDevice:
        address = f"{NET}.{last_octet}"
        device = self.simulator.add_device(DeviceConfig(
            name=f"fleet-{last_octet}", address=address, http_port=self.settings.http_port,
            tls_port=self.settings.https_port if tls else None, rmcp_port=self.settings.rmcp_port,
            **config))  # type: ignore[arg-type]
        self.devices[address] = device
        return device

    def add_web_server(self, last_octet: int) -> None:
        self._web = ThreadingHTTPServer((f"{NET}.{last_octet}", self.settings.http_port), _NotAmt)
        threading.Thread(target=self._web.serve_forever, daemon=True).start()

    def discover(self, targets: str = f"{NET}.1-7") -> dict[str, HostRecord]:
        return {r.host: r for r in discover(targets, settings=self.settings, identify=wsman_identify)}

    def close(self) -> None:
        for device in self.devices.values():
            self.simulator.remove_device(device)
        if self._web is not None:
            self._web.shutdown()
            self._web.server_close()


@pytest.fixture(scope="module")
def fleet(amt_simulator: Simulator) -> Iterator[Fleet]:
    lab = Fleet(amt_simulator)
    lab.add(1, amt_version="16.1.25")
    lab.add(2, amt_version="15.0.23", provisioning_state=SetupState.PRE, control_mode=ControlMode.NONE)
    lab.add(3, faults=Faults(amt_disabled=True))
    lab.add_web_server(4)
    quiet = lab.add(6, amt_version="16.1.25")
    quiet.general.rmcp_ping_response_enabled = False
    lab.add(7, tls=False, amt_version="11.8.55", control_mode=ControlMode.CLIENT)
    try:
        yield lab
    finally:
        lab.close()


@pytest.fixture(scope="module")
def records(fleet: Fleet) -> dict[str, HostRecord]:
    return fleet.discover()


def test_provisioned_device_is_amt_with_its_version_state_and_both_ports(fleet: Fleet,
                                                                         records: dict[str, HostRecord]) -> None:
    record = records[f"{NET}.1"]
    assert record.classification is Classification.AMT_PRESENT
    assert record.version == "16.1.25" and record.provisioning_state is ProvisioningState.POST
    assert record.ports_open == tuple(sorted((fleet.settings.http_port, fleet.settings.https_port)))
    assert record.rmcp_answered and not record.tls_only


def test_pong_of_a_provisioned_device_names_both_amt_ports(records: dict[str, HostRecord]) -> None:
    pong = records[f"{NET}.1"].pong
    assert pong is not None and pong.is_intel and pong.version == (16, 1) and pong.open_ports == (16992, 16993)


def test_identify_answers_with_amt_and_the_major_minor_version(records: dict[str, HostRecord]) -> None:
    info = records[f"{NET}.1"].identify
    assert info is not None and info.is_amt and info.product_version == "AMT 16.1"


def test_unprovisioned_device_is_amt_in_pre_provisioning_without_control_mode(records: dict[str, HostRecord]) -> None:
    record = records[f"{NET}.2"]
    assert record.classification is Classification.AMT_PRESENT and record.version == "15.0.23"
    assert record.provisioning_state is ProvisioningState.PRE and record.control_mode.value == "none"


def test_unprovisioned_device_still_answers_identify(records: dict[str, HostRecord]) -> None:
    info = records[f"{NET}.2"].identify
    assert info is not None and info.product_version == "AMT 15.0"


def test_unprovisioned_pong_says_present_but_not_set_up(records: dict[str, HostRecord]) -> None:
    pong = records[f"{NET}.2"].pong
    assert pong is not None and not pong.configured


def test_device_with_amt_disabled_has_no_listener_and_no_pong(records: dict[str, HostRecord]) -> None:
    record = records[f"{NET}.3"]
    assert record.classification is Classification.PORTS_CLOSED and not record.rmcp_answered


def test_web_server_that_is_not_amt_is_classified_not_amt(records: dict[str, HostRecord]) -> None:
    record = records[f"{NET}.4"]
    assert record.classification is Classification.NOT_AMT
    assert record.server is not None and record.server.startswith("nginx") and record.identify is None


def test_empty_address_is_ports_closed(records: dict[str, HostRecord]) -> None:
    assert records[f"{NET}.5"].classification is Classification.PORTS_CLOSED


def test_device_with_ping_answers_off_is_found_by_its_banner(records: dict[str, HostRecord]) -> None:
    record = records[f"{NET}.6"]
    assert record.classification is Classification.AMT_PRESENT and not record.rmcp_answered
    assert record.version == "16.1.25" and record.provisioning_state is None


def test_http_only_device_pong_names_only_the_plain_port(fleet: Fleet, records: dict[str, HostRecord]) -> None:
    record = records[f"{NET}.7"]
    assert record.classification is Classification.AMT_PRESENT and record.version == "11.8.55"
    assert record.ports_open == (fleet.settings.http_port,)
    assert record.pong is not None and record.pong.open_ports == (16992,)


def test_ping_only_discovery_maps_pong_ports_to_the_configured_ones(fleet: Fleet) -> None:
    from dataclasses import replace

    settings = replace(fleet.settings, http=False)
    (record,) = discover(f"{NET}.1", settings=settings)
    assert record.ports_open == tuple(sorted((settings.http_port, settings.https_port)))


def test_pong_follows_a_provisioning_change_made_at_run_time(fleet: Fleet) -> None:
    control = DeviceControl(fleet.devices[f"{NET}.7"])
    control.set_provisioning(SetupState.PRE)
    try:
        record = fleet.discover(f"{NET}.7")[f"{NET}.7"]
    finally:
        control.set_provisioning(SetupState.POST)
    assert record.provisioning_state is ProvisioningState.PRE


def test_device_switching_ping_answers_off_goes_silent(fleet: Fleet) -> None:
    device = fleet.devices[f"{NET}.1"]
    with device.lock:
        device.general.rmcp_ping_response_enabled = False
    try:
        record = fleet.discover(f"{NET}.1")[f"{NET}.1"]
    finally:
        with device.lock:
            device.general.rmcp_ping_response_enabled = True
    assert not record.rmcp_answered and record.is_amt


def test_removed_device_stops_answering_pings(amt_simulator: Simulator, fleet: Fleet) -> None:
    device = fleet.add(20)
    amt_simulator.remove_device(device)
    del fleet.devices[device.address]
    record = fleet.discover(f"{NET}.20")[f"{NET}.20"]
    assert not record.rmcp_answered and record.classification is Classification.PORTS_CLOSED


def test_device_with_rmcp_port_zero_answers_on_a_port_of_its_own(amt_simulator: Simulator) -> None:
    device = amt_simulator.add_device(DeviceConfig(address=f"{NET}.30", http_port=0, tls_port=None, rmcp_port=0))
    try:
        port = device.config.rmcp_port
        assert port  # read back after start
        (record,) = discover(f"{NET}.30", settings=ProbeSettings(rmcp_port=port, rmcp_timeout=0.3, http=False))
    finally:
        amt_simulator.remove_device(device)
    assert record.rmcp_answered and record.provisioning_state is ProvisioningState.POST


def test_discovery_records_round_trip_through_the_store(records: dict[str, HostRecord], tmp_path: Path) -> None:
    with Store.open(tmp_path / "amtkit.db") as store:
        store.save_discovery(records.values())
        assert store.hosts(Classification.AMT_PRESENT) == [f"{NET}.1", f"{NET}.2", f"{NET}.6", f"{NET}.7"]
        stored = store.get(f"{NET}.2")
    assert stored is not None and stored.provisioning_state is ProvisioningState.PRE and stored.version == "15.0.23"
