"""Helpers of the end-to-end IDE-R tests: devices with a redirection listener, real ISOs, clients.

Plain functions; the ``device`` and ``client`` fixtures most modules share are in ``conftest.py``.
"""

from __future__ import annotations

import io
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest

from amtkit.client import Client
from amtkit.http.digest import Credentials
from amtkit.ider import IDERDriveSet
from amtkit.pytest_plugin import AMTDeviceInfo
from amtkit.redirection.messages import (
    AuthenticateSession,
    AuthenticateSessionReply,
    Direction,
    IDERCommandWritten,
    IDERDisableEnableFeatures,
    IDERDisableEnableFeaturesReply,
    IDERResetOccurred,
    IDERResetOccurredResponse,
    IDERStartMode,
    RedirectionDecoder,
    RedirectionMessage,
    SequenceCounter,
    SequencedMessage,
    SessionType,
    StartIDERRedirection,
    StartIDERRedirectionReply,
    StartRedirectionSession,
    StartRedirectionSessionReply,
)
from amtsim import DeviceConfig, Simulator, Timing
from amtsim.control import DeviceControl

_M = TypeVar("_M", bound=RedirectionMessage)


@contextmanager
def ider_device(simulator: Simulator, *, tls: bool = False, timing: Timing | None = None,
                **config: Any) -> Iterator[AMTDeviceInfo]:
    """A simulated device with a redirection listener on a free port (and TLS ones with ``tls``)."""
    device_config = DeviceConfig(
        http_port=0, tls_port=0 if tls else None, redirection_port=0, redirection_tls_port=0 if tls else None,
        timing=timing or Timing(power_transition=0, power_off_phase=0), **config,
    )
    device = simulator.add_device(device_config)
    try:
        yield AMTDeviceInfo(
            host=device_config.address, port=device_config.http_port, tls_port=device_config.tls_port,
            username=device_config.username, password=device_config.password,
            tls_sha256=simulator.tls_sha256(device) if tls else None, device=device, control=DeviceControl(device),
        )
    finally:
        simulator.remove_device(device)


def redirection_port(info: AMTDeviceInfo) -> int:
    port = info.device.config.redirection_port
    assert port is not None
    return port


def client_for(info: AMTDeviceInfo, **overrides: Any) -> Client:
    """A client of ``info`` whose ``client.ider`` sessions go to the device's redirection port."""
    kwargs: dict[str, Any] = {"port": info.port, "username": info.username, "password": info.password,
                              "timeout": 10.0, **overrides}
    client = Client(info.host, **kwargs)
    client.ider.port = redirection_port(info)
    return client


def pycdlib_iso(path: Path, *, el_torito: bool = True, volume_id: str = "RESCUE_LIVE",
                boot_size: int = 4 * 2048) -> Path:
    """A small real ISO 9660 image made by pycdlib (El Torito no-emulation boot image, or none)."""
    pycdlib = pytest.importorskip("pycdlib")
    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=1, vol_ident=volume_id)
    code = b"\xfa\xeb\xfe".ljust(boot_size, b"\x90")
    iso.add_fp(io.BytesIO(code), len(code), "/BOOT.IMG;1")
    iso.add_fp(io.BytesIO(b"amtkit rescue\n"), 14, "/README.TXT;1")
    if el_torito:
        iso.add_eltorito("/BOOT.IMG;1", bootcatfile="/BOOT.CAT;1")
    iso.write(str(path))
    iso.close()
    return path


class GatedImage(io.RawIOBase):
    """An image file that stops at byte ``gate``: it signals ``reached`` and waits until ``release`` is set.

    Lets a test act while a transfer is certainly in progress, without timing anything.
    """

    def __init__(self, data_size: int, gate: int) -> None:
        self.size = data_size
        self.gate = gate
        self.position = 0
        self.reached = threading.Event()
        self.release = threading.Event()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self.position = {io.SEEK_SET: offset, io.SEEK_CUR: self.position + offset, io.SEEK_END: self.size + offset}[whence]
        return self.position

    def tell(self) -> int:
        return self.position

    def read(self, size: int = -1) -> bytes:
        if self.position >= self.gate and not self.release.is_set():
            self.reached.set()
            self.release.wait(30)
        size = self.size - self.position if size < 0 else min(size, self.size - self.position)
        self.position += size
        return bytes(size)


class QuietConsole:
    """A raw IDE-R console that behaves like MeshCentral's: after the set-up it sends nothing of its own
    (no heartbeats, no pings) and only answers what the firmware asks (reset, commands).

    ``open_ider=False`` stops after authentication: a connection that never opens IDE-R.
    """

    def __init__(self, info: AMTDeviceInfo, image: bytes | None = None, *, heartbeat_ms: int = 50,
                 open_ider: bool = True) -> None:
        self.sock = socket.create_connection((info.host, redirection_port(info)), timeout=30)
        self.decoder = RedirectionDecoder(direction=Direction.TO_CONSOLE)
        self.outgoing = SequenceCounter()
        self.inbox: list[RedirectionMessage] = []
        self.drives = IDERDriveSet(cd=io.BytesIO(image)) if image is not None else None
        credentials = Credentials(info.username, info.password)
        self._send(StartRedirectionSession.for_session(SessionType.IDER))
        self._expect(StartRedirectionSessionReply)
        self._send(AuthenticateSession.digest_start(info.username))
        challenge = self._expect(AuthenticateSessionReply).challenge()
        self._send(AuthenticateSession.digest_answer(credentials, challenge))
        assert self._expect(AuthenticateSessionReply).ok
        if open_ider:
            self._send(StartIDERRedirection(heartbeat=heartbeat_ms))
            self._expect(StartIDERRedirectionReply)
            self._send(IDERDisableEnableFeatures.enable(IDERStartMode.ON_REBOOT))
            self._expect(IDERDisableEnableFeaturesReply)

    def _send(self, message: RedirectionMessage) -> None:
        if isinstance(message, SequencedMessage):
            message = self.outgoing.stamp(message)
        self.sock.sendall(message.encode())

    def next_message(self) -> RedirectionMessage | None:
        """The firmware's next message; ``None`` once it has closed the connection."""
        while not self.inbox:
            data = self.sock.recv(65536)
            if not data:
                return None
            self.inbox.extend(self.decoder.feed(data))
        return self.inbox.pop(0)

    def _expect(self, kind: type[_M]) -> _M:
        message = self.next_message()
        assert isinstance(message, kind), message
        return message

    def serve_until_closed_or(self, done: Callable[[], bool]) -> None:
        """Answer resets and commands (never a heartbeat) until ``done()`` or the firmware hangs up."""
        assert self.drives is not None
        while not done():
            message = self.next_message()
            if message is None:
                return
            if isinstance(message, IDERResetOccurred):
                self._send(IDERResetOccurredResponse())
            elif isinstance(message, IDERCommandWritten):
                for reply in self.drives.handle(message):
                    self._send(reply)

    def close(self) -> None:
        self.sock.close()
