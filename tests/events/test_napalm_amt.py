"""Opt-in: napalm-amt (PyPI) reads the simulator's event log as it reads real AMT's.

napalm-amt's driver calls ``PositionToFirstRecord`` and then ``GetRecords`` with the identifier of each
answer until ``NoMoreRecords``, and decodes each 21-byte record itself. It needs napalm, so it is
usually installed in its own environment: point ``AMTKIT_NAPALM_PYTHON`` at that interpreter (or
install napalm-amt into this one). Skipped when neither has it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

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
