"""pytest plugin (entry point ``pytest11``): simulated AMT devices as fixtures.

Installed with amtkit, so any test suite can do::

    def test_reboot(amt_device):
        with amtkit.Client(amt_device.host, port=amt_device.port,
                           username=amt_device.username, password=amt_device.password) as amt:
            amt.power.request("cycle")

``amt_device`` is a fresh device per test on a free loopback port (instant power transitions);
``amt_simulator`` is the session-wide :class:`amtsim.Simulator` that hosts them, for tests that
want to add devices of their own or use ``amt_device.control`` to inject faults.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from amtsim import SimulatedDevice, Simulator
    from amtsim.control import DeviceControl


@dataclass
class AMTDeviceInfo:
    """Where a simulated device listens and how to log in to it."""

    host: str
    port: int
    tls_port: int | None
    username: str
    password: str
    tls_sha256: str | None
    device: SimulatedDevice
    control: DeviceControl

    def client_kwargs(self) -> dict[str, object]:
        return {"port": self.port, "username": self.username, "password": self.password}


@pytest.fixture(scope="session")
def amt_simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    """The session's simulator (:class:`amtsim.Simulator`), serving on loopback in a background thread.

    Add devices of your own with ``amt_simulator.add_device(DeviceConfig(http_port=0, ...))`` (and
    ``remove_device`` when done); its TLS certificate is ``amt_simulator.certificate``.
    """
    from amtsim import Simulator

    simulator = Simulator(cert_dir=tmp_path_factory.mktemp("amtsim-cert"))
    with simulator:
        yield simulator


@pytest.fixture
def amt_device(amt_simulator: Simulator) -> Iterator[AMTDeviceInfo]:
    """A fresh simulated AMT 16.1 device for one test, on free loopback ports, power changes instant.

    ``amt_device.host``/``port``/``tls_port``/``username``/``password`` to connect
    (``amtkit.Client(amt_device.host, **amt_device.client_kwargs())``), ``tls_sha256`` to pin its
    certificate, and ``amt_device.control`` (:class:`amtsim.control.DeviceControl`) to read or set
    its state and inject faults. Removed after the test.
    """
    from amtsim import DeviceConfig, Timing
    from amtsim.control import DeviceControl

    config = DeviceConfig(http_port=0, tls_port=0, timing=Timing(power_transition=0, power_off_phase=0))
    device = amt_simulator.add_device(config)
    try:
        yield AMTDeviceInfo(
            host=config.address, port=config.http_port, tls_port=config.tls_port, username=config.username,
            password=config.password, tls_sha256=amt_simulator.tls_sha256(device), device=device,
            control=DeviceControl(device),
        )
    finally:
        amt_simulator.remove_device(device)
