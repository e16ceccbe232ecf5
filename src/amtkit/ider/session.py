"""IDE-R sessions: lend an AMT host a CD or floppy drive whose sectors come from a local image.

::

    with client.ider.session("rescue.iso", device="cd") as s:
        client.boot.boot_once("ider-cd", then="reset")
        delivered = s.wait_for_boot(timeout=120)
        print(delivered.stats.bytes_served)

    client.ider.boot("rescue.iso", device="cd", timeout=120)      # the same, in one call

An :class:`IDERSession` owns one TCP (or TLS) connection to the redirection port (16994/16995):

1. in :meth:`~IDERSession.start` (the caller's thread): connect, ``StartRedirectionSession("IDER")``,
   digest authentication with the client's credentials (query, digest start, challenge, answer),
   ``StartIDERRedirection`` with the timeouts and heartbeat, the firmware's read buffer size taken
   from its reply, then the devices enabled (``DisableEnableFeatures``).  Every failure raises at once
   with its own type (:class:`~amtkit.exceptions.AuthenticationError`, ...);
2. then a background thread serves: each "command written" goes to
   :class:`~amtkit.ider.scsi.IDERDriveSet` and its replies are sent as they are read from the image
   (one read buffer at a time, so memory stays flat whatever the image size); pings are answered,
   a reset is acknowledged, a heartbeat goes out whenever the console has been quiet for the
   heartbeat interval, and a firmware silent for ``idle_timeout`` ends the session;
3. :meth:`~IDERSession.stop` (from any thread, or the ``with`` exit) closes cleanly:
   ``EndIDERRedirection``, its reply, ``EndRedirectionSession``.

An error ends the session and is kept: :meth:`~IDERSession.wait_for_boot` and
:meth:`~IDERSession.wait_closed` raise it, and so does the ``with`` exit if nobody has yet.  Protocol
violations are :class:`~amtkit.redirection.messages.RedirectionProtocolError`
(a :class:`~amtkit.exceptions.RemoteProtocolError`); lost or silent connections are
:class:`~amtkit.exceptions.TransportError`.

"Boot done", seen from the console, means the host has read every block of the image's boot
image (the El Torito boot image of a CD, the boot sector of a floppy), found with
:func:`amtkit.ider.eltorito.inspect_image` before serving.  The loaded system may go on reading
through the same drive: keep the session open as long as it runs.
"""

from __future__ import annotations

import contextlib
import enum
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO, TypeVar, Union

from .. import exceptions as exc
from ..config import Timeout, TLSConfig
from ..http.digest import Credentials
from ..lazylog import logger_ready
from ..redirection.connection import RedirectionConnection, ServingThread, SessionStopping
from ..redirection.messages import (
    IDER_FEATURES_TOGGLE_SUPPORTED,
    REDIRECTION_PORT,
    REDIRECTION_TLS_PORT,
    Device,
    EndIDERRedirection,
    EndIDERRedirectionReply,
    EndRedirectionSession,
    IDERCommandWritten,
    IDERDataToHost,
    IDERDisableEnableFeatures,
    IDERDisableEnableFeaturesReply,
    IDERErrorOccurred,
    IDERFeatureRequest,
    IDERHeartbeat,
    IDERKeepAlivePing,
    IDERKeepAlivePong,
    IDERResetOccurred,
    IDERResetOccurredResponse,
    IDERStartMode,
    RedirectionMessage,
    RedirectionProtocolError,
    SequencedMessage,
    SessionType,
    StartIDERRedirection,
    StartIDERRedirectionReply,
)
from .eltorito import BootImageInfo, inspect_image
from .scsi import IDERDriveSet, IDERReply, read_extent

if TYPE_CHECKING:
    from ..client import Client

__all__ = [
    "BootDelivery",
    "IDERBootTimeout",
    "IDERControl",
    "IDERImageNotBootable",
    "IDERSession",
    "IDERSessionCancelled",
    "IDERStats",
    "ImageSource",
    "SessionState",
    "parse_device",
]

log = logger_ready(__name__)  # with amtkit's NullHandler (amtkit.lazylog)

ImageSource = Union[str, "os.PathLike[str]", BinaryIO]
"""A path to an image file (opened read-only for the session) or an open binary file (left open)."""

