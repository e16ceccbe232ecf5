"""The fixtures the IDE-R and SOL tests share: a simulated device with a redirection listener, a client of it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from ider_e2e import client_for, ider_device

from amtkit.client import Client
from amtkit.pytest_plugin import AMTDeviceInfo


@pytest.fixture
def device(amt_simulator) -> Iterator[AMTDeviceInfo]:  # type: ignore[no-untyped-def]
    """A simulated device with a plain redirection listener on a free port."""
    with ider_device(amt_simulator) as info:
        yield info


@pytest.fixture
def client(device: AMTDeviceInfo) -> Iterator[Client]:
    """A client of :func:`device` (SOL tests override it to point ``client.sol`` at the listener)."""
    with client_for(device) as amt:
        yield amt
