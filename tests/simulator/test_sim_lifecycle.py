"""The simulator's life: devices added before or after start, listeners per device, hooks, stop;
and amtkit's pytest plugin fixtures built on it."""

from __future__ import annotations

import importlib.metadata
import socket
from pathlib import Path

import pytest

from amtkit.client import Client
from amtkit.codes import PowerAction
from amtkit.config import TLSConfig
from amtkit.wsman import names
from amtsim import DeviceConfig, Faults, Simulator
from amtsim.server import free_port


def refuses_connections(address: str, port: int) -> bool:
    try:
        socket.create_connection((address, port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def test_devices_added_before_start_listen_once_started_and_stop_releases_them(tmp_path: Path) -> None:
    simulator = Simulator(cert_dir=tmp_path)
    device = simulator.add_device(DeviceConfig(http_port=0, tls_port=None))
    with simulator:
        port = device.config.http_port
        assert port != 0
        with Client(device.address, port=port, password=device.config.password, retries=0) as client:
            assert client.identify().amt_version == device.config.major_minor
    assert refuses_connections(device.address, port)


def test_each_device_has_its_own_listener_and_state(amt_simulator) -> None:
    first = amt_simulator.add_device(DeviceConfig(http_port=0, tls_port=None, hostname="one"))
    second = amt_simulator.add_device(DeviceConfig(http_port=0, tls_port=None, hostname="two"))
    try:
        assert first.config.http_port != second.config.http_port
        hostnames = []
        for device in (first, second):
            with Client(device.address, port=device.config.http_port, password=device.config.password) as client:
                hostnames.append(client.get(names.Cls.AMT_GeneralSettings)["HostName"])
        assert hostnames == ["one", "two"]
    finally:
        amt_simulator.remove_device(first)
        amt_simulator.remove_device(second)


def test_a_removed_device_stops_listening(amt_simulator) -> None:
    device = amt_simulator.add_device(DeviceConfig(http_port=0, tls_port=None))
    port = device.config.http_port
    amt_simulator.remove_device(device)
    assert refuses_connections(device.address, port)


def test_amt_disabled_device_has_no_listener(amt_simulator) -> None:
    port = free_port()
    device = amt_simulator.add_device(DeviceConfig(http_port=port, tls_port=None, faults=Faults(amt_disabled=True)))
    try:
        assert refuses_connections(device.address, port)
    finally:
        amt_simulator.remove_device(device)


def test_device_start_hooks_run_for_each_new_device(tmp_path: Path) -> None:
    started: list[str] = []
    with Simulator(cert_dir=tmp_path) as simulator:
        simulator.on_device_start(lambda device: started.append(device.name))
        simulator.add_device(DeviceConfig(name="hooked", http_port=0, tls_port=None))
    assert started == ["hooked"]


def test_the_certificate_is_generated_once_and_kept(tmp_path: Path) -> None:
    first = Simulator(cert_dir=tmp_path).certificate.sha256
    assert Simulator(cert_dir=tmp_path).certificate.sha256 == first
    assert len(first) == 64


# --- the pytest plugin ----------------------------------------------------------------------------


def test_the_plugin_is_registered_through_its_entry_point(request: pytest.FixtureRequest) -> None:
    entry_points = importlib.metadata.entry_points(group="pytest11")
    assert any(ep.name == "amtkit" and ep.value == "amtkit.pytest_plugin" for ep in entry_points)
    plugin = request.config.pluginmanager.get_plugin("amtkit")
    assert plugin is not None and plugin.__name__ == "amtkit.pytest_plugin"


def test_amt_device_fixture_is_a_fresh_reachable_device(amt_device, amt_simulator) -> None:
    assert amt_device.device in amt_simulator.devices
    assert amt_device.control.power_history() == []
    with Client(amt_device.host, **amt_device.client_kwargs()) as client:  # type: ignore[arg-type]
        assert client.get(names.Cls.AMT_GeneralSettings)["DigestRealm"] == amt_device.device.config.realm
        client.power.request(PowerAction.OFF)
    assert amt_device.control.power_history() == [PowerAction.OFF]


def test_amt_device_fixture_offers_tls_pinned_by_its_fingerprint(amt_device) -> None:
    assert amt_device.tls_port is not None and amt_device.tls_sha256
    with Client(amt_device.host, port=amt_device.tls_port, username=amt_device.username,
                password=amt_device.password, tls=TLSConfig(pin_sha256=amt_device.tls_sha256)) as client:
        assert client.identify().amt_version


def test_amt_device_fixture_powers_instantly(amt_device) -> None:
    with Client(amt_device.host, **amt_device.client_kwargs()) as client:  # type: ignore[arg-type]
        client.power.off()
        assert client.power.state().is_off


def test_the_simulator_serves_a_certificate_the_user_supplies(tmp_path) -> None:
    import amtkit
    from amtsim import DeviceConfig, Simulator
    from amtsim.tlscert import ensure_certificate

    supplied = ensure_certificate(tmp_path / "mine", common_name="my-lab-ca")
    with Simulator(cert_dir=tmp_path / "generated", certificate=supplied) as sim:
        device = sim.add_device(DeviceConfig(http_port=0, tls_port=0))
        tls = amtkit.TLSConfig(pin_sha256=supplied.sha256)
        with amtkit.Client(device.address, port=device.config.tls_port, tls=tls, password="P@ssw0rd") as client:
            assert client.power.state() is amtkit.PowerState.ON
    assert not (tmp_path / "generated").exists()