_M = TypeVar("_M", bound=RedirectionMessage)

_SEND_BATCH = 64 * 1024
"""Replies are gathered up to this many bytes per ``sendall``: fewer system calls, same bytes."""
_RECV_SIZE = 256 * 1024
_CLOSE_WAIT_SECONDS = 2.0
_REDIRECTION_HINT = ("check that redirection is on: client.redirection.enable(ider=True) (AMT_RedirectionService "
                     "EnabledState 32769/32771 and ListenerEnabled), and that storage redirection is allowed in the MEBx")


class IDERSessionCancelled(exc.AMTError):
    """:meth:`IDERSession.stop` ended the session before what was waited for happened."""

    category = "cancelled"


class IDERBootTimeout(exc.AMTError):
    """The host did not read the boot image within the time given."""

    category = "timeout"


class IDERImageNotBootable(exc.AMTError):
    """The image has no boot image a BIOS would find (no El Torito record, no 55 AA signature...)."""

    category = "not-bootable"
    default_hint = "use an image made bootable for BIOS (El Torito, platform 80x86), or serve it as is with a session"


class SessionState(enum.Enum):
    NEW = "new"
    OPEN = "open"
    """Authenticated, IDE-R open, devices enabled; commands are served."""
    CLOSED = "closed"
    """Ended by :meth:`IDERSession.stop` (cleanly)."""
    FAILED = "failed"
    """Ended by an error (:attr:`IDERSession.error`)."""


def parse_device(device: Device | str) -> Device:
    """``"cd"``/``"dvd"``/``"floppy"`` (or a :class:`Device`) -> :class:`Device`."""
    if isinstance(device, Device):
        return device
    text = device.strip().lower()
    if text in ("cd", "dvd", "cd-rom", "cdrom", "iso"):
        return Device.CD
    if text in ("floppy", "fd", "img"):
        return Device.FLOPPY
    raise exc.UsageError(f"unknown IDE-R device {device!r}; valid: cd, floppy")


@dataclass(frozen=True)
class IDERStats:
    """What a session has served so far (a snapshot)."""

    commands: int = 0
    """Commands written by the host and answered."""
    reads: int = 0
    """READ commands among them."""
    check_conditions: int = 0
    """Commands answered with CHECK CONDITION (sense data)."""
    bytes_served: int = 0
    """Image and response bytes sent to the host (data-to-host payloads)."""
    boot_image_bytes: int = 0
    """Bytes of the boot image the host has read (each block counted once)."""
    resets: int = 0
    """Host IDE channel resets acknowledged."""
    seconds: float = 0.0
    """Since IDE-R was opened."""

    def to_dict(self) -> dict[str, object]:
        return {"commands": self.commands, "reads": self.reads, "check_conditions": self.check_conditions,
                "bytes_served": self.bytes_served, "boot_image_bytes": self.boot_image_bytes, "resets": self.resets,
                "seconds": round(self.seconds, 3)}


@dataclass(frozen=True)
class BootDelivery:
    """The host has read the whole boot image: what :meth:`IDERSession.wait_for_boot` returns."""

    device: Device
    image: BootImageInfo
    stats: IDERStats

    def to_dict(self) -> dict[str, object]:
        return {"device": self.device.name.lower(), "volume_id": self.image.volume_id,
                "boot_image": self.image.describe(), **self.stats.to_dict()}


class _BootWatch:
    """Which blocks of the boot image the host has read (each counted once)."""

    def __init__(self, info: BootImageInfo) -> None:
        self.lba = info.lba if info.bootable and info.lba is not None else 0
        self.blocks = info.blocks if info.bootable else 0
        self._seen = bytearray(self.blocks)
        self.remaining = self.blocks

    @property
    def armed(self) -> bool:
        return self.blocks > 0

    def mark(self, lba: int, count: int) -> int:
        """Record a read of ``count`` blocks at ``lba``; returns how many boot-image blocks were new."""
        start, end = max(lba, self.lba), min(lba + count, self.lba + self.blocks)
        new = 0
        for block in range(start - self.lba, end - self.lba):
            if not self._seen[block]:
                self._seen[block] = 1
                new += 1
        self.remaining -= new
        return new


