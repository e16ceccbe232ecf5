"""The WS-Man connections of one device: a cap, per-phase deadlines, and refusals logged once.

Nothing a peer sends (or fails to send) can hold the device's resources for long:

* **Phases and deadlines** (:class:`Phase`, times from :class:`~amtsim.config.Timing`): a connection
  with nothing in progress is *idle* and is closed after ``http_idle_timeout`` (AMT too drops idle
  connections; consoles reconnect). A request whose head has begun must complete its head within
  ``http_header_timeout`` and its body within ``http_body_timeout`` (else 408 and close: a slow
  drip cannot hold a connection). A peer that stops reading our replies for ``http_send_timeout``
  is cut off. A request handed to a hung engine has no deadline (the console's own timeout ends it).
* **A cap** of ``DeviceConfig.max_http_connections`` per device (both WS-Man ports). At the cap, a
  new connection takes the place of the connection idle longest; when none is idle, the new one
  is refused. So idle connections held by an attacker cannot lock consoles out.
* **Refusals are logged once** per :data:`REFUSAL_LOG_INTERVAL` with their count, never once per
  attempt (a flood of connections must not become a flood of log lines).

One timer per device sweeps its connections (about four times per shortest deadline), rather
than one timer per connection being re-armed on every segment.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections import OrderedDict
from typing import Protocol

from .config import Timing

__all__ = ["ConnectionTable", "Phase", "REFUSAL_LOG_INTERVAL"]

log = logging.getLogger(__name__)

REFUSAL_LOG_INTERVAL = 10.0
"""Seconds between two log lines about refused connections of one device."""


class Phase(enum.Enum):
    IDLE = "idle"
    """Nothing in progress: between requests, or before the first."""
    HEAD = "head"
    """Part of a request head has arrived."""
    BODY = "body"
    """The head is complete, the body is arriving."""
    BUSY = "busy"
    """Requests handed to the device, replies not all written (a hung engine stays here)."""
    SEND_BLOCKED = "send-blocked"
    """Our replies are not being read: reading is paused until they are."""


class Guarded(Protocol):
    """What the table needs of a connection."""

    phase: Phase
    phase_since: float

    def expire(self, phase: Phase) -> None:
        """The deadline of ``phase`` passed: close the connection (with a 408 where it fits)."""

    def evict(self) -> None:
        """Close an idle connection to make room for a new one."""


class ConnectionTable:
    """The open WS-Man connections of one device (see the module docstring)."""

    def __init__(self, device_name: str, timing: Timing, cap: int) -> None:
        self.device_name = device_name
        self.timing = timing
        self.cap = cap
        self._open: set[Guarded] = set()
        self._idle: OrderedDict[Guarded, None] = OrderedDict()
        """The idle connections, longest idle first."""
        self._timer: asyncio.TimerHandle | None = None
        self.refused = 0
        """Connections refused at the cap, in total."""
        self.evicted = 0
        self.expired: dict[str, int] = {phase.value: 0 for phase in Phase}
        self._refused_unlogged = 0
        self._last_refusal_log = float("-inf")

    def __len__(self) -> int:
        return len(self._open)

    def admit(self, connection: Guarded) -> bool:
        """Take a new connection; at the cap the longest-idle one makes room, or the new one is refused."""
        if len(self._open) >= self.cap:
            if not self._idle:
                self._refuse()
                return False
            oldest = next(iter(self._idle))
            self.discard(oldest)
            self.evicted += 1
            oldest.evict()
        self._open.add(connection)
        self.moved(connection)
        self._arm()
        return True

    def discard(self, connection: Guarded) -> None:
        self._open.discard(connection)
        self._idle.pop(connection, None)

    def moved(self, connection: Guarded) -> None:
        """``connection`` changed phase: keep the idle order."""
        if connection.phase is Phase.IDLE and connection in self._open:
            self._idle.pop(connection, None)
            self._idle[connection] = None
        else:
            self._idle.pop(connection, None)

    def _refuse(self) -> None:
        self.refused += 1
        self._refused_unlogged += 1
        now = asyncio.get_running_loop().time()
        if now - self._last_refusal_log >= REFUSAL_LOG_INTERVAL:
            log.warning("%s: %d connection(s) refused: all %d connections are busy", self.device_name,
                        self._refused_unlogged, self.cap)
            self._refused_unlogged, self._last_refusal_log = 0, now

    # -- deadlines -------------------------------------------------------------------------------
    def _limit(self, phase: Phase) -> float | None:
        timing = self.timing
        return {Phase.IDLE: timing.http_idle_timeout, Phase.HEAD: timing.http_header_timeout,
                Phase.BODY: timing.http_body_timeout, Phase.SEND_BLOCKED: timing.http_send_timeout}.get(phase)

    def _interval(self) -> float:
        timing = self.timing
        shortest = min(timing.http_idle_timeout, timing.http_header_timeout, timing.http_body_timeout,
                       timing.http_send_timeout)
        return min(1.0, max(0.02, shortest / 4))

    def _arm(self) -> None:
        if self._timer is None and self._open:
            self._timer = asyncio.get_running_loop().call_later(self._interval(), self._sweep)

    def _sweep(self) -> None:
        self._timer = None
        now = asyncio.get_running_loop().time()
        for connection in list(self._open):
            limit = self._limit(connection.phase)
            if limit is not None and limit > 0 and now - connection.phase_since >= limit:
                self.expired[connection.phase.value] += 1
                self.discard(connection)
                connection.expire(connection.phase)
        self._arm()

    def close_all(self) -> None:
        """The device stops: close every connection and the timer."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for connection in list(self._open):
            self.discard(connection)
            connection.evict()

    def stats(self) -> dict[str, int]:
        return {"open": len(self._open), "refused": self.refused, "evicted": self.evicted,
                **{f"expired_{phase}": count for phase, count in self.expired.items() if count}}
