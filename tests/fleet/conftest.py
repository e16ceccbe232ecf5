"""The ``sim_fleet`` fixture (see :mod:`fleetsim`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fleetsim import PASSWORD, SimFleet, free_block


@pytest.fixture
def sim_fleet(amt_simulator) -> Iterator:  # type: ignore[no-untyped-def]
    """``sim_fleet(count, mix="hung=10%,...", delay=(0.0, 0.0), seed=1)`` -> :class:`SimFleet`."""
    from amtsim.fleetgen import FleetSpec, generate, parse_mix
    from amtsim.scenario import parse_scenario

    created = []

    def make(count: int, mix: str = "", delay: tuple[float, float] = (0.0, 0.0), seed: int = 1) -> SimFleet:
        first, port = free_block()
        scenario = generate(FleetSpec(count=count, mix=parse_mix(mix), delay=delay, first_address=first, seed=seed,
                                      password=PASSWORD))
        scenario["defaults"]["http_port"] = port
        configs = parse_scenario(scenario, "test fleet")
        devices = {}
        for config in configs:
            device = amt_simulator.add_device(config)
            created.append(device)
            devices[config.address] = device
        return SimFleet([c.address for c in configs], port, {c.address: c.condition for c in configs}, devices)

    yield make
    for device in created:
        amt_simulator.remove_device(device)
