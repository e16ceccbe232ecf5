"""``amtkit defense`` run as a user runs it: a subprocess, JSON out, exit codes by category."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from ipaddress import ip_address
from pathlib import Path
from typing import Any

from amtkit.codes import ControlMode, ProvisioningState
from amtkit.defense.model import FilterDirection, IPProtocol
from amtkit.exceptions import EXIT_CODES
from amtkit.pytest_plugin import AMTDeviceInfo

FILTERS = Path(__file__).resolve().parents[2] / "filters"


def amtkit_cli(*args: str, device: AMTDeviceInfo | None = None) -> tuple[int, Any]:
    """Run ``amtkit defense ARGS --json`` (against ``device``); exit code and parsed JSON output."""
    command = [sys.executable, "-m", "amtkit.cli.main", "defense", *args, "--json"]
    env = dict(os.environ)
    if device is not None:
        command += ["--port", str(device.port), "--user", device.username]
        env["AMT_PASSWORD"] = device.password
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=False)
    return done.returncode, json.loads(done.stdout)


def test_apply_show_remove_round(amt_device: AMTDeviceInfo) -> None:
    code, applied = amtkit_cli("apply", amt_device.host, "--filters", "quarantine-strict",
                               "--manager", "10.0.0.5", "--timeout", "600", device=amt_device)
    assert (code, applied["ok"], applied["changed"], applied["filters"]) == (0, True, True, 6)
    assert applied["timeout_minutes"] == 10
    dropped = amt_device.control.offer_flow(FilterDirection.TRANSMIT, IPProtocol.TCP, dst=ip_address("192.0.2.99"),
                                            dst_port=80)
    assert dropped.passed == 0

    code, shown = amtkit_cli("show", amt_device.host, device=amt_device)
    assert (code, shown["active"]["name"], len(shown["counters"])) == (0, "amtkit:quarantin", 6)

    code, removed = amtkit_cli("remove", amt_device.host, device=amt_device)
    assert (code, removed["removed_policies"], removed["removed_filters"]) == (0, 1, 6)
    code, shown = amtkit_cli("show", amt_device.host, device=amt_device)
    assert shown["active"] is None


def test_ping_applies_the_ping_preset(amt_device: AMTDeviceInfo) -> None:
    code, applied = amtkit_cli("ping", amt_device.host, "--manager", "10.0.0.5", device=amt_device)
    assert (code, applied["policy"]) == (0, "amtkit-ping")
    pinged = amt_device.control.offer_flow(FilterDirection.RECEIVE, IPProtocol.ICMP, src=ip_address("192.0.2.99"))
    assert pinged.passed == 1


def test_a_lockout_exits_14_listing_what_blocks_what(amt_device: AMTDeviceInfo) -> None:
    code, refused = amtkit_cli("apply", amt_device.host, "--filters", "default", device=amt_device)
    assert code == EXIT_CODES["lockout"] == 14
    assert refused["error"] == "LockoutError"
    assert "placeholder address 192.0.2.10" in refused["blocked"][0]


def test_force_applies_what_the_check_refuses(amt_device: AMTDeviceInfo) -> None:
    code, applied = amtkit_cli("apply", amt_device.host, "--filters", "default", "--force", device=amt_device)
    assert (code, applied["changed"]) == (0, True)
    assert applied["forced"]


def test_client_control_mode_exits_as_not_available(amt_device: AMTDeviceInfo) -> None:
    amt_device.control.set_provisioning(ProvisioningState.POST, ControlMode.CLIENT)
    code, refused = amtkit_cli("show", amt_device.host, device=amt_device)
    assert (code, refused["error"]) == (EXIT_CODES["not-available"], "FeatureUnavailableError")


def test_check_is_offline_and_exits_0_for_a_safe_set() -> None:
    code, checked = amtkit_cli("check", str(FILTERS / "CBFilters.xml"), "--manager", "10.0.0.5:443,50120-50124")
    assert (code, checked["ok"], checked["blocked"], checked["filters"]) == (0, True, [], 12)


def test_check_exits_14_for_a_set_that_blocks_the_manager(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_bytes((FILTERS / "quarantine-strict.xml").read_bytes().replace(
        b'<ping allow="false"/>',
        b'<ping allow="false"/>\n  <ipFilter direction="transmit" profile="drop" protocol="tcp" dstPorts="443"/>'))
    code, checked = amtkit_cli("check", str(bad), "--manager", "10.0.0.5")
    assert code == 14
    assert checked["blocked"][0].startswith("transmit tcp any -> 10.0.0.5:443: blocked by filters[0]")


def test_an_unusable_file_exits_2_with_file_and_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.xml"
    broken.write_bytes((FILTERS / "ping.xml").read_bytes().replace(b'remotePorts="443', b'remotePorts="70000'))
    code, failed = amtkit_cli("check", str(broken), "--manager", "10.0.0.5")
    assert (code, failed["category"]) == (2, "usage")
    assert f"{broken} line " in failed["message"] and "70000" in failed["message"]
