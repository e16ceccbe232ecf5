"""``amtkit diagnose HOST`` as a user runs it: a subprocess, JSON out, the exit status of the failure."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from amtkit.codes import ControlMode
from amtkit.exceptions import EXIT_CODES
from amtsim import SimulatedDevice

NewDevice = Callable[..., SimulatedDevice]


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("0.0.0.0", 0))
        return int(sock.getsockname()[1])


def diagnose(device: SimulatedDevice, *args: str, password: str | None = "P@ssw0rd",
             **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in ("AMT_PASSWORD", "AMTKIT_PROFILES")}
    if password is not None:
        environment["AMT_PASSWORD"] = password
    command = [sys.executable, "-m", "amtkit.cli.main", "diagnose", device.address,
               "--http-port", str(device.config.http_port), "--https-port", str(device.config.tls_port or 1),
               "--rmcp-port", str(free_udp_port()),
               "--probe-timeout", "0.2", *args]
    return subprocess.run(command, capture_output=True, text=True, env={**environment, **env}, timeout=120,
                          check=False, stdin=subprocess.DEVNULL)


def test_healthy_device_exits_zero_with_every_rung_passed(new_device: NewDevice) -> None:
    done = diagnose(new_device(), "--json", "--feature", "power")
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads(done.stdout)
    assert data["ok"] and data["stopped_at"] is None


def test_ccm_device_asked_for_defense_exits_with_not_available(new_device: NewDevice) -> None:
    done = diagnose(new_device(control_mode=ControlMode.CLIENT), "--json", "--feature", "defense")
    data = json.loads(done.stdout)
    assert done.returncode == EXIT_CODES["not-available"] and data["stopped_at"] == "feature"


def test_profiles_tried_are_named_when_none_works(new_device: NewDevice, tmp_path: Path) -> None:
    profiles = tmp_path / "profiles.toml"
    profiles.write_text('order = ["a", "b"]\n[profiles.a]\nusername = "admin"\npassword = "x"\n'
                        '[profiles.b]\nusername = "admin"\npassword = "y"\n', encoding="utf-8")
    profiles.chmod(0o600)
    done = diagnose(new_device(), "--json", "--profiles", str(profiles), password=None,
                    AMTKIT_STORE=str(tmp_path / "s.db"))
    data = json.loads(done.stdout)
    assert done.returncode == EXIT_CODES["auth-failed"] and data["stopped_at"] == "credentials"
    failed = next(step for step in data["steps"] if step["outcome"] == "failed")
    assert "tried: a, b" in failed["finding"]


def test_text_output_marks_the_failed_rung_and_says_what_to_do(new_device: NewDevice) -> None:
    done = diagnose(new_device(), password="wrong")
    assert done.returncode == EXIT_CODES["auth-failed"]
    lines = done.stdout.splitlines()
    assert lines[0].endswith("stopped at 'credentials'")
    failed = [line for line in lines if "[FAIL]" in line]
    assert len(failed) == 1 and "Which credentials log in?" in failed[0]
    assert any("what to do:" in line for line in lines)


def test_without_a_password_the_lower_rungs_are_still_walked(new_device: NewDevice) -> None:
    done = diagnose(new_device(), "--json", password=None)
    data = json.loads(done.stdout)
    assert data["stopped_at"] == "credentials" and data["steps"][0]["outcome"] == "passed"
