"""Footguns of the first hour (issue #13): what AMT will really do is said before a filter set is applied;
a profile file others can read is one warning line; profiles spend no login on a device discovery knows is
unprovisioned."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from test_cli_end_to_end import amtkit, at

from amtkit import exceptions as exc
from amtkit.defense import load
from amtkit.defense.notes import apply_notes
from amtkit.discovery.probe import Classification, ControlMode, HostRecord
from amtkit.discovery.rmcp import ProvisioningState as PongState
from amtkit.profiles import ProfileSet, connect
from amtkit.store import Store


def test_a_timeout_in_seconds_is_said_in_the_minutes_amt_will_use(amt_device, tmp_path: Path) -> None:
    result = amtkit(*at(amt_device, "defense", "apply"), "--filters", "ping", "--manager", "127.0.0.1",
                    "--timeout", "10", password=amt_device.password,
                    env={"AMTKIT_STORE": str(tmp_path / "store.db")})
    assert result.returncode == 0, result.stderr
    assert ("amtkit: note: AMT counts a policy timeout in whole minutes: 10 s becomes 1 min, so the filters lift "
            "themselves after 60 s") in result.stderr


def test_whole_minutes_need_no_note() -> None:
    assert not [n for n in apply_notes(load("ping"), managers=["10.0.0.5"], timeout=120) if "minutes" in n]


def test_a_documentation_placeholder_left_in_a_shipped_set_is_named() -> None:
    notes = apply_notes(load("quarantine-with-packages"), managers=["10.0.0.5"])
    assert any("peer 'package-mirror' is 192.0.2.20/32, a documentation address" in n for n in notes), notes
    assert not any("management-server" in n and "documentation" in n for n in notes)  # --manager replaces it


def test_a_long_policy_name_is_said_to_be_cut_to_sixteen_characters(tmp_path: Path) -> None:
    text = load("ping").name
    assert text  # the shipped set has a short name: no note
    assert not any("the policy" in n for n in apply_notes(load("ping")))
    long_set = tmp_path / "long.xml"
    source = (Path(__file__).resolve().parents[2] / "filters" / "ping.xml").read_text()
    long_set.write_text(source.replace(f'name="{text}"', 'name="quarantine-for-the-finance-floor"', 1))
    notes = apply_notes(load(str(long_set)))
    assert any("AMT keeps 16 characters of a name: the policy 'quarantine-for-the-finance-floor' is written as "
               "'amtkit:quarantin'" in n for n in notes), notes


def test_a_profile_file_others_can_read_is_one_warning_line(amt_device, tmp_path: Path) -> None:
    profiles = tmp_path / "profiles.toml"
    profiles.write_text(f'[profiles.lab]\nusername = "admin"\npassword = "{amt_device.password}"\n')
    profiles.chmod(0o644)
    result = amtkit(*at(amt_device, "power", "status"), "--profiles", str(profiles),
                    env={"AMTKIT_STORE": str(tmp_path / "store.db")})
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [f"amtkit: warning: {profiles} holds passwords and is readable by others: "
                                          "chmod 600 it"]


def test_profiles_spend_no_login_on_a_device_discovery_saw_unprovisioned(amt_device, tmp_path: Path) -> None:
    file = tmp_path / "profiles.toml"
    file.write_text(f'[profiles.lab]\nusername = "admin"\npassword = "{amt_device.password}"\n')
    file.chmod(0o600)
    store = Store.open(tmp_path / "store.db")
    store.save_discovery([HostRecord(host=amt_device.host, address=amt_device.host,
                                     classification=Classification.AMT_PRESENT, seen_at=datetime.now(timezone.utc),
                                     provisioning_state=PongState.PRE, control_mode=ControlMode.NONE)])
    before = amt_device.control.stats()["auth_challenges"] if "auth_challenges" in amt_device.control.stats() else 0
    with pytest.raises(exc.NotProvisionedError) as caught:
        connect(amt_device.host, ProfileSet.load(file), store, port=amt_device.port)
    assert "no profile was tried" in caught.value.message and "amtkit discover" in caught.value.hint
    assert amt_device.control.stats().get("wsman_requests", 0) == 0
    assert amt_device.control.stats().get("auth_challenges", 0) == before
    store.close()


def test_the_cli_says_so_as_a_not_provisioned_error(amt_device, tmp_path: Path) -> None:
    file = tmp_path / "profiles.toml"
    file.write_text(f'[profiles.lab]\nusername = "admin"\npassword = "{amt_device.password}"\n')
    file.chmod(0o600)
    with Store.open(tmp_path / "store.db") as store:
        store.save_discovery([HostRecord(host=amt_device.host, address=amt_device.host,
                                         classification=Classification.AMT_PRESENT,
                                         seen_at=datetime.now(timezone.utc), provisioning_state=PongState.IN,
                                         control_mode=ControlMode.NONE)])
    result = amtkit(*at(amt_device, "power", "status"), "--profiles", str(file), "--json",
                    env={"AMTKIT_STORE": str(tmp_path / "store.db")})
    data = json.loads(result.stdout)
    assert (result.returncode, data["category"]) == (7, "not-provisioned")


def test_quarantine_says_what_amt_does_with_a_safety_timeout_in_seconds(amt_device, tmp_path: Path) -> None:
    result = amtkit(*at(amt_device, "quarantine", "apply"), "--manager", "127.0.0.1", "--safety-timeout", "90s",
                    password=amt_device.password, env={"AMTKIT_STORE": str(tmp_path / "store.db")})
    assert result.returncode == 0, result.stderr
    assert "AMT counts a policy timeout in whole minutes: 90 s becomes 2 min" in result.stderr
