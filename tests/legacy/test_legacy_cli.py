"""The CLI on AMT generations: ``--generation`` and ``--transport``, legacy devices end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys


def amtkit(device, *args: str, password: str | None = None) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    env = {**os.environ, "AMT_PASSWORD": password or device.password}
    env.pop("AMTKIT_GENERATION", None)
    env.pop("AMTKIT_TRANSPORT", None)
    return subprocess.run([sys.executable, "-m", "amtkit.cli.main", args[0], args[1], device.host,
                           "--port", str(device.port), *args[2:]],
                          capture_output=True, text=True, env=env, timeout=60, check=False)


def test_power_status_of_a_device_without_wsman_speaks_legacy_soap(make_device) -> None:
    result = amtkit(make_device(amt_version="2.6.3"), "power", "status", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["state"], data["asf_state"], data["asf_meaning"]) == ("on", 0, "S0 working")


def test_power_off_over_legacy_soap_is_what_wsman_reads(make_device, connect) -> None:
    device = make_device(amt_version="5.0.1")
    result = amtkit(device, "power", "off", "--generation", "eoi")
    assert result.returncode == 0, result.stderr
    assert device.device.stats.eoi_requests > 0
    assert amtkit(device, "power", "status", "--transport", "requests").stdout.startswith(f"{device.host}: off")


def test_forcing_wsman_on_amt_2_is_not_detected_with_a_hint(make_device) -> None:
    result = amtkit(make_device(amt_version="2.6.3"), "power", "status", "--generation", "wsman")
    assert result.returncode == 5
    assert "no WS-Management" in result.stderr and "--generation eoi" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_power_action_on_an_unknown_state_exits_13_naming_the_symptom(make_device) -> None:
    device = make_device(amt_version="5.0.1")
    device.device.faults.power_state_unknown = True
    result = amtkit(device, "power", "cycle", "--generation", "eoi")
    assert result.returncode == 13
    assert "FromState detected as unknown:14" in result.stderr
    assert device.control.power_history() == []
