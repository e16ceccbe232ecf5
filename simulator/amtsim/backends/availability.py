"""Whether the management engine answers a request at all: hung engines and devices that come and go.

Real fleets have machines whose TCP stack accepts a connection while the engine behind it never
answers (a hung ME), and machines that answer for a while and then fall silent (unplugged, asleep,
rebooting). The wire side asks :meth:`Availability.answers` once per HTTP request it has read; a
``False`` means the request is swallowed: no reply, the connection stays open, as on the real thing.
This is a fault of the firmware, not an idle connection: the server's own idle and read timeouts do
not apply to a request the engine is (never) working on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from ..config import Faults

__all__ = ["Availability"]


@dataclass
class Availability:
    """The answer-or-not state of one device, driven by its :class:`~amtsim.config.Faults` switches."""

    faults: Faults
    clock: Callable[[], float] = time.monotonic
    answered: int = 0
    """Requests answered since the device last came (back) up."""
    silent_since: float | None = None
    """When the device went silent (``silent_after_requests``), or ``None`` while it answers."""

    def answers(self) -> bool:
        """Count one received request; whether the device answers it."""
        faults = self.faults
        if faults.hang:
            return False
        limit = faults.silent_after_requests
        if limit <= 0:
            return True
        if self.silent_since is not None:
            if faults.silent_for <= 0 or self.clock() - self.silent_since < faults.silent_for:
                return False
            self.silent_since = None  # back up: it answers another round
            self.answered = 0
        if self.answered >= limit:
            self.silent_since = self.clock()
            return False
        self.answered += 1
        return True
