"""MeshCentral's own IDE-R modules boot images on the simulator (opt-in: needs node and meshcentral).

MeshCentral's server serves IDE-R with ``amt/amt-redir-mesh.js`` + ``amt/amt-ider-module.js``;
``meshcentral_ider.js`` wires them the way its ``amt/amt-ider.js`` does and serves one image.  The
simulated firmware must boot it: answer INQUIRY and REQUEST SENSE itself (MeshCentral implements
neither), keep the silent session while it waits for the reboot, and take MeshCentral's replies.

Install once, outside the repository::

    npm install --prefix ~/.cache/amtkit/meshcentral meshcentral

or point ``AMTKIT_MESHCENTRAL`` at an npm prefix holding it (or at the package folder itself).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from pathlib import Path
from typing import IO

import pytest
from ider_e2e import client_for, pycdlib_iso, redirection_port
from ider_images import floppy_image

from amtkit.pytest_plugin import AMTDeviceInfo

HARNESS = Path(__file__).with_name("meshcentral_ider.js")
WAIT = 60.0


def meshcentral_dir() -> Path | None:
    """The installed ``meshcentral`` package: ``$AMTKIT_MESHCENTRAL`` or ``~/.cache/amtkit/meshcentral``."""
    configured = os.environ.get("AMTKIT_MESHCENTRAL")
    base = Path(configured).expanduser() if configured else Path.home() / ".cache" / "amtkit" / "meshcentral"
    for candidate in (base, base / "node_modules" / "meshcentral"):
        if (candidate / "amt" / "amt-ider-module.js").is_file():
            return candidate
    return None


NODE = shutil.which("node")
MESHCENTRAL = meshcentral_dir()
pytestmark = pytest.mark.skipif(NODE is None or MESHCENTRAL is None,
                                reason="needs node and the meshcentral npm package (see the module docstring)")


class MeshCentralIDER:
    """The harness as a child process; its JSON lines are collected by a reader thread."""

    def __init__(self, info: AMTDeviceInfo, device: str, image: Path, start: str) -> None:
        assert NODE is not None and MESHCENTRAL is not None
        self.process = subprocess.Popen(
            [NODE, str(HARNESS), str(MESHCENTRAL), info.host, str(redirection_port(info)), info.username,
             info.password, device, str(image), start],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.events: list[dict[str, object]] = []
        self._reader = threading.Thread(target=self._read, args=(self.process.stdout,), daemon=True)
        self._reader.start()

    def _read(self, stream: IO[str] | None) -> None:
        assert stream is not None
        for line in stream:
            self.events.append(json.loads(line))

    def stop(self) -> str:
        self.process.terminate()
        try:
            _, stderr = self.process.communicate(timeout=WAIT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, stderr = self.process.communicate()
        return stderr


def boot_with_meshcentral(info: AMTDeviceInfo, device: str, image: Path, start: str) -> MeshCentralIDER:
    console = MeshCentralIDER(info, device, image, start)
    try:
        info.control.wait_for_ider_drives(WAIT)
        with client_for(info) as client:
            client.boot.boot_once(f"ider-{device}", then="reset")
        info.control.wait_for_boot(1, timeout=WAIT)
    except BaseException:
        print(console.stop())
        raise
    return console


@pytest.mark.parametrize("start", ["0", "1", "2"], ids=["on-reboot", "graceful", "now"])
def test_meshcentral_boots_an_iso_from_the_cd(device: AMTDeviceInfo, tmp_path: Path, start: str) -> None:
    iso = pycdlib_iso(tmp_path / "rescue.iso", volume_id="MC_RESCUE")
    console = boot_with_meshcentral(device, "cd", iso, start)
    record = device.control.last_boot()
    console.stop()
    assert record is not None and record.target == "ider-cd"
    assert record.booted, record.reason
    assert (record.volume_id, record.boot_image_found) == ("MC_RESCUE", True)
    reads = [event["read"] for event in console.events if "read" in event]
    assert reads and all(drive == 1 for drive, _, _ in reads)  # type: ignore[misc]  # 1: MeshCentral's CD


def test_meshcentral_boots_a_floppy(device: AMTDeviceInfo, tmp_path: Path) -> None:
    image = tmp_path / "dos.img"
    image.write_bytes(floppy_image())
    console = boot_with_meshcentral(device, "floppy", image, "1")
    record = device.control.last_boot()
    console.stop()
    assert record is not None and record.target == "ider-floppy"
    assert record.booted, record.reason
    assert record.boot_image_found and record.result is not None and record.result.loaded_bytes == 512
