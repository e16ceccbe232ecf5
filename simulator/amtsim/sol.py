"""The firmware half of Serial-over-LAN: one SOL session between a console and the host console.

A :class:`FirmwareSOL` is created by the redirection listener (:mod:`amtsim.redirection`) when an
authenticated console sends ``StartSOLRedirection``; it lives on the listener's event loop:

* it answers 0x21, then reports the host's control lines and power (0x29) and starts forwarding
  what the host prints (:mod:`amtsim.backends.serial`) as data-from-host (0x2A), at most the
  console's ``MaxTxBuffer`` a message.  The first two go out a moment apart from the reply, each in
  its own write: amtterm drops whatever shares a read with those two messages;
* keystrokes (0x28) are typed on the host console; the serial settings MeshCommander sends (0x27),
  heartbeats and pongs are taken; a keep-alive ping is answered;
* it heartbeats (0x2B) at the interval the console asked for (amtterm echoes them back, which keeps
  its session from the idle cut-off) and reports the host's power whenever it changes;
* ``EndSOLRedirection`` is answered (0x23) and the session goes back to its authenticated state.

Sequence numbers of the console are not checked: amtterm sends 0 in every message and MeshCommander
starts at 1, and both work on real AMT.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from amtkit.codes import PowerState
from amtkit.redirection.messages import (
    RedirectionMessage,
    SequencedMessage,
    SOLControlsFromHost,
    SOLDataFromHost,
    SOLDataToHost,
    SOLHeartbeat,
    SOLKeepAlivePing,
    SOLKeepAlivePong,
    SOLSerialSettings,
    SOLStatus,
    StartSOLRedirection,
    StartSOLRedirectionReply,
)

from .backends.serial import host_console_of
from .device import SimulatedDevice

__all__ = ["FirmwareSOL", "SOL_SETTLE_SECONDS"]

SOL_SETTLE_SECONDS = 0.02
"""Gap between the start reply, the first control report and the first host output (see the module docstring)."""
_MAX_PENDING = 1 << 20
"""Host output kept while the first writes settle; beyond it the oldest is dropped, like a UART overrun."""


class FirmwareSOL:
    """One SOL session's firmware state; see the module docstring."""

    def __init__(self, device: SimulatedDevice, loop: asyncio.AbstractEventLoop,
                 send: Callable[[SequencedMessage], None], request: StartSOLRedirection) -> None:
        self.device = device
        self.loop = loop
        self.send = send
        self.max_chunk = max(1, min(request.max_tx_buffer or 0xFFFF, 0xFFFF))
        self.heartbeat = request.heartbeat / 1000
        self.keys_typed = 0
        self._pending = bytearray()
        self._flowing = False
        self._power_reported: bool | None = None
        self._closed = False

    # -- life cycle ------------------------------------------------------------------------------
    def start(self) -> None:
        self.send(StartSOLRedirectionReply())
        with self.device.lock:
            host_console_of(self.device).attach(self._from_host_thread)
        self.loop.call_later(SOL_SETTLE_SECONDS, self._report_power)
        self.loop.call_later(2 * SOL_SETTLE_SECONDS, self._start_flowing)

    def stop(self) -> None:
        if self._closed:
            return
        self._closed = True
        with self.device.lock:
            host_console_of(self.device).detach(self._from_host_thread)

    # -- host -> console -------------------------------------------------------------------------
    def _from_host_thread(self, data: bytes) -> None:
        """The host console's listener: any thread, device lock held."""
        self.loop.call_soon_threadsafe(self._from_host, data)

    def _from_host(self, data: bytes) -> None:
        if self._closed:
            return
        self._pending += data
        if len(self._pending) > _MAX_PENDING:
            del self._pending[: len(self._pending) - _MAX_PENDING]
        if self._flowing:
            self._flush()

    def _start_flowing(self) -> None:
        if not self._closed:
            self._flowing = True
            self._flush()

    def _flush(self) -> None:
        while self._pending:
            chunk = bytes(self._pending[: self.max_chunk])
            del self._pending[: self.max_chunk]
            self.send(SOLDataFromHost(data=chunk))

    def _report_power(self) -> None:
        if self._closed:
            return
        with self.device.lock:
            powered = self.device.power.state is PowerState.ON
        self._power_reported = powered
        status = SOLStatus.POWER_ON if powered else SOLStatus.NONE
        self.send(SOLControlsFromHost(control=0, status=int(status)))

    # -- console -> host -------------------------------------------------------------------------
    def handle(self, message: RedirectionMessage) -> bool:
        """Take a message of the SOL phase; ``False`` when it is not one."""
        if isinstance(message, SOLDataToHost):
            self.keys_typed += len(message.data)
            with self.device.lock:
                host_console_of(self.device).type(message.data)
        elif isinstance(message, SOLKeepAlivePing):
            self.send(SOLKeepAlivePong())
        elif not isinstance(message, (SOLHeartbeat, SOLKeepAlivePong, SOLSerialSettings)):
            return False
        return True

    # -- timers ----------------------------------------------------------------------------------
    def tick(self, quiet_for: float) -> None:
        """Called by the session's timer: heartbeat when quiet, report a power change."""
        if self._closed:
            return
        if self.heartbeat > 0 and quiet_for >= self.heartbeat:
            self.send(SOLHeartbeat())
        if self._power_reported is not None:
            with self.device.lock:
                powered = self.device.power.state is PowerState.ON
            if powered != self._power_reported:
                self._report_power()
