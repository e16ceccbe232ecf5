"""A realistic simulated network: answer delays, hung engines, silent addresses, wrong passwords, busy
engines, devices that come and go; and generated fleets whose scenario states each device's truth."""

from __future__ import annotations

import time
from collections import Counter

import pytest

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

from amtkit import exceptions as exc
from amtkit.client import Client
from amtsim.config import Faults
from amtsim.fleetgen import FleetSpec, generate, parse_mix, render
from amtsim.scenario import ScenarioError, parse_scenario


def client_for(device, **options) -> Client:  # type: ignore[no-untyped-def]
    settings = {"port": device.config.http_port, "password": "P@ssw0rd", "retries": 0, "timeout": 5, **options}
    return Client(device.address, **settings)


def test_answer_delay_holds_every_reply_back(new_device) -> None:
    device = new_device(faults=Faults(response_delay=0.15))
    with client_for(device) as client:
        started = time.monotonic()
        client.identify()
        assert time.monotonic() - started >= 0.15


def test_a_hung_engine_accepts_the_connection_and_never_answers(new_device) -> None:
    device = new_device(faults=Faults(hang=True))
    with client_for(device, timeout=0.4) as client, pytest.raises(exc.ReadTimeoutError):
        client.identify()
    assert device.stats.connections == 1 and device.stats.http_requests == 0


def test_a_busy_engine_refuses_authenticated_requests_with_not_ready(new_device) -> None:
    device = new_device(faults=Faults(busy=True))
    with client_for(device) as client:
        with pytest.raises(exc.DeviceBusyError) as caught:
            client.power.status()
        assert client.identify().amt_version  # Identify needs no engine work: still answered
    assert caught.value.category == "busy"
    assert caught.value.amt_status == 2  # PT_STATUS NOT_READY


def test_a_device_that_goes_silent_answers_its_first_requests_then_none(new_device) -> None:
    device = new_device(faults=Faults(silent_after_requests=2))
    with client_for(device, timeout=0.4) as client:
        client.identify()
        client.identify()
        with pytest.raises(exc.ReadTimeoutError):
            client.identify()


def test_a_silent_device_comes_back_after_its_silence(new_device) -> None:
    device = new_device(faults=Faults(silent_after_requests=1, silent_for=0.3))
    with client_for(device, timeout=0.2) as client:
        client.identify()
        with pytest.raises(exc.ReadTimeoutError):
            client.identify()
        time.sleep(0.3)
        assert client.identify().amt_version


def test_generated_fleet_deals_each_condition_by_count() -> None:
    spec = FleetSpec(count=200, mix=parse_mix("hung=5%,no-listener=2%,wrong-password=2%,busy=1%"),
                     delay=(0.02, 0.08), first_address="127.9.0.1", seed=3)
    devices = generate(spec)["device"]
    counts = Counter(d["condition"] for d in devices)
    assert counts == {"healthy": 180, "hung": 10, "no-listener": 4, "wrong-password": 4, "busy": 2}
    assert [d["address"] for d in devices[:2]] == ["127.9.0.1", "127.9.0.2"]
    assert devices[-1]["address"] == "127.9.0.200"
    assert all(0.02 <= d["faults"]["response_delay"] <= 0.08 for d in devices)
    assert generate(spec)["device"] == devices  # same seed, same fleet


def test_generated_scenario_round_trips_through_the_scenario_parser() -> None:
    spec = FleetSpec(count=40, mix=parse_mix("hung=10%,no-listener=5%,wrong-password=5%,power-unknown=5%,"
                                             "busy=5%,goes-silent=5%"), delay=(0.02, 0.08), seed=9)
    configs = parse_scenario(tomllib.loads(render(generate(spec))))
    by_condition = {c.condition: c for c in configs}
    assert by_condition["hung"].faults.hang is True
    assert by_condition["no-listener"].faults.amt_disabled is True
    assert by_condition["wrong-password"].password == "P@ssw0rd-rotated"
    assert by_condition["healthy"].password == "P@ssw0rd"
    assert by_condition["power-unknown"].faults.power_state_unknown is True
    assert by_condition["busy"].faults.busy is True
    assert by_condition["goes-silent"].faults.silent_after_requests == 1
    assert all(c.tls_port is None for c in configs)
    assert all(c.faults.response_delay >= 0.02 for c in configs)


def test_a_generated_fleet_answers_presence_pings_on_the_rmcp_port_given() -> None:
    spec = FleetSpec(count=2, mix=parse_mix("not-provisioned=50%"), rmcp_port=16623)
    configs = parse_scenario(tomllib.loads(render(generate(spec))))
    assert [c.rmcp_port for c in configs] == [16623, 16623]
    unprovisioned = next(c for c in configs if c.condition == "not-provisioned")
    assert int(unprovisioned.provisioning_state) == 0  # pre-provisioning: the pong's state byte says 0


def test_a_generated_fleet_answers_no_presence_ping_unless_asked() -> None:
    configs = parse_scenario(tomllib.loads(render(generate(FleetSpec(count=1)))))
    assert configs[0].rmcp_port is None


def test_a_device_may_override_what_its_condition_implies() -> None:
    (device,) = parse_scenario({"device": [{"condition": "wrong-password", "password": "mine"}]})
    assert device.password == "mine" and device.condition == "wrong-password"


def test_an_unknown_condition_is_an_error_naming_it() -> None:
    with pytest.raises(ScenarioError, match="sleepy"):
        parse_scenario({"device": [{"condition": "sleepy"}]})


@pytest.mark.parametrize("text", ["hung", "hung=150%", "haunted=5%", "hung=60%,busy=60%", "hung=x"])
def test_a_bad_mix_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_mix(text)


def test_fleet_scenario_command_prints_a_scenario_the_simulator_loads(tmp_path) -> None:
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    from amtsim.scenario import load_scenario

    command = shutil.which("amtkit-sim", path=str(Path(sys.executable).parent))
    assert command is not None
    result = subprocess.run([command, "fleet-scenario", "--count", "3", "--mix", "hung=34%", "--delay", "20-80",
                             "--first-address", "127.9.9.1"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    scenario = tmp_path / "fleet.toml"
    scenario.write_text(result.stdout)
    configs = load_scenario(scenario)
    assert [c.address for c in configs] == ["127.9.9.1", "127.9.9.2", "127.9.9.3"]
    assert sorted(c.condition for c in configs) == ["healthy", "healthy", "hung"]
    bad = subprocess.run([command, "fleet-scenario", "--count", "3", "--delay", "80-20"], capture_output=True,
                         text=True, timeout=30)
    assert bad.returncode == 2 and "LOW-HIGH" in bad.stderr
