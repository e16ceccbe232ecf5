"""The ``sim_fleet`` fixtures (see :mod:`fleetsim`): per test, and per module for tests that only read."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest
from fleetsim import SimFleet, amtkit_path, build_fleet


def _factory(amt_simulator) -> Iterator:  # type: ignore[no-untyped-def]
    created: list[SimFleet] = []

    def make(count: int, mix: str = "", delay: tuple[float, float] = (0.0, 0.0), seed: int = 1,
             **defaults: object) -> SimFleet:
        net = build_fleet(amt_simulator, count, mix, delay, seed, **defaults)
        created.append(net)
        return net

    yield make
    for net in created:
        for device in net.devices.values():
            amt_simulator.remove_device(device)


@pytest.fixture
def sim_fleet(amt_simulator) -> Iterator:  # type: ignore[no-untyped-def]
    """``sim_fleet(count, mix="hung=10%,...", delay=(0.0, 0.0), seed=1, **scenario_defaults)`` -> :class:`SimFleet`."""
    yield from _factory(amt_simulator)


@pytest.fixture(scope="module")
def module_fleet(amt_simulator) -> Iterator:  # type: ignore[no-untyped-def]
    """:func:`sim_fleet` whose fleets live as long as the test module."""
    yield from _factory(amt_simulator)


@pytest.fixture
def cli(tmp_path):  # type: ignore[no-untyped-def]
    store = tmp_path / "amtkit.db"
    env = {**os.environ, "AMT_PASSWORD": "P@ssw0rd", "AMTKIT_STORE": str(store), "AMTKIT_OPERATOR": "alice"}

    def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run([amtkit_path(), *args], capture_output=True, text=True, env=env,
                              stdin=subprocess.DEVNULL, timeout=timeout)

    def start(*args: str) -> subprocess.Popen[str]:
        return subprocess.Popen([amtkit_path(), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=env, stdin=subprocess.DEVNULL)

    run.start = start  # type: ignore[attr-defined]
    run.store = store  # type: ignore[attr-defined]
    return run