def _open_image(source: ImageSource | None, stack: contextlib.ExitStack) -> BinaryIO | None:
    if source is None:
        return None
    if isinstance(source, (str, os.PathLike)):
        try:
            return stack.enter_context(open(source, "rb"))  # noqa: SIM115  (closed with the session)
        except OSError as error:
            raise exc.LocalProtocolError(f"cannot open the image {os.fspath(source)!r}: {error.strerror}") from error
    return source


class IDERSession:
    """One IDE-R session to one AMT device; see the module docstring.

    Parameters:
        host, credentials: the device and the digest user AMT checks (the WS-Man account).
        cd, floppy: the images of the two drives (a path or an open binary file; ``None``: empty).
        boot_device: the drive :meth:`wait_for_boot` watches (default: the CD if there is one).
        port: the redirection port (16994, or 16995 with ``tls``).
        tls: a :class:`~amtkit.config.TLSConfig`, as for WS-Man (verification, pinning, client certificate).
        timeout: connect and answer timeouts of the set-up phase.
        heartbeat: seconds; sent in the open request, and the console sends a heartbeat whenever it
            has sent nothing for that long.
        rx_timeout: seconds announced to the firmware as its receive timeout.
        idle_timeout: seconds without anything from the firmware after which the session is lost
            (default: three heartbeats or twice ``rx_timeout``, whichever is longer).
        start: when the host sees the drives (:class:`~amtkit.redirection.messages.IDERStartMode`).
    """

    def __init__(
        self,
        host: str,
        credentials: Credentials,
        *,
        cd: ImageSource | None = None,
        floppy: ImageSource | None = None,
        boot_device: Device | str | None = None,
        port: int | None = None,
        tls: TLSConfig | None = None,
        timeout: Timeout | float | None = None,
        heartbeat: float = 5.0,
        rx_timeout: float = 30.0,
        idle_timeout: float | None = None,
        start: IDERStartMode = IDERStartMode.GRACEFUL,
    ) -> None:
        if cd is None and floppy is None:
            raise exc.UsageError("an IDE-R session needs a CD or a floppy image")
        if not 0 < heartbeat <= 65.0 or not 0 < rx_timeout <= 65.0:
            raise exc.UsageError("heartbeat and rx_timeout must be 0 < s <= 65 (16-bit milliseconds on the wire)")
        self.host = host
        self.credentials = credentials
        self.tls = tls
        self.port = port or (REDIRECTION_TLS_PORT if tls is not None else REDIRECTION_PORT)
        self.timeout = Timeout(float(timeout)) if isinstance(timeout, (int, float)) else (timeout or Timeout())
        self.heartbeat = heartbeat
        self.rx_timeout = rx_timeout
        # AMT heartbeats at the interval asked for; the margin covers firmware that is slower to.
        self.idle_timeout = idle_timeout if idle_timeout is not None else max(3 * heartbeat, 2 * rx_timeout)
        self.start_mode = start
        self._files = contextlib.ExitStack()
        try:
            cd_file = _open_image(cd, self._files)
            floppy_file = _open_image(floppy, self._files)
            self.drives = IDERDriveSet(cd=cd_file, floppy=floppy_file)
            chosen = parse_device(boot_device) if boot_device is not None else (
                Device.CD if cd_file is not None else Device.FLOPPY)
            boot_file = cd_file if chosen is Device.CD else floppy_file
            if boot_file is None:
                raise exc.UsageError(f"no image for the boot device {chosen.name.lower()}")
            self.boot_device = chosen
            image = self.drives.drive(chosen).image
            assert image is not None
            self.boot_image: BootImageInfo = inspect_image(image, chosen)
            self._block_size = image.block_size
        except BaseException:
            self._files.close()
            raise
        self.state = SessionState.NEW
        self.error: exc.AMTError | None = None
        """The error that ended the session, if one did."""
        self.firmware: StartIDERRedirectionReply | None = None
        """The firmware's open reply: protocol and firmware versions, buffer sizes."""
        self._error_delivered = False
        self._conn = RedirectionConnection(host, credentials, port=self.port, tls=tls, timeout=self.timeout,
                                           feature="IDE-R", hint=_REDIRECTION_HINT, check_sequence=True)
        self._pending: deque[IDERCommandWritten] = deque()
        self._watch = _BootWatch(self.boot_image)
        self._serving = ServingThread()
        self._changed = threading.Condition()
        self._opened_at = 0.0
        self._counts = {"commands": 0, "reads": 0, "check_conditions": 0, "bytes_served": 0, "resets": 0}

    def __repr__(self) -> str:
        return f"IDERSession({self.host!r}, port={self.port}, device={self.boot_device.name.lower()}, {self.state.value})"

    # -- public ----------------------------------------------------------------------------------
    @property
    def stats(self) -> IDERStats:
        counts = self._counts
        seconds = time.monotonic() - self._opened_at if self._opened_at else 0.0
        return IDERStats(
            commands=counts["commands"], reads=counts["reads"], check_conditions=counts["check_conditions"],
            bytes_served=counts["bytes_served"], resets=counts["resets"], seconds=seconds,
            boot_image_bytes=(self._watch.blocks - self._watch.remaining) * self._block_size,
        )

    @property
    def boot_served(self) -> bool:
        """The host has read every block of the boot image."""
        return self._watch.armed and self._watch.remaining == 0

    @property
    def running(self) -> bool:
        return self.state is SessionState.OPEN

    @property
    def stop_requested(self) -> bool:
        """:meth:`stop` was called (the session may still be closing)."""
        return self._serving.stop_requested

    def start(self) -> IDERSession:
        """Connect, authenticate, open IDE-R and start serving. Raises what went wrong."""
        if self.state is not SessionState.NEW:
            raise exc.LocalProtocolError("an IDE-R session starts once", host=self.host)
        try:
            self._handshake()
        except BaseException as error:
            self._abandon()
            self.state = SessionState.FAILED
            if isinstance(error, exc.AMTError):
                self.error = error
                self._error_delivered = True
            raise
        self.state = SessionState.OPEN
        self._serving.start(self._run, f"ider-{self.host}")
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """End the session cleanly (from any thread); returns once it is closed. Idempotent."""
        if self._serving.stop(timeout):  # no serving thread to clean up
            self._abandon()
            if self.state is SessionState.NEW:
                self.state = SessionState.CLOSED

    close = stop

    def wait_for_boot(self, timeout: float, *, progress: Callable[[IDERStats], object] | None = None,
                      interval: float = 0.5) -> BootDelivery:
        """Block until the host has read the whole boot image; returns what was served.

        ``progress`` is called with the stats every ``interval`` seconds while waiting (the CLI
        draws its progress line with it).  Raises :class:`IDERImageNotBootable` at once when the
        image has no boot image, :class:`IDERBootTimeout` after ``timeout`` seconds, the session's
        error if it ended with one, :class:`IDERSessionCancelled` if :meth:`stop` ended it.
        """
        if not self.boot_image.bootable:
            raise IDERImageNotBootable(f"the {self.boot_device.name.lower()} image cannot boot: "
                                       f"{self.boot_image.reason}", host=self.host)
        deadline = time.monotonic() + timeout
        with self._changed:
            while not self.boot_served:
                self._raise_if_ended("before the host read the boot image")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise IDERBootTimeout(self._boot_timeout_message(timeout), host=self.host,
                                          hint=self._boot_timeout_hint())
                self._changed.wait(min(remaining, interval) if progress is not None else remaining)
                if progress is not None and not self.boot_served:
                    progress(self.stats)
        return BootDelivery(self.boot_device, self.boot_image, self.stats)

    def wait_closed(self, timeout: float | None = None) -> bool:
        """Block until the session ends (``False`` if ``timeout`` passed first); raises its error."""
        if self.state is SessionState.NEW:
            raise exc.LocalProtocolError("the IDE-R session was never started", host=self.host)
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._changed:
            while self.state in (SessionState.NEW, SessionState.OPEN):
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._changed.wait(remaining)
        if self.state is SessionState.FAILED and self.error is not None:
            self._error_delivered = True
            raise self.error
        return True

    def __enter__(self) -> IDERSession:
        return self.start() if self.state is SessionState.NEW else self

    def __exit__(self, exc_type: type[BaseException] | None, exc_value: BaseException | None,
                 tb: object) -> None:
        self.stop()
        if exc_type is None and self.error is not None and not self._error_delivered:
            self._error_delivered = True
            raise self.error

    # -- waiting helpers -------------------------------------------------------------------------
    def _raise_if_ended(self, what: str) -> None:
        if self.state is SessionState.FAILED and self.error is not None:
            self._error_delivered = True
            raise self.error
        if self.state is SessionState.CLOSED:
            raise IDERSessionCancelled(f"the IDE-R session was stopped {what}", host=self.host)

    def _boot_timeout_message(self, timeout: float) -> str:
        stats = self.stats
        if stats.commands == 0:
            return f"the host sent no IDE-R command within {timeout:g} s"
        return (f"the host did not read the whole boot image within {timeout:g} s: {stats.commands} commands "
                f"answered, {stats.boot_image_bytes} bytes of the {self.boot_image.describe()} read")

    def _boot_timeout_hint(self) -> str:
        if self.stats.commands == 0:
            return ("the host never used the IDE-R drive: was UseIDER set (client.boot.boot_once('ider-cd')) "
                    "and the host reset or powered on after the session opened?")
        return "the host's BIOS may have given up on the drive (see its screen), or it is slower than the timeout"

    def _notify(self) -> None:
        with self._changed:
            self._changed.notify_all()

    # -- set-up (caller's thread) ----------------------------------------------------------------
    def _send(self, message: RedirectionMessage) -> None:
        self._conn.send(message)

    def _send_sequenced(self, message: SequencedMessage) -> None:
        self._conn.send_sequenced(message)

    def _receive(self) -> list[RedirectionMessage]:
        return self._conn.receive()

    def _expect(self, kind: type[_M], inbox: deque[RedirectionMessage]) -> _M:
        """The next message, which must be a ``kind``; keep-alives are answered on the way."""
        while True:
            while not inbox:
                inbox.extend(self._receive())
            message = inbox.popleft()
            if isinstance(message, kind):
                return message
            if self._routine(message):
                continue
            if isinstance(message, IDERCommandWritten) and self.firmware is not None:
                self._pending.append(message)  # the host is early: serve it once the loop runs
                continue
            raise RedirectionProtocolError(f"expected {kind.__name__}, got {message.TYPE.name}",
                                           message_type=message.TYPE, host=self.host)

    def _routine(self, message: RedirectionMessage) -> bool:
        """Handle what may come at any time in IDE-R; ``False`` for anything else."""
        if isinstance(message, (IDERHeartbeat, IDERKeepAlivePong)):
            return True
        if isinstance(message, IDERKeepAlivePing):
            self._send_sequenced(IDERKeepAlivePong())
            return True
        if isinstance(message, IDERResetOccurred):
            # Commands are answered whole before the next message is read: no transfer is in
            # flight here, so the reset can be acknowledged at once.
            self._counts["resets"] += 1
            self._send_sequenced(IDERResetOccurredResponse())
            return True
        if isinstance(message, IDERErrorOccurred):
            raise RedirectionProtocolError(f"the device aborted IDE-R with error code {message.code}",
                                           message_type=message.TYPE, host=self.host)
        return False

    def _handshake(self) -> None:
        inbox: deque[RedirectionMessage] = deque()
        self._conn.open(SessionType.IDER, inbox)
        self._send_sequenced(StartIDERRedirection(
            rx_timeout=round(self.rx_timeout * 1000), tx_timeout=0, heartbeat=round(self.heartbeat * 1000)))
        opened = self._expect(StartIDERRedirectionReply, inbox)
        if not opened.ok:
            raise exc.FeatureUnavailableError(f"the device refused to open IDE-R (status {opened.status})",
                                              host=self.host, hint=_REDIRECTION_HINT)
        if opened.protocol != 0 or opened.read_buffer_size == 0:
            raise RedirectionProtocolError(
                f"unusable IDE-R open reply (protocol {opened.protocol}, read buffer {opened.read_buffer_size})",
                message_type=opened.TYPE, host=self.host)
        self.drives.configure(opened)
        self.firmware = opened
        self._opened_at = time.monotonic()
        self._send_sequenced(IDERDisableEnableFeatures(request=IDERFeatureRequest.GET_SUPPORTED))
        supported = self._feature_reply(IDERFeatureRequest.GET_SUPPORTED, inbox)
        if supported.value & IDER_FEATURES_TOGGLE_SUPPORTED:  # the devices can be switched: switch them on
            self._send_sequenced(IDERDisableEnableFeatures.enable(self.start_mode))
            self._feature_reply(IDERFeatureRequest.SET_REGISTER_STATE, inbox)
        while inbox:  # anything after the last reply is served by the loop
            message = inbox.popleft()
            if not self._routine(message):
                if not isinstance(message, IDERCommandWritten):
                    raise RedirectionProtocolError(f"unexpected {message.TYPE.name} after the IDE-R open",
                                                   message_type=message.TYPE, host=self.host)
                self._pending.append(message)

    def _feature_reply(self, request: IDERFeatureRequest, inbox: deque[RedirectionMessage]
                       ) -> IDERDisableEnableFeaturesReply:
        reply = self._expect(IDERDisableEnableFeaturesReply, inbox)
        if reply.request is not request:
            raise RedirectionProtocolError(f"feature reply to {reply.request.name}, expected {request.name}",
                                           message_type=reply.TYPE, host=self.host)
        return reply

    def _abandon(self) -> None:
        """Close the socket without ceremony (failed set-up, or nothing started)."""
        self._conn.close()
        self._serving.close()
        self._files.close()

    # -- serving (background thread) -------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._serve()
        except SessionStopping:
            self._close_cleanly()
        except exc.AMTError as error:
            self._fail(error)
        except Exception as error:  # a bug must still end the session and reach the caller
            log.exception("IDE-R session to %s failed", self.host)
            self._fail(exc.AMTError(f"the IDE-R session failed: {error!r}", host=self.host))
        finally:
            self._abandon()
            self._notify()

    def _fail(self, error: exc.AMTError) -> None:
        if error.host is None:
            error.host = self.host
        self.error = error
        self.state = SessionState.FAILED
        log.debug("IDE-R session to %s ended: %s", self.host, error)

    def _serve(self) -> None:
        conn = self._conn
        conn.last_sent = conn.last_received = time.monotonic()
        with self._serving.watch(conn) as readable:
            while True:
                while self._pending:
                    self._answer(self._pending.popleft())
                if readable(self._next_timer()):
                    for message in self._receive():
                        self._dispatch(message)
                self._timers()

    def _next_timer(self) -> float:
        now = time.monotonic()
        due = min(self._conn.last_sent + self.heartbeat, self._conn.last_received + self.idle_timeout)
        return max(0.0, due - now)

    def _timers(self) -> None:
        now = time.monotonic()
        if now - self._conn.last_received >= self.idle_timeout:
            raise exc.ReadTimeoutError(f"the device sent nothing on the IDE-R session for {self.idle_timeout:g} s",
                                       host=self.host, hint="the device or the network may be down")
        if now - self._conn.last_sent >= self.heartbeat:
            self._send_sequenced(IDERHeartbeat())

    def _dispatch(self, message: RedirectionMessage) -> None:
        if isinstance(message, IDERCommandWritten):
            self._answer(message)
        elif self._routine(message):
            pass
        elif isinstance(message, (IDERDisableEnableFeaturesReply, EndIDERRedirectionReply)):
            log.debug("ignoring a late %s", message.TYPE.name)
        else:
            raise RedirectionProtocolError(f"unexpected {message.TYPE.name} during IDE-R",
                                           message_type=message.TYPE, host=self.host)

    def _answer(self, command: IDERCommandWritten) -> None:
        """Serve one command: its replies are sent as they are read, in batches of ~64 KB."""
        failed = False
        served = 0
        batch = bytearray()
        for reply in self._replies(command):
            if isinstance(reply, IDERDataToHost):
                served += len(reply.data)
            else:
                failed = failed or reply.failed
            self._conn.stamp_into(batch, reply)
            if len(batch) >= _SEND_BATCH:
                self._conn.send_bytes(batch)
                batch = bytearray()
        if batch:
            self._conn.send_bytes(batch)
        counts = self._counts
        counts["commands"] += 1
        counts["bytes_served"] += served
        if failed:
            counts["check_conditions"] += 1
            return
        extent = read_extent(command.cdb) if command.command == IDERCommandWritten.ATA_PACKET else None
        if extent is not None:
            counts["reads"] += 1
            if command.device is self.boot_device and self._watch.armed and self._watch.remaining:
                self._watch.mark(*extent)
                if self._watch.remaining == 0:
                    self._notify()

    def _replies(self, command: IDERCommandWritten) -> Iterator[IDERReply]:
        for reply in self.drives.handle(command):
            self._serving.check()
            yield reply

    def _close_cleanly(self) -> None:
        """``EndIDERRedirection``, wait briefly for its reply, ``EndRedirectionSession``."""
        try:
            self._send_sequenced(EndIDERRedirection())
            deadline = time.monotonic() + _CLOSE_WAIT_SECONDS
            assert self._conn.sock is not None
            self._conn.sock.settimeout(_CLOSE_WAIT_SECONDS)
            while time.monotonic() < deadline:
                messages = self._receive()
                if any(isinstance(m, EndIDERRedirectionReply) for m in messages):
                    break
            self._send(EndRedirectionSession())
        except exc.AMTError as error:
            log.debug("IDE-R close to %s was not clean: %s", self.host, error)
        self.state = SessionState.CLOSED


