"""Serial-over-LAN sessions: the host's serial console as a byte stream.

::

    with client.sol.session() as console:
        console.read_until(b"login: ", timeout=60)
        console.write(b"root\\r")
        print(console.read(timeout=1.0).decode(errors="replace"))

A :class:`SOLSession` owns one connection to the redirection port (16994/16995), set up by the
shared core (:class:`~amtkit.redirection.connection.RedirectionConnection`: session start, and
authentication as the device offers it).  Then:

1. ``StartSOLRedirection`` (0x20) with :class:`SOLParameters` (the firmware's transmit buffer and
   timeouts, its heartbeat interval), its reply (0x21), and the serial settings message (0x27) that
   MeshCommander, MeshCentral and Intel's ui-toolkit send next;
2. a background thread receives: host output (0x2A) is buffered for :meth:`SOLSession.read`,
   control lines and host power (0x29) update :attr:`SOLSession.host_status`, keep-alive pings are
   answered, firmware heartbeats ignored.  The console sends a heartbeat (0x2B) whenever it has been
   quiet for ``keepalive`` seconds, as MeshCommander does every 2 s: AMT ends a SOL session it hears
   nothing from (see ``docs/sol.md``);
3. :meth:`SOLSession.write` sends keystrokes (0x28), from any thread;
4. :meth:`SOLSession.close` ends cleanly: ``EndSOLRedirection`` (0x22), its reply, ``EndRedirectionSession``.

An error ends the session and is raised by the next :meth:`~SOLSession.read` / :meth:`~SOLSession.write`.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .. import exceptions as exc
from ..config import Timeout, TLSConfig
from ..http.digest import Credentials
from ..lazylog import logger_ready
from ..redirection.connection import RedirectionConnection, ServingThread, SessionStopping
from ..redirection.messages import (
    REDIRECTION_PORT,
    REDIRECTION_TLS_PORT,
    AuthType,
    EndRedirectionSession,
    EndSOLRedirection,
    EndSOLRedirectionReply,
    RedirectionMessage,
    RedirectionProtocolError,
    SessionType,
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

if TYPE_CHECKING:
    from ..client import Client

__all__ = ["SOLControl", "SOLParameters", "SOLSession", "SOLSessionClosed", "SOLTimeout"]

log = logger_ready(__name__)  # with amtkit's NullHandler (amtkit.lazylog)

_MAX_WRITE = 1024
"""Keystrokes per data-to-host message (what one terminal read gives, with room to spare)."""
_CLOSE_WAIT_SECONDS = 2.0
_SOL_HINT = ("check that SOL is on: client.redirection.enable(ider=None, sol=True) (AMT_RedirectionService EnabledState "
             "32770/32771 and ListenerEnabled), and that SOL is allowed in the MEBx")


class SOLTimeout(exc.AMTError):
    """What was waited for did not arrive on the console in time."""

    category = "timeout"

    def __init__(self, message: str, *, received: bytes = b"", host: str | None = None) -> None:
        super().__init__(message, host=host)
        self.received = received
        """What did arrive meanwhile (it stays readable too)."""


class SOLSessionClosed(exc.AMTError):
    """The session was closed by :meth:`SOLSession.close` (reading or writing after that)."""

    category = "cancelled"


@dataclass(frozen=True)
class SOLParameters:
    """The settings of ``StartSOLRedirection``; defaults are MeshCommander's.

    AMT sends host output once ``max_tx_buffer`` bytes are collected or ``tx_timeout_ms`` pass;
    ``rx_timeout_ms`` is the session's receive timeout; ``heartbeat_ms`` (0: none) how often the
    firmware heartbeats.
    """

    max_tx_buffer: int = 10000
    tx_timeout_ms: int = 100
    tx_overflow_timeout_ms: int = 0
    rx_timeout_ms: int = 10000
    rx_flush_timeout_ms: int = 100
    heartbeat_ms: int = 0

    def message(self) -> StartSOLRedirection:
        return StartSOLRedirection(
            max_tx_buffer=self.max_tx_buffer, tx_timeout=self.tx_timeout_ms,
            tx_overflow_timeout=self.tx_overflow_timeout_ms, rx_timeout=self.rx_timeout_ms,
            rx_flush_timeout=self.rx_flush_timeout_ms, heartbeat=self.heartbeat_ms)


class SOLSession:
    """One SOL session to one AMT device; see the module docstring.

    Parameters:
        host, credentials: the device and the account AMT checks (the WS-Man account).
        port: the redirection port (16994, or 16995 with ``tls``).
        tls: a :class:`~amtkit.config.TLSConfig`, as for WS-Man.
        timeout: connect and answer timeouts of the set-up phase.
        parameters: :class:`SOLParameters` sent to the firmware.
        keepalive: seconds of quiet after which the console sends a heartbeat.
    """

    def __init__(self, host: str, credentials: Credentials, *, port: int | None = None,
                 tls: TLSConfig | None = None, timeout: Timeout | float | None = None,
                 parameters: SOLParameters | None = None, keepalive: float = 2.0) -> None:
        if keepalive <= 0:
            raise ValueError("keepalive must be positive seconds")
        self.host = host
        self.port = port or (REDIRECTION_TLS_PORT if tls is not None else REDIRECTION_PORT)
        self.parameters = parameters or SOLParameters()
        self.keepalive = keepalive
        timeouts = Timeout(float(timeout)) if isinstance(timeout, (int, float)) else (timeout or Timeout())
        self._conn = RedirectionConnection(host, credentials, port=self.port, tls=tls, timeout=timeouts,
                                           feature="SOL", hint=_SOL_HINT)
        self.host_status: SOLControlsFromHost | None = None
        """The last control lines and host status the firmware reported (0x29), if any."""
        self.error: exc.AMTError | None = None
        self._buffer = bytearray()
        self._changed = threading.Condition()
        self._ended = False
        self._serving = ServingThread()

    def __repr__(self) -> str:
        state = "open" if self.running else ("new" if self._serving.thread is None else "ended")
        return f"SOLSession({self.host!r}, port={self.port}, {state})"

    @property
    def running(self) -> bool:
        return self._serving.thread is not None and not self._ended

    @property
    def auth_method(self) -> AuthType | None:
        """How the session authenticated (the best method the firmware offered)."""
        return self._conn.auth_method

    @property
    def host_powered(self) -> bool | None:
        """Whether the host is powered on, as AMT last said (``None`` before it said anything)."""
        return None if self.host_status is None else bool(self.host_status.status & SOLStatus.POWER_ON)

    # -- set-up ----------------------------------------------------------------------------------
    def start(self) -> SOLSession:
        """Connect, authenticate, start SOL and the receiving thread. Raises what went wrong."""
        if self._serving.thread is not None:
            raise exc.LocalProtocolError("a SOL session starts once", host=self.host)
        inbox: deque[RedirectionMessage] = deque()
        try:
            self._conn.open(SessionType.SOL, inbox, self._routine)
            self._conn.send_sequenced(self.parameters.message())
            reply = self._conn.expect(StartSOLRedirectionReply, inbox, self._routine)
            if not reply.ok:
                raise exc.FeatureUnavailableError(f"the device refused to start SOL (status {reply.status})",
                                                  host=self.host, hint=_SOL_HINT)
            self._conn.send_sequenced(SOLSerialSettings())
            for message in inbox:
                self._dispatch(message)
        except BaseException:
            self._abandon()
            raise
        assert self._conn.sock is not None
        self._conn.sock.settimeout(None)
        self._serving.start(self._run, f"sol-{self.host}")
        return self

    def __enter__(self) -> SOLSession:
        return self.start() if self._serving.thread is None else self

    def __exit__(self, exc_type: type[BaseException] | None, exc_value: BaseException | None, tb: object) -> None:
        self.close()

    # -- the stream ------------------------------------------------------------------------------
    def read(self, max_bytes: int = -1, timeout: float | None = None) -> bytes:
        """Host output: what is buffered (up to ``max_bytes``), waiting up to ``timeout`` seconds
        (``None``: for ever) while nothing is.  ``b""`` when the time passed with nothing, or the
        session has ended and everything was read; an error that ended it is raised instead."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._changed:
            while not self._buffer and not self._ended:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return b""
                self._changed.wait(remaining)
            if not self._buffer:
                self._raise_error()
                return b""
            count = len(self._buffer) if max_bytes < 0 else min(max_bytes, len(self._buffer))
            data = bytes(self._buffer[:count])
            del self._buffer[:count]
            return data

    def read_until(self, expected: bytes, timeout: float) -> bytes:
        """Everything up to and including ``expected`` (the rest stays buffered).

        Raises :class:`SOLTimeout` (with what arrived, left readable) if it does not come within
        ``timeout`` seconds, and the session's error if it ends first."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = self._buffer.find(expected)
                if found >= 0:
                    end = found + len(expected)
                    data = bytes(self._buffer[:end])
                    del self._buffer[:end]
                    return data
                if self._ended:
                    self._raise_error()
                    raise SOLSessionClosed(f"the SOL session ended before {expected!r} arrived", host=self.host)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise SOLTimeout(f"{expected!r} did not arrive on the console within {timeout:g} s",
                                     received=bytes(self._buffer), host=self.host)
                self._changed.wait(remaining)

    def write(self, data: bytes) -> None:
        """Send keystrokes to the host's serial port (any thread)."""
        if self._ended or self._serving.thread is None:
            self._raise_error()
            raise SOLSessionClosed("the SOL session is not open", host=self.host)
        for offset in range(0, len(data), _MAX_WRITE):
            self._conn.send_sequenced(SOLDataToHost(data=bytes(data[offset : offset + _MAX_WRITE])))

    def close(self, timeout: float = 10.0) -> None:
        """End the session cleanly (from any thread); returns once it is closed. Idempotent."""
        if self._serving.stop(timeout):  # no serving thread to clean up
            self._abandon()
            self._end()

    def _raise_error(self) -> None:
        if self.error is not None:
            raise self.error

    # -- receiving (background thread) -----------------------------------------------------------
    def _run(self) -> None:
        try:
            self._serve()
        except SessionStopping:
            self._close_cleanly()
        except exc.AMTError as error:
            if error.host is None:
                error.host = self.host
            self.error = error
            log.debug("SOL session to %s ended: %s", self.host, error)
        except Exception as error:  # a bug must still end the session and reach the reader
            log.exception("SOL session to %s failed", self.host)
            self.error = exc.AMTError(f"the SOL session failed: {error!r}", host=self.host)
        finally:
            self._abandon()
            self._end()

    def _serve(self) -> None:
        conn = self._conn
        with self._serving.watch(conn) as readable:
            while True:
                if readable(max(0.0, conn.last_sent + self.keepalive - time.monotonic())):
                    for message in conn.receive():
                        self._dispatch(message)
                if time.monotonic() - conn.last_sent >= self.keepalive:
                    conn.send_sequenced(SOLHeartbeat())

    def _routine(self, message: RedirectionMessage) -> bool:
        """Handle what may come at any time; ``False`` for anything else."""
        if isinstance(message, (SOLHeartbeat, SOLKeepAlivePong)):
            return True
        if isinstance(message, SOLKeepAlivePing):
            self._conn.send_sequenced(SOLKeepAlivePong())
            return True
        if isinstance(message, SOLControlsFromHost):
            self.host_status = message
            return True
        return False

    def _dispatch(self, message: RedirectionMessage) -> None:
        if isinstance(message, SOLDataFromHost):
            with self._changed:
                self._buffer += message.data
                self._changed.notify_all()
        elif self._routine(message):
            pass
        elif isinstance(message, EndSOLRedirectionReply):
            raise exc.UnreachableError("the device ended the SOL session", host=self.host)
        else:
            raise RedirectionProtocolError(f"unexpected {message.TYPE.name} during SOL", message_type=message.TYPE,
                                           host=self.host)

    def _close_cleanly(self) -> None:
        """``EndSOLRedirection``, wait briefly for its reply, ``EndRedirectionSession``."""
        conn = self._conn
        try:
            conn.send_sequenced(EndSOLRedirection())
            assert conn.sock is not None
            conn.sock.settimeout(_CLOSE_WAIT_SECONDS)
            deadline = time.monotonic() + _CLOSE_WAIT_SECONDS
            while time.monotonic() < deadline:
                messages = conn.receive()
                for message in messages:
                    if isinstance(message, SOLDataFromHost):
                        self._dispatch(message)
                if any(isinstance(m, EndSOLRedirectionReply) for m in messages):
                    break
            conn.send(EndRedirectionSession())
        except exc.AMTError as error:
            log.debug("SOL close to %s was not clean: %s", self.host, error)

    def _abandon(self) -> None:
        self._conn.close()
        self._serving.close()

    def _end(self) -> None:
        with self._changed:
            self._ended = True
            self._changed.notify_all()


@dataclass
class SOLControl:
    """``client.sol``: SOL sessions to the client's device, with its credentials and TLS settings.

    ``port`` overrides the redirection port for every session (default 16994, or 16995 with TLS).
    """

    client: Client
    port: int | None = None

    def session(self, *, port: int | None = None, parameters: SOLParameters | None = None,
                keepalive: float = 2.0) -> SOLSession:
        """A :class:`SOLSession` (start it with ``with`` or :meth:`SOLSession.start`)."""
        credentials = self.client.transport.credentials
        if credentials is None:
            raise exc.AuthenticationError("SOL needs the device's credentials; the client has none",
                                          host=self.client.host)
        return SOLSession(self.client.host, credentials, port=port or self.port, tls=self.client.transport.tls,
                          timeout=self.client.transport.timeout, parameters=parameters, keepalive=keepalive)
