"""The simulator as a new user meets it (issue #13): bind errors that name the socket, ports that mean
"none", a banner true to the devices, a boot that lands while nobody polls, fixtures that explain
themselves, and a small extra for test suites of one's own."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

from amtkit.codes import PowerState
from amtsim import DeviceConfig, Faults, Simulator, Timing
from amtsim.control import DeviceControl
from amtsim.listening import ListenError

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def amtkit_sim(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "amtsim.cli", *args], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=timeout)


@pytest.fixture
def taken_tcp_port():  # type: ignore[no-untyped-def]
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def test_a_taken_wsman_port_is_named_with_protocol_address_and_purpose_without_traceback(taken_tcp_port) -> None:
    result = amtkit_sim("run", "--http-port", str(taken_tcp_port), "--tls-port", "-1", "--rmcp-port", "-1")
    assert result.returncode == 3
    lines = result.stderr.splitlines()
    assert lines[0] == (f"amtkit-sim: cannot listen on TCP 127.0.0.1:{taken_tcp_port} (WS-Man HTTP): "
                        "the port is in use (another simulator or service holds it)")
    assert lines[1].startswith("  hint: choose --http-port 0")
    assert "Traceback" not in result.stderr


def test_a_taken_tls_port_is_named_as_the_tls_port(taken_tcp_port) -> None:
    result = amtkit_sim("run", "--http-port", "0", "--tls-port", str(taken_tcp_port), "--rmcp-port", "-1")
    assert result.returncode == 3
    assert f"cannot listen on TCP 127.0.0.1:{taken_tcp_port} (WS-Man TLS)" in result.stderr
    assert "--tls-port -1 (none)" in result.stderr


def test_a_taken_rmcp_port_is_named_as_udp() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as holder:
        holder.bind(("0.0.0.0", 0))
        port = holder.getsockname()[1]
        result = amtkit_sim("run", "--http-port", "0", "--tls-port", "-1", "--rmcp-port", str(port))
    assert result.returncode == 3
    assert f"cannot listen on UDP 0.0.0.0:{port} (RMCP presence pings" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_taken_redirection_port_raises_a_listen_error_naming_it(tmp_path: Path, taken_tcp_port) -> None:
    simulator = Simulator(cert_dir=tmp_path)
    simulator.add_device(DeviceConfig(http_port=0, tls_port=None, redirection_port=taken_tcp_port))
    with pytest.raises(ListenError) as caught:
        simulator.start()
    simulator.stop()
    assert str(caught.value) == (f"cannot listen on TCP 127.0.0.1:{taken_tcp_port} (redirection (SOL/IDE-R)): "
                                 "the port is in use (another simulator or service holds it)")


def test_without_an_rmcp_port_asked_for_the_simulator_starts_even_when_623_is_not_free() -> None:
    # Whether 623 is free here or not (taken, or not permitted), the default must not stop the start.
    proc = subprocess.Popen([sys.executable, "-m", "amtsim.cli", "run", "--http-port", "0", "--tls-port", "-1",
                             "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL)
    try:
        assert proc.stdout is not None
        ready = json.loads(proc.stdout.readline())
        assert ready["devices"][0]["http_port"] > 0
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_a_negative_tls_port_in_device_config_means_no_tls_listener(amt_simulator) -> None:
    device = amt_simulator.add_device(DeviceConfig(http_port=0, tls_port=-1, rmcp_port=-1, redirection_port=-1))
    try:
        assert (device.config.tls_port, device.config.rmcp_port, device.config.redirection_port) == (None, None, None)
        assert device.config.http_port > 0
    finally:
        amt_simulator.remove_device(device)


def test_a_port_out_of_range_is_refused_when_the_config_is_made() -> None:
    with pytest.raises(ValueError, match="tls_port: 70000 is not a port"):
        DeviceConfig(tls_port=70000)


def test_the_banner_lists_no_ports_for_a_device_with_amt_disabled(tmp_path: Path) -> None:
    scenario = tmp_path / "off.toml"
    scenario.write_text('[defaults]\nhttp_port = 0\ntls_port = -1\n\n[[device]]\nname = "on"\naddress = "127.0.0.1"\n'
                        '\n[[device]]\nname = "off"\naddress = "127.0.0.1"\nfaults = { amt_disabled = true }\n')
    proc = subprocess.Popen([sys.executable, "-m", "amtsim.cli", "run", "--scenario", str(scenario)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert lines[1].split() == ["off", "127.0.0.1", "AMT", "disabled", "(nothing", "listens)"]
    assert ":0 " not in lines[1] and "tls:" not in lines[1]


def test_wait_for_boot_sees_a_power_up_that_nobody_polls(amt_simulator) -> None:
    config = DeviceConfig(http_port=0, tls_port=None, power_state=PowerState.OFF_SOFT,
                          timing=Timing(power_transition=0.3, power_off_phase=0))
    device = amt_simulator.add_device(config)
    try:
        from amtkit import Client

        with Client(device.address, port=config.http_port, password=config.password) as client:
            client.power.request("on")  # nothing reads the power state after this
        record = DeviceControl(device).wait_for_boot(1, timeout=10)
        assert record is not None
    finally:
        amt_simulator.remove_device(device)


def test_wait_for_boot_still_times_out_when_no_boot_comes(amt_simulator) -> None:
    device = amt_simulator.add_device(DeviceConfig(http_port=0, tls_port=None, power_state=PowerState.OFF_SOFT,
                                                   faults=Faults()))
    try:
        with pytest.raises(TimeoutError, match="boot 1 of"):
            DeviceControl(device).wait_for_boot(1, timeout=0.2)
    finally:
        amt_simulator.remove_device(device)


def test_the_plugin_fixtures_have_docstrings(tmp_path: Path) -> None:
    (tmp_path / "test_nothing.py").write_text("def test_nothing():\n    pass\n")
    result = subprocess.run([sys.executable, "-m", "pytest", "--fixtures", "-p", "no:cacheprovider"], cwd=tmp_path,
                            capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)
    text = result.stdout
    for fixture in ("amt_simulator", "amt_device"):
        block = text.split(f"\n{fixture}", 1)[1].split("\n\n", 1)[0]
        assert "no docstring available" not in block and len(block.splitlines()) >= 2, block


def test_the_pytest_extra_brings_only_what_the_plugin_needs() -> None:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    extra = {requirement.split(">")[0].split("=")[0].split("[")[0] for requirement in
             project["optional-dependencies"]["pytest"]}
    assert extra == {"pytest", "pytest-httpserver"}
    assert project["entry-points"]["pytest11"] == {"amtkit": "amtkit.pytest_plugin"}
