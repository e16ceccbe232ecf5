"""``amtkit inventory HOST`` as a user runs it (a subprocess against a simulated device)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from amtsim import SimulatedDevice

NewDevice = Callable[..., SimulatedDevice]


def amtkit(*args: str, password: str | None = "P@ssw0rd", **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in ("AMT_PASSWORD", "AMTKIT_PROFILES")}
    if password is not None:
        environment["AMT_PASSWORD"] = password
    return subprocess.run([sys.executable, "-m", "amtkit.cli.main", *args], capture_output=True, text=True,
                          env={**environment, **env}, timeout=120, check=False, stdin=subprocess.DEVNULL)


def test_inventory_json_carries_the_device_values(new_device: NewDevice) -> None:
    device = new_device(hostname="lab-07", mac_address="a4-bb-6d-00-00-07", memory_gib=[32])
    done = amtkit("inventory", device.address, "--port", str(device.config.http_port), "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["ok"] and data["general"]["hostname"] == "lab-07"
    assert data["network"][0]["mac_address"] == "a4-bb-6d-00-00-07"
    assert data["hardware"]["total_memory_bytes"] == 32 << 30 and data["features"]["kvm"] == "enabled"


def test_inventory_text_names_each_part(new_device: NewDevice) -> None:
    device = new_device()
    done = amtkit("inventory", device.address, "--port", str(device.config.http_port))
    labels = [line.split()[0] for line in done.stdout.splitlines()[1:]]
    assert labels[:4] == ["AMT", "setup", "name", "network"] and "features" in labels


def test_inventory_with_a_profile_file_remembers_the_profile(new_device: NewDevice, tmp_path: Path) -> None:
    device = new_device()
    profiles = tmp_path / "profiles.toml"
    profiles.write_text('[profiles.old]\nusername = "admin"\npassword = "old"\n'
                        '[profiles.current]\nusername = "admin"\npassword_env = "LAB_PW"\n', encoding="utf-8")
    profiles.chmod(0o600)
    store = tmp_path / "amtkit.db"
    done = amtkit("inventory", device.address, "--port", str(device.config.http_port), "--profiles", str(profiles),
                  "--json", password=None, LAB_PW="P@ssw0rd", AMTKIT_STORE=str(store))
    assert done.returncode == 0, done.stderr
    from amtkit.store import Store

    with Store.open(store) as opened:
        assert opened.profile_for(device.address) == "current"


def test_inventory_with_wrong_password_exits_with_the_auth_code(new_device: NewDevice) -> None:
    device = new_device()
    done = amtkit("inventory", device.address, "--port", str(device.config.http_port), "--json", password="wrong")
    assert done.returncode == 6 and json.loads(done.stdout)["category"] == "auth-failed"