@dataclass
class IDERControl:
    """``client.ider``: IDE-R sessions to the client's device, with its credentials and TLS settings.

    ``port`` overrides the redirection port for every session (default 16994, or 16995 with TLS).
    """

    client: Client
    port: int | None = None

    def session(self, image: ImageSource, device: Device | str = "cd", *, port: int | None = None,
                heartbeat: float = 5.0, rx_timeout: float = 30.0, idle_timeout: float | None = None,
                start: IDERStartMode = IDERStartMode.GRACEFUL) -> IDERSession:
        """An :class:`IDERSession` serving ``image`` as the ``device`` drive (``"cd"`` or ``"floppy"``);
        start it with ``with`` (or :meth:`IDERSession.start`). The options are :class:`IDERSession`'s."""
        credentials = self.client.transport.credentials
        if credentials is None:
            raise exc.AuthenticationError("IDE-R needs the device's credentials; the client has none",
                                          host=self.client.host)
        drive = parse_device(device)
        cd, floppy = (image, None) if drive is Device.CD else (None, image)
        return IDERSession(self.client.host, credentials, cd=cd, floppy=floppy, boot_device=drive,
                           port=port or self.port, tls=self.client.transport.tls,
                           timeout=self.client.transport.timeout, heartbeat=heartbeat, rx_timeout=rx_timeout,
                           idle_timeout=idle_timeout, start=start)

    def boot(self, image: ImageSource, device: Device | str = "cd", *, timeout: float = 300.0,
             then: str = "auto", port: int | None = None, heartbeat: float = 5.0,
             progress: Callable[[IDERStats], object] | None = None) -> BootDelivery:
        """Boot the host from ``image`` through IDE-R, in one call.

        Opens a session, sets the one-time IDE-R boot (``UseIDER``, ``IDERBootDevice``) and resets the
        host (or powers it on: ``then="auto"``; ``"reset"``/``"on"`` to force one), serves the image
        until the host has read its boot image, then closes the session.  An image without a boot
        image is refused before anything is touched (:class:`IDERImageNotBootable`): nothing would
        say when the host is done with it.  A system that keeps reading the drive after its boot
        loader (a live CD), or an image served anyway, needs the session form: :meth:`session`.
        ``progress`` is passed to :meth:`IDERSession.wait_for_boot`.
        """
        from ..boot import BootTarget

        drive = parse_device(device)
        session = self.session(image, drive, port=port, heartbeat=heartbeat)
        try:
            if not session.boot_image.bootable:
                raise IDERImageNotBootable(f"the {drive.name.lower()} image cannot boot: {session.boot_image.reason}",
                                           host=self.client.host)
        except BaseException:
            session.stop()
            raise
        target = BootTarget.IDER_CD if drive is Device.CD else BootTarget.IDER_FLOPPY
        with session:
            self.client.boot.boot_once(target, then=then)
            return session.wait_for_boot(timeout, progress=progress)

