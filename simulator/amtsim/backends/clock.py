"""AMT's own real-time clock: wall time plus an offset that a console's time synchronization sets.

``GetLowAccuracyTimeSynch`` reads it (``Ta0``, seconds since 1970, UTC); ``SetHighAccuracyTimeSynch``
sets it from the console's time (``Tm1``, sent with the ``Ta0`` it read): AMT's clock then reads
``Tm1`` plus the time since. A ``Ta0`` that is not the value AMT gave out recently is refused
(INVALID_PARAMETER), as the SDK describes the exchange.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from amtkit.codes import PTStatus

if TYPE_CHECKING:
    from ..device import SimulatedDevice

__all__ = ["CLOCK_KEY", "AmtClock", "clock_of"]

CLOCK_KEY = "clock"
TA0_VALID_SECONDS = 300


@dataclass
class AmtClock:
    offset: float = 0.0
    wall: Callable[[], float] = time.time
    issued: dict[int, float] = field(default_factory=dict)
    """``Ta0`` values handed out, with the wall time they were handed out at."""

    def now(self) -> int:
        return int(self.wall() + self.offset)

    def read(self) -> int:
        ta0 = self.now()
        self.issued[ta0] = self.wall()
        return ta0

    def set(self, ta0: int, tm1: int) -> int:
        issued_at = self.issued.pop(ta0, None)
        if issued_at is None or self.wall() - issued_at > TA0_VALID_SECONDS:
            return int(PTStatus.INVALID_PARAMETER)
        self.offset = tm1 - self.wall()
        return int(PTStatus.SUCCESS)


def clock_of(device: SimulatedDevice) -> AmtClock:
    return device.extension(CLOCK_KEY, AmtClock, AmtClock)
