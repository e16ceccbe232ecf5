"""Scenario files (TOML) describe which devices to simulate; mistakes are errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from amtkit import exceptions as exc
from amtkit.client import Client
from amtkit.codes import ControlMode, PowerState
from amtsim.scenario import EXAMPLE, ScenarioError, load_scenario, parse_scenario

DATA = Path(__file__).resolve().parents[1] / "data"


def test_lab_scenario_merges_defaults_into_each_device() -> None:
    desk1, desk2 = load_scenario(DATA / "scenario-lab.toml")
    assert (desk1.name, desk2.name) == ("desk-01", "desk-02")
    assert desk1.amt_version == desk2.amt_version == "15.0.23.1706"
    assert desk1.password == "Lab-Passw0rd"
    assert desk1.power_state is PowerState.OFF_SOFT and desk2.power_state is PowerState.ON
    assert (desk1.control_mode, desk2.control_mode) == (ControlMode.ADMIN, ControlMode.CLIENT)
    assert desk2.sleep_supported is False
    assert desk1.timing.lockout_threshold == desk2.timing.lockout_threshold == 3
    assert desk1.timing.power_transition == 0.0
    assert (desk1.faults.power_state_unknown, desk2.faults.power_state_unknown) == (False, True)


def test_scenario_devices_serve_as_configured(amt_simulator) -> None:
    configs = load_scenario(DATA / "scenario-lab.toml")
    devices = [amt_simulator.add_device(config) for config in configs]
    try:
        desk1, desk2 = (Client(c.address, port=c.http_port, password=c.password, retries=0, timeout=5)
                        for c in configs)
        with desk1, desk2:
            assert desk1.identify().amt_version == "15.0"
            assert desk1.power.status().available_names == ["on"]
            with pytest.raises(exc.PowerStateUnknownError):
                desk2.power.status()
    finally:
        for device in devices:
            amt_simulator.remove_device(device)


def test_a_misspelt_key_is_an_error_naming_the_key_and_the_file() -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(DATA / "scenario-typo.toml")
    assert "pasword" in str(caught.value)
    assert "scenario-typo.toml" in str(caught.value)
    assert "device[0]" in str(caught.value)


@pytest.mark.parametrize(("data", "named"), [
    ({"defaults": {"timing": {"power_transistion": 1}}}, "power_transistion"),
    ({"defaults": {"faults": {"explode": True}}}, "explode"),
    ({"devices": [{}]}, "devices"),
    ({"device": [{"power_state": "asleep"}]}, "asleep"),
    ({"device": [{"control_mode": "god"}]}, "control_mode"),
])
def test_unknown_keys_and_values_anywhere_are_errors_naming_them(data: dict, named: str) -> None:
    with pytest.raises(ScenarioError, match=named):
        parse_scenario(data)


def test_fleet_expands_to_consecutive_loopback_addresses() -> None:
    fleet = load_scenario(DATA / "scenario-fleet.toml")
    assert len(fleet) == 25
    assert [d.name for d in fleet[:2]] == ["lab-0001", "lab-0002"] and fleet[-1].name == "lab-0025"
    assert fleet[0].address == "127.1.0.250" and fleet[6].address == "127.1.1.0" and fleet[-1].address == "127.1.1.18"
    assert len({d.address for d in fleet}) == 25
    assert all(d.amt_version == "12.0.67" and d.hostname == d.name for d in fleet)
    assert len({d.guid for d in fleet}) == 25


def test_a_fleet_leaving_the_loopback_range_is_refused() -> None:
    with pytest.raises(ScenarioError, match="leaves the loopback range"):
        load_scenario(DATA / "scenario-fleet-escapes-loopback.toml")


def test_a_fleet_on_a_public_address_is_refused() -> None:
    with pytest.raises(ScenarioError, match="loopback"):
        parse_scenario({"fleet": {"count": 2, "first_address": "192.0.2.10"}})


@pytest.mark.parametrize("count", [0, -1, 65537])
def test_fleet_count_out_of_range_is_refused(count: int) -> None:
    with pytest.raises(ScenarioError, match="fleet.count"):
        parse_scenario({"fleet": {"count": count}})


def test_an_empty_scenario_is_one_default_device() -> None:
    (device,) = parse_scenario({})
    assert device.address == "127.0.0.1" and device.http_port == 16992


def test_a_file_that_is_not_toml_is_an_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[defaults\nx = ")
    with pytest.raises(ScenarioError, match="not valid TOML"):
        load_scenario(broken)


def test_a_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "absent.toml")


def test_the_example_scenario_is_valid(tmp_path: Path) -> None:
    example = tmp_path / "example.toml"
    example.write_text(EXAMPLE)
    devices = load_scenario(example)
    assert len(devices) == 51  # one named device and a fleet of 50
    assert devices[0].name == "desk-01" and devices[0].address == "127.0.0.2"
    assert all(device.address.startswith("127.") for device in devices)


def test_a_negative_tls_port_in_a_scenario_means_no_tls_listener() -> None:
    from amtsim.scenario import parse_scenario

    assert parse_scenario({"defaults": {"tls_port": -1}})[0].tls_port is None


def test_a_port_out_of_range_in_a_scenario_is_refused_naming_the_key() -> None:
    import pytest

    from amtsim.scenario import ScenarioError, parse_scenario

    with pytest.raises(ScenarioError, match="tls_port"):
        parse_scenario({"defaults": {"tls_port": 70000}})
