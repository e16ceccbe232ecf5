"""amtsim: an Intel AMT firmware simulator that answers on the wire like AMT.

Start one in a test::

    from amtsim import Simulator, DeviceConfig
    with Simulator() as sim:
        device = sim.add_device(DeviceConfig(http_port=0, tls_port=None))
        ...

Device state lives in backends (:mod:`amtsim.backends`), wire translation in handlers
(:mod:`amtsim.handlers`), one module per AMT service.
"""

from __future__ import annotations

from .config import DeviceConfig, Faults, Timing
from .device import SimulatedDevice
from .server import Simulator

__all__ = ["DeviceConfig", "Faults", "SimulatedDevice", "Simulator", "Timing"]
