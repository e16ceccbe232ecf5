"""``amtkit boot`` and ``amtkit ider boot`` run as a user runs them: a subprocess against a simulated device."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from ider_e2e import pycdlib_iso, redirection_port
from ider_images import floppy_image

from amtkit.exceptions import EXIT_CODES
from amtkit.pytest_plugin import AMTDeviceInfo


def amtkit(device: AMTDeviceInfo, command_name: str, *args: str,
           redirection: bool = False) -> subprocess.CompletedProcess[str]:
    """``amtkit COMMAND HOST ARGS`` against ``device`` (``command_name`` may be two words: ``ider boot``)."""
    command = [sys.executable, "-m", "amtkit.cli.main", *command_name.split(), device.host, *args,
               "--port", str(device.port)]
    if redirection:
        command += ["--redirection-port", str(redirection_port(device))]
    env = {**os.environ, "AMT_PASSWORD": device.password}
    return subprocess.run(command, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=120,
                          check=False)


def as_json(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert "Traceback" not in result.stderr, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_boot_pxe_then_reset(device: AMTDeviceInfo) -> None:
    result = amtkit(device, "boot", "pxe", "--then", "reset", "--json")
    data = as_json(result)
    assert result.returncode == 0 and data["ok"] and (data["target"], data["then"]) == ("pxe", "reset")
    assert device.control.wait_for_boot(1).target == "pxe"


def test_boot_bios_without_a_power_action_waits_for_the_next_boot(device: AMTDeviceInfo) -> None:
    result = amtkit(device, "boot", "bios")
    assert result.returncode == 0
    assert result.stdout.strip() == f"{device.host}: boots once to BIOS setup, at the next boot"
    assert device.control.boot_settings()["BIOSSetup"] is True and device.control.boot_results() == []


def test_boot_clear(device: AMTDeviceInfo) -> None:
    amtkit(device, "boot", "disk")
    result = amtkit(device, "boot", "clear", "--json")
    assert as_json(result)["target"] == "clear" and device.control.pending_boot_source() is None


def test_an_unsupported_boot_target_exits_with_not_available(device: AMTDeviceInfo) -> None:
    device.control.set_boot_capabilities(ForceCDorDVDBoot=False)
    result = amtkit(device, "boot", "cd", "--then", "reset")
    assert result.returncode == EXIT_CODES["not-available"]
    lines = result.stderr.splitlines()
    assert lines[0].startswith("amtkit: ") and "cannot boot once to the local CD/DVD drive" in lines[0]
    assert lines[1].startswith("  hint: one-time boot targets it offers: pxe, disk, bios")


def test_ider_boot_from_a_cd_image(device: AMTDeviceInfo, tmp_path: Path) -> None:
    iso = pycdlib_iso(tmp_path / "rescue.iso", volume_id="CLI_RESCUE")
    result = amtkit(device, "ider boot", "--cd", str(iso), "--timeout", "60", "--json", redirection=True)
    data = as_json(result)
    assert result.returncode == 0 and data["ok"] and data["volume_id"] == "CLI_RESCUE"
    assert data["boot_image_bytes"] == 4 * 2048 and data["device"] == "cd"
    record = device.control.wait_for_boot(1)
    assert record.booted and record.volume_id == "CLI_RESCUE"


def test_ider_boot_text_output(device: AMTDeviceInfo, tmp_path: Path) -> None:
    image = tmp_path / "rescue.img"
    image.write_bytes(floppy_image(label="CLIFLOPPY"))
    result = amtkit(device, "ider boot", "--floppy", str(image), redirection=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{device.host}: host loaded the boot image from the IDE-R floppy "
                                    "(volume CLIFLOPPY): ")
    assert result.stderr == ""  # progress only on a terminal


def test_ider_boot_refuses_a_non_bootable_image(device: AMTDeviceInfo, tmp_path: Path) -> None:
    image = tmp_path / "data.img"
    image.write_bytes(floppy_image(signature=False))
    result = amtkit(device, "ider boot", "--floppy", str(image), "--json", redirection=True)
    data = as_json(result)
    assert result.returncode == EXIT_CODES.get("not-bootable", 1) and not data["ok"]
    assert data["error"] == "IDERImageNotBootable" and "boot sector ends 0000, not 55aa" in data["message"]
    assert device.control.power_history() == []


def test_ider_boot_needs_exactly_one_image(device: AMTDeviceInfo, tmp_path: Path) -> None:
    result = amtkit(device, "ider boot")
    assert result.returncode == EXIT_CODES["usage"] and "exactly one of --cd IMAGE and --floppy IMAGE" in result.stderr


def test_ider_boot_with_bad_credentials_exits_with_auth_failed(device: AMTDeviceInfo, tmp_path: Path) -> None:
    iso = pycdlib_iso(tmp_path / "rescue.iso")
    device.control.set_password("changed-elsewhere")
    result = amtkit(device, "ider boot", "--cd", str(iso), redirection=True)
    assert result.returncode == EXIT_CODES["auth-failed"]


def test_force_serves_a_non_bootable_iso_and_the_bios_says_why(device: AMTDeviceInfo, tmp_path: Path) -> None:
    iso = pycdlib_iso(tmp_path / "data.iso", el_torito=False)
    result = amtkit(device, "ider boot", "--cd", str(iso), "--force", "--timeout", "5", "--json", redirection=True)
    data = as_json(result)
    assert result.returncode == 0 and data["boot_image"] is None and "no El Torito boot record" in data["reason"]
    record = device.control.wait_for_boot(1)
    assert not record.booted and record.reason is not None
    assert record.reason.startswith("CD is not bootable: no El Torito boot record at sector 17")
