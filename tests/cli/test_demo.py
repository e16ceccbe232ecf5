"""The README's first command runs the main job: ``scripts/demo_site.py`` (what ``scripts/demo.sh`` runs
after installing) against a simulated site, needing no free well-known port."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "demo_site.py"


def test_the_demo_discovers_reads_power_quarantines_checks_traffic_and_releases() -> None:
    result = subprocess.run([sys.executable, str(SCRIPT), "--machines", "3"], capture_output=True, text=True,
                            stdin=subprocess.DEVNULL, timeout=180)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    out = result.stdout
    for command in ("$ amtkit discover", "$ amtkit power status store:amt", "$ amtkit quarantine apply",
                    "$ amtkit quarantine status", "$ amtkit quarantine release", "$ amtkit log --host"):
        assert command in out, command
    assert "host traffic: https to the internet: DROPPED" in out
    assert out.rstrip().splitlines()[-1].startswith("demo done:")
    assert "Traceback" not in out + result.stderr
