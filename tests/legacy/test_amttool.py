"""amttool (Debian's amtterm package) against the simulator: info, network info, power and boot options.

Opt-in: skipped where amttool is not installed (``apt-get install amtterm``). amttool speaks legacy
SOAP through Perl's SOAP::Lite with LWP's digest, the way consoles of the AMT 2.x-5.x era did.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from amtkit.codes import PowerAction, PowerState

AMTTOOL = shutil.which("amttool")
pytestmark = pytest.mark.skipif(AMTTOOL is None, reason="needs amttool (Debian package amtterm)")


def amttool(device, *args: str, answer: str = "") -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    assert AMTTOOL is not None
    env = {**os.environ, "AMT_PASSWORD": device.password}
    return subprocess.run([AMTTOOL, f"{device.host}:{device.port}", *args], input=answer, env=env,
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture
def amt5(make_device):  # type: ignore[no-untyped-def]
    return make_device(amt_version="5.0.1", hostname="lab-pc", domain="example.org")


def test_info_shows_version_host_power_state_and_capabilities(amt5) -> None:
    result = amttool(amt5, "info")
    assert result.returncode == 0, result.stderr
    assert "AMT version:  5.0.1" in result.stdout
    assert "Hostname:     lab-pc.example.org" in result.stdout
    assert "Powerstate:   S0" in result.stdout
    assert "IanaOemNumber                   157" in result.stdout  # 343 in hex
    assert "PXE-boot" in result.stdout and "cd-boot" in result.stdout
    assert "powercycle powerdown powerup reset" in result.stdout


def test_netinfo_shows_the_wired_interface(make_device) -> None:
    device = make_device(amt_version="2.6.3", ip_address="10.1.2.3", mac_address="00-be-43-d8-22-a4")
    result = amttool(device, "netinfo")
    assert result.returncode == 0, result.stderr
    assert "Network Interface 0:" in result.stdout
    assert "00-be-43-d8-22-a4" in result.stdout
    assert "LocalAddress                10.1.2.3" in result.stdout


def test_powerdown_then_powerup_change_the_state_wsman_reads(amt5, connect) -> None:
    down = amttool(amt5, "powerdown", answer="y\n")
    assert "result: pt_status: success" in down.stdout, down.stdout + down.stderr
    assert connect(amt5, generation="wsman").power.state() is PowerState.OFF_SOFT
    assert "Powerstate:   S5 (soft-off)" in amttool(amt5, "info").stdout
    up = amttool(amt5, "powerup", answer="y\n")
    assert "result: pt_status: success" in up.stdout
    assert amt5.control.power_history() == [PowerAction.OFF, PowerAction.ON]


@pytest.mark.parametrize(("option", "target"), [("pxe", "pxe"), ("hd", "disk"), ("cd", "cd")])
def test_reset_with_a_boot_option_boots_there_once(amt5, option: str, target: str) -> None:
    result = amttool(amt5, "reset", option, answer="y\n")
    assert "result: pt_status: success" in result.stdout, result.stdout + result.stderr
    records = amt5.device.extensions["boot"].records
    assert [r.target for r in records] == [target]


def test_powercycle_bios_asks_for_bios_output_over_sol(amt5) -> None:
    result = amttool(amt5, "powercycle", "bios", answer="y\n")
    assert "result: pt_status: success" in result.stdout, result.stdout + result.stderr
    assert amt5.control.power_history() == [PowerAction.CYCLE]


def test_a_wrong_password_is_refused(amt5) -> None:
    from dataclasses import replace

    result = amttool(replace(amt5, password="wrong"), "info")
    assert "AMT version:  5.0.1" not in result.stdout
    assert amt5.device.stats.auth_failures > 0


def test_a_declined_confirmation_changes_nothing(amt5) -> None:
    result = amttool(amt5, "reset", answer="n\n")
    assert "canceled" in result.stdout
    assert amt5.control.power_history() == []
