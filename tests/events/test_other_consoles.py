"""Opt-in: other consoles read the simulator's logs as they read real AMT's.

napalm-amt (PyPI) and MeshCentral's AMT stack (npm; MeshCommander's lineage, the code behind both
consoles' Event Log and Audit Log views, run here without a browser).

napalm-amt's driver calls ``PositionToFirstRecord`` and then ``GetRecords`` with the identifier of each
answer until ``NoMoreRecords``, and decodes each 21-byte record itself. It needs napalm, so it is
usually installed in its own environment: point ``AMTKIT_NAPALM_PYTHON`` at that interpreter (or
install napalm-amt into this one). Skipped when neither has it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

_SCRIPT = """
import json, sys
from napalm_amt import AmtDriver
host, port, user, password = sys.argv[1:5]
driver = AmtDriver(host, user, password, optional_args={"port": int(port), "tls": False})
driver.open()
try:
    print(json.dumps(driver.get_event_log()))
finally:
    driver.close()
"""


def napalm_python() -> str:
    for candidate in (os.environ.get("AMTKIT_NAPALM_PYTHON"), sys.executable):
        if candidate and subprocess.run([candidate, "-c", "import napalm_amt"], capture_output=True).returncode == 0:
            return candidate
    pytest.skip("napalm-amt is not installed (set AMTKIT_NAPALM_PYTHON to an interpreter that has it)")


def test_napalm_amt_reads_the_lockout_and_boot_records(make_device, connect) -> None:
    python = napalm_python()
    device = make_device()
    connect(device).power.request("cycle")
    device.control.wait_for_boot(1, timeout=10)
    result = subprocess.run([python, "-c", _SCRIPT, device.host, str(device.port), device.username,
                             device.password], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    entries = json.loads(result.stdout)
    messages = [entry["message"] for entry in entries]
    assert "BIOS: System firmware started (at least one CPU is properly executing)." in messages
    assert len(entries) == len(device.control.event_log()) == 3


def meshcentral_dir() -> Path | None:
    """The installed ``meshcentral`` npm package: ``$AMTKIT_MESHCENTRAL`` or ``~/.cache/amtkit/meshcentral``
    (``npm install --prefix ~/.cache/amtkit/meshcentral meshcentral``)."""
    configured = os.environ.get("AMTKIT_MESHCENTRAL")
    base = Path(configured).expanduser() if configured else Path.home() / ".cache" / "amtkit" / "meshcentral"
    for candidate in (base, base / "node_modules" / "meshcentral"):
        if (candidate / "amt" / "amt.js").is_file():
            return candidate
    return None


def test_meshcentral_amt_stack_reads_both_logs_as_its_views_show_them(make_device, connect) -> None:
    node, meshcentral = shutil.which("node"), meshcentral_dir()
    if node is None or meshcentral is None:
        pytest.skip("needs node and the meshcentral npm package (AMTKIT_MESHCENTRAL)")
    device = make_device()
    client = connect(device)
    client.power.request("cycle")
    device.control.wait_for_boot(1, timeout=10)
    client.events.freeze()
    result = subprocess.run([node, str(Path(__file__).with_name("meshcentral_logs.js")), str(meshcentral),
                             device.host, str(device.port), device.username, device.password],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr + result.stdout
    data = json.loads(result.stdout)
    assert [e["desc"] for e in data["events"]][:2] == ["Starting operating system boot process",
                                                        "System firmware started (at least one CPU is properly executing)."]
    assert [e["entity"] for e in data["events"]][:2] == ["BIOS", "BIOS"]
    power = [r for r in data["audit"] if r["event"] == "Performed Power Cycle"]  # MeshCentral's wording
    # Fields after the time stamp are not compared: MeshCentral turns each record into a UTF-8 string and
    # back (its atob), so a time stamp byte of 0x80 or more shifts what follows (the same on real AMT).
    assert power and power[0]["initiator"] == "admin"
    assert any(r["event"] == "Event Log Frozen" for r in data["audit"])
