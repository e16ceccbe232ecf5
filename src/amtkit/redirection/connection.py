"""One connection to the redirection port (16994/16995): the part every session type shares.

:class:`RedirectionConnection` connects (TCP, or TLS with the client's :class:`~amtkit.config.TLSConfig`),
starts a session of one type (``StartRedirectionSession``) and authenticates it the way the device
offers: it asks which methods the firmware has and uses the best one,

* digest with qop (type 4, every current firmware; AMT 12 and later offer nothing else),
* digest without qop (type 3),
* user name and password in clear (type 1), which only old firmware offers (AMT 11 and before accept
  it; it is what amtterm sends) and which is used only when nothing better is offered.

Then it carries messages: :meth:`send` / :meth:`send_sequenced` (the sequence numbers of this side),
:meth:`receive` (one read, the messages it completes), :meth:`expect`.  IDE-R
(:mod:`amtkit.ider.session`) and SOL (:mod:`amtkit.sol`) build their protocols on it, each served by
a background thread that any thread can stop (:class:`ServingThread`).  Failures are
typed: :class:`~amtkit.exceptions.UnreachableError` (refused, closed), timeouts,
:class:`~amtkit.exceptions.AuthenticationError`, :class:`~amtkit.exceptions.FeatureUnavailableError`
(the session type is switched off), :class:`RedirectionProtocolError` (bytes that break the protocol).
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import TypeVar

from .. import exceptions as exc
from .. import tls as amt_tls
from ..config import Timeout, TLSConfig
from ..http.digest import Credentials
from ..lazylog import logger_ready
from .messages import (
    AuthenticateSession,
    AuthenticateSessionReply,
    AuthType,
    Direction,
    RedirectionDecoder,
    RedirectionMessage,
    RedirectionProtocolError,
    SequenceCounter,
    SequencedMessage,
    SessionType,
    StartRedirectionSession,
    StartRedirectionSessionReply,
)

__all__ = ["AUTH_PREFERENCE", "RedirectionConnection", "choose_auth_method"]

log = logger_ready(__name__)  # with amtkit's NullHandler (amtkit.lazylog)

_M = TypeVar("_M", bound=RedirectionMessage)
_RECV_SIZE = 256 * 1024

AUTH_PREFERENCE = (AuthType.DIGEST_QOP, AuthType.DIGEST, AuthType.BASIC)
"""Authentication methods in the order amtkit picks them from what the firmware offers."""


def choose_auth_method(offered: tuple[int, ...]) -> AuthType | None:
    """The best method in ``offered`` (a query reply's list), or ``None`` if none is usable."""
    for method in AUTH_PREFERENCE:
        if method in offered:
            return method
    return None


class RedirectionConnection:
    """A connection to a device's redirection port; see the module docstring.

    ``feature`` names the session in messages ("IDE-R", "SOL"); ``hint`` is attached to the errors
    that mean "redirection is not allowed here" (connection refused or closed during the set-up).
    With ``check_sequence`` a message out of sequence is a :class:`RedirectionProtocolError`.
    """

    def __init__(self, host: str, credentials: Credentials, *, port: int, tls: TLSConfig | None,
                 timeout: Timeout, feature: str, hint: str, check_sequence: bool = False) -> None:
        self.host = host
        self.credentials = credentials
        self.port = port
        self.tls = tls
        self.timeout = timeout
        self.feature = feature
        self.hint = hint
        self.sock: socket.socket | None = None
        self.auth_method: AuthType | None = None
        """The method the session authenticated with."""
        self.outgoing = SequenceCounter()
        self.incoming: SequenceCounter | None = SequenceCounter() if check_sequence else None
        """Checks the firmware's sequence numbers (IDE-R consoles do; SOL consoles do not)."""
        self.last_sent = 0.0
        self.last_received = 0.0
        self.established = False
        """Authenticated: from here a closed connection is not a refusal any more."""
        self._decoder = RedirectionDecoder(direction=Direction.TO_CONSOLE)
        self._send_lock = threading.Lock()

    # -- set-up ------------------------------------------------------------------------------------
    def open(self, session: SessionType, inbox: deque[RedirectionMessage],
             routine: Callable[[RedirectionMessage], bool] | None = None) -> None:
        """Connect, start a ``session`` and authenticate. Messages after the last reply stay in ``inbox``."""
        self.sock = self._connect()
        self.send(StartRedirectionSession.for_session(session))
        started = self.expect(StartRedirectionSessionReply, inbox, routine)
        if not started.ok:
            raise exc.FeatureUnavailableError(f"the device refused an {self.feature} session (status {started.status})",
                                              host=self.host, hint=self.hint)
        self._authenticate(inbox, routine)
        self.established = True

    def _connect(self) -> socket.socket:
        where = f"redirection port {self.port}"
        try:
            raw = socket.create_connection((self.host, self.port), timeout=self.timeout.connect_seconds)
        except ConnectionRefusedError as error:
            raise exc.UnreachableError(f"{where} refused the connection", host=self.host, hint=self.hint) from error
        except TimeoutError as error:
            raise exc.ConnectTimeoutError(f"no connection to {where} within {self.timeout.connect_seconds:g} s",
                                          host=self.host) from error
        except OSError as error:
            raise exc.UnreachableError(f"cannot reach {where}: {error.strerror or error}", host=self.host) from error
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        raw.settimeout(self.timeout.read)
        if self.tls is None:
            return raw
        return amt_tls.wrap_socket(raw, self.tls, self.host, what="TLS handshake on the redirection port")

    def _authenticate(self, inbox: deque[RedirectionMessage],
                      routine: Callable[[RedirectionMessage], bool] | None) -> None:
        user = self.credentials.username
        self.send(AuthenticateSession.query())
        offered = self.expect(AuthenticateSessionReply, inbox, routine).methods()
        method = choose_auth_method(offered)
        if method is None:
            names = ", ".join(AuthType.describe(m).split(" (")[0] for m in offered) or "none"
            raise exc.AuthenticationError(f"the device offers no authentication amtkit speaks for redirection "
                                          f"(offered: {names})", host=self.host, username=user)
        if method is AuthType.BASIC:
            log.warning("%s offers only plain user/password authentication for redirection: the password "
                        "crosses the network %s", self.host, "inside TLS" if self.tls else "in clear")
            self.send(AuthenticateSession.basic(user, self.credentials.password))
        else:
            self.send(AuthenticateSession.digest_start(user, auth_type=method))
            challenge_reply = self.expect(AuthenticateSessionReply, inbox, routine)
            if not challenge_reply.is_challenge:
                raise exc.AuthenticationError(f"the device refused redirection for user {user!r} before the "
                                              f"challenge (status {challenge_reply.status})", host=self.host,
                                              username=user)
            self.send(AuthenticateSession.digest_answer(self.credentials, challenge_reply.challenge()))
        result = self.expect(AuthenticateSessionReply, inbox, routine)
        if not result.ok:
            raise exc.AuthenticationError(f"redirection authentication failed for user {user!r}",
                                          host=self.host, username=user)
        self.auth_method = method

    # -- messages ----------------------------------------------------------------------------------
    def send(self, message: RedirectionMessage) -> None:
        self.send_bytes(message.encode())

    def send_sequenced(self, message: SequencedMessage) -> None:
        with self._send_lock:
            data = self.outgoing.stamp(message).encode()
            self._sendall(data)

    def send_bytes(self, data: bytes | bytearray) -> None:
        with self._send_lock:
            self._sendall(data)

    def stamp_into(self, buffer: bytearray, message: SequencedMessage) -> None:
        """Append ``message`` with this side's next sequence number to ``buffer`` (send it with :meth:`send_bytes`)."""
        self.outgoing.stamp_into(buffer, message)

    def _sendall(self, data: bytes | bytearray) -> None:
        sock = self.sock
        assert sock is not None
        try:
            sock.sendall(data)
        except TimeoutError as error:
            raise exc.ReadTimeoutError("the device stopped taking data on the redirection connection",
                                       host=self.host) from error
        except (BrokenPipeError, ConnectionResetError) as error:
            raise self.closed_by_device() from error
        except OSError as error:
            raise exc.UnreachableError(f"the redirection connection broke while sending: {error}",
                                       host=self.host) from error
        self.last_sent = time.monotonic()

    def receive(self) -> list[RedirectionMessage]:
        """Read once from the socket; the messages completed (possibly none)."""
        sock = self.sock
        assert sock is not None
        try:
            data = sock.recv(_RECV_SIZE)
        except TimeoutError as error:
            raise exc.ReadTimeoutError(f"no answer on the redirection connection within {self.timeout.read:g} s",
                                       host=self.host) from error
        except ssl.SSLWantReadError:
            return []
        except ConnectionResetError as error:
            raise self.closed_by_device() from error
        except OSError as error:
            raise exc.UnreachableError(f"the redirection connection broke: {error}", host=self.host) from error
        if not data:
            self._feed_end()
            raise self.closed_by_device()
        self.last_received = time.monotonic()
        try:
            messages = self._decoder.feed(data)
            if self.incoming is not None:
                for message in messages:
                    if isinstance(message, SequencedMessage):
                        self.incoming.check(message)
        except RedirectionProtocolError as error:
            error.host = self.host
            raise
        return messages

    def _feed_end(self) -> None:
        try:
            self._decoder.close()  # a cut message is a protocol error, said first
        except RedirectionProtocolError as error:
            error.host = self.host
            raise

    def expect(self, kind: type[_M], inbox: deque[RedirectionMessage],
               routine: Callable[[RedirectionMessage], bool] | None = None) -> _M:
        """The next message, which must be a ``kind``; ``routine`` handles (returns ``True`` for)
        what may come in between (keep-alives...)."""
        while True:
            while not inbox:
                inbox.extend(self.receive())
            message = inbox.popleft()
            if isinstance(message, kind):
                return message
            if routine is not None and routine(message):
                continue
            raise RedirectionProtocolError(f"expected {kind.__name__}, got {message.TYPE.name}",
                                           message_type=message.TYPE, host=self.host)

    def pending_tls(self) -> bool:
        """Decrypted bytes wait inside the TLS layer (a selector would not wake for them)."""
        return isinstance(self.sock, ssl.SSLSocket) and self.sock.pending() > 0

    def closed_by_device(self) -> exc.UnreachableError:
        # During the set-up a closed connection is how AMT refuses: listener off, or the feature off.
        return exc.UnreachableError("the device closed the redirection connection", host=self.host,
                                    hint=None if self.established else self.hint)

    def close(self) -> None:
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.close()


class SessionStopping(Exception):
    """Internal to a serving thread: :meth:`ServingThread.stop` was called while it was busy."""


class ServingThread:
    """The background thread that serves a session (IDE-R, SOL), and how any thread stops it: an
    event the thread checks between steps, and a socket pair whose write wakes it from ``select``."""

    def __init__(self) -> None:
        self.thread: threading.Thread | None = None
        """``None`` until :meth:`start`."""
        self._stop = threading.Event()
        self._wake_r, self._wake_w = socket.socketpair()

    def start(self, target: Callable[[], None], name: str) -> None:
        self.thread = threading.Thread(target=target, name=name, daemon=True)
        self.thread.start()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def check(self) -> None:
        """Raise :class:`SessionStopping` once :meth:`stop` was called (in the serving thread)."""
        if self._stop.is_set():
            raise SessionStopping

    @contextlib.contextmanager
    def watch(self, conn: RedirectionConnection) -> Iterator[Callable[[float], bool]]:
        """``readable(timeout)``: whether the device sent something within ``timeout`` seconds (TLS
        bytes already decrypted count at once); raises :class:`SessionStopping` when :meth:`stop` was
        called before or during the wait."""
        sock = conn.sock
        assert sock is not None
        with selectors.DefaultSelector() as selector:
            selector.register(sock, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)

            def readable(timeout: float) -> bool:
                self.check()
                ready = conn.pending_tls() or any(key.fileobj is sock for key, _ in selector.select(timeout))
                self.check()
                return ready

            yield readable

    def stop(self, timeout: float) -> bool:
        """Ask the serving thread to stop and wait up to ``timeout`` seconds for it (not when called
        from it). True when no thread was ever started: then the caller must clean up itself."""
        self._stop.set()
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        thread = self.thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        return thread is None

    def close(self) -> None:
        """Release the wake-up socket pair."""
        for end in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                end.close()
