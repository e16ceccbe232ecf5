"""The only module that does WS-Man I/O: one kept-alive HTTP(S) connection per device.

* Digest as AMT does it (:mod:`amtkit.http.digest`): after the first challenge every request is
  signed up front with the same nonce and an incrementing ``nc``, so a steady stream of calls
  costs one HTTP round trip each. A 401 (expired nonce, ``stale=true``, or a nonce AMT reset)
  is answered by one re-signed retry; a second 401 is an :class:`AuthenticationError`.
* TLS per :mod:`amtkit.tls`: verification on by default, CA file, SHA-256 pinning (one pin or a
  pin file per host), or an explicit insecure switch; client certificates for mutual TLS. The
  SSL context is shared by every transport with the same settings, and the last TLS session to
  the device is offered on each new connection (resumption).
* AMT 6 and later admit further requests on a kept-alive TLS connection without a new
  ``Authorization`` once one request on it authenticated (digest session caching). The
  transport uses that: after a signed request succeeded on a TLS connection, the next ones go
  unsigned; a device that answers one of them with 401 is signed for from then on.
* Bounded retries with backoff, only for idempotent requests and only when the connection
  failed (refused, reset, closed: AMT drops idle connections and its engine sleeps); a device
  that accepted the request but did not answer in time is not asked again. Method calls are
  never retried blindly; a kept-alive connection the device has closed is noticed *before*
  sending, not after.
* ``Timeout.read`` bounds the whole reply, not each read: a peer that dribbles bytes cannot hold
  a call longer. Replies are capped at :data:`MAX_REPLY_BYTES`.
* Every socket, TLS and HTTP failure is mapped to an :mod:`amtkit.exceptions` error.

HTTP framing: request heads are written here (a handful of fixed lines, one write per request);
replies are read by :class:`amtkit.http.reply.ReplyReader`, a strict incremental reader. Earlier
versions used ``requests`` (about 0.4 ms of CPU per call) and then ``http.client`` (whose
``email``-based header parsing was most of the remaining per-call CPU and let malformed framing
escape as ``ValueError``/``OverflowError``).
"""

from __future__ import annotations

import select
import selectors
import socket
import struct
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import exceptions as exc
from .config import Timeout, TLSConfig
from .http.digest import (
    Credentials,
    DigestAlgorithmError,
    DigestError,
    Signer,
    parse_challenge,
)
from .http.reply import FramingError, Headers, Reply, ReplyReader, split_challenges
from .lazylog import LazyLogger
from .text import printable
from .wsman import names

if TYPE_CHECKING:
    import ssl

__all__ = ["HTTPReply", "Headers", "Transport", "TransportSettings"]

log = LazyLogger(__name__)

#: Larger replies are refused: AMT's own envelopes stay far below this.
MAX_REPLY_BYTES = 16 * 1024 * 1024
_CLOSED_WITHOUT_ANSWER = "the device closed the connection without answering"
_RECV_BYTES = 65536
_KERNEL_TIMEOUTS = sys.platform.startswith("linux")
"""Plain-HTTP sockets block and let the kernel time each receive (``SO_RCVTIMEO``), so a request costs
one ``send`` and one ``recv``: a Python socket timeout adds a ``poll`` before each of them. TLS sockets
and other platforms (other ``timeval`` layouts, Windows' milliseconds) keep Python's timeouts."""


@dataclass(frozen=True)
class HTTPReply:
    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def server(self) -> str:
        return self.headers.get("Server", "")

    def header_values(self, name: str) -> list[str]:
        """Every value of a repeated header, apart (``WWW-Authenticate`` from Kerberos-enabled AMT)."""
        if isinstance(self.headers, Headers):
            return self.headers.get_all(name)
        value = self.headers.get(name)
        return [] if value is None else [value]


def device_url(host: str, port: int | None, tls: TLSConfig | None) -> tuple[int, str]:
    """The WS-Man port (16992, or 16993 with TLS, unless given) and base URL (``http://host:port``,
    IPv6 addresses bracketed) of a device."""
    chosen = port or (names.PORT_TLS if tls is not None else names.PORT_HTTP)
    bracketed = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return chosen, f"{'https' if tls is not None else 'http'}://{bracketed}:{chosen}"


def _ascii_host(host: str) -> str:
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError as error:
        raise exc.UsageError(f"{host!r} is not a valid host name", host=host) from error


class _IdleProbe:
    """Tells whether an idle kept-alive socket became readable (the device closed it or sent junk).

    ``poll`` (or a selector where there is none), never ``select.select``: a fleet job holds
    thousands of descriptors, and ``select`` cannot watch one numbered above 1023.
    """

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._pending = getattr(sock, "pending", None)  # a TLS socket: decrypted bytes waiting = junk
        self._poll: select.poll | None = None
        self._selector: selectors.BaseSelector | None = None
        if hasattr(select, "poll"):
            self._poll = select.poll()
            self._poll.register(sock.fileno(), select.POLLIN | select.POLLPRI)
        else:  # pragma: no cover - platforms without poll (Windows)
            self._selector = selectors.DefaultSelector()
            self._selector.register(sock, selectors.EVENT_READ)

    def dropped(self) -> bool:
        if self._pending is not None and self._pending():
            return True
        try:
            if self._poll is not None:
                return bool(self._poll.poll(0))
            assert self._selector is not None  # pragma: no cover
            return bool(self._selector.select(0))  # pragma: no cover
        except (OSError, ValueError):
            return True

    def close(self) -> None:
        if self._selector is not None:  # pragma: no cover
            self._selector.close()


class TransportSettings:
    """What every WS-Man transport (this one, :class:`amtkit.requests_transport.RequestsTransport`) is
    given: the device's address, credentials, timeouts, retry policy and per-host deadline."""

    def __init__(
        self,
        host: str,
        *,
        port: int | None,
        tls: TLSConfig | None,
        credentials: Credentials | None,
        timeout: Timeout | None,
        retries: int,
        backoff: float,
        path: str,
        allow_digest_without_qop: bool,
    ) -> None:
        self.host = host
        self.tls = tls
        self.port, self.base_url = device_url(host, port, tls)
        self.path = path
        self.url = self.base_url + path
        self.credentials = credentials
        self.timeout = timeout or Timeout()
        self.deadline: float | None = None
        """A ``time.monotonic()`` instant after which no request may run (fleet jobs' per-host deadline):
        each request's connect and read timeouts are cut to the time left."""
        self.retries = retries
        self.backoff = backoff
        self.allow_digest_without_qop = allow_digest_without_qop
        """Answer a challenge without ``qop`` (RFC 2069 form); off: such a challenge is a downgrade."""

    def current_timeout(self) -> Timeout:
        """:attr:`timeout`, cut to what is left before :attr:`deadline`; a passed deadline is a read timeout."""
        if self.deadline is None:
            return self.timeout
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise exc.ReadTimeoutError("no answer before the host's deadline", host=self.host)
        return Timeout(min(self.timeout.read, left), connect=min(self.timeout.connect_seconds, left))


class Transport(TransportSettings):
    """Sends WS-Man envelopes to one device and returns raw HTTP replies.

    Thread-safe: a lock serializes requests, as AMT serves one request per connection at a time.
    """

    def __init__(
        self,
        host: str,
        *,
        port: int | None = None,
        tls: TLSConfig | None = None,
        credentials: Credentials | None = None,
        timeout: Timeout | None = None,
        retries: int = 2,
        backoff: float = 0.25,
        path: str = names.WSMAN_PATH,
        allow_digest_without_qop: bool = False,
    ) -> None:
        super().__init__(host, port=port, tls=tls, credentials=credentials, timeout=timeout, retries=retries,
                         backoff=backoff, path=path, allow_digest_without_qop=allow_digest_without_qop)
        bracketed = f"[{host}]" if ":" in host and not host.startswith("[") else host
        self.round_trips = 0
        """HTTP requests sent so far (a 401 challenge and its retry count as two)."""
        self._signer: Signer | None = None
        """Signs under the device's current challenge (HA1 and the header's fixed part computed once)."""
        self._nc = 0
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self._probe: _IdleProbe | None = None
        self._socket_timeout = self.timeout.read
        self._kernel_timed = False
        """The current socket blocks and the kernel times its reads (see :data:`_KERNEL_TIMEOUTS`)."""
        # The Host header carries the IDNA (ASCII) form of an internationalized name, and so does the
        # connect: given bytes, the socket module does not load its IDNA codec (0.8 ms of a CLI call).
        self._host_header = f"{_ascii_host(bracketed)}:{self.port}"
        self._connect_host = _ascii_host(host).encode("ascii")
        self._post_head = (f"POST {path} HTTP/1.1\r\nHost: {self._host_header}\r\nUser-Agent: amtkit\r\n"
                           f"Content-Type: {names.SOAP_CONTENT_TYPE}\r\n").encode("latin-1")
        self._tls_context: ssl.SSLContext | None = None
        if tls is not None:
            from . import tls as amt_tls  # ssl is imported only by those who use TLS

            self._tls_context = amt_tls.client_context(tls)
        self._fresh_tls = False
        """The TLS connection has not answered yet: its session is kept after the first answer."""
        self._signed_on_connection = False
        """A signed request succeeded on the current TLS connection (AMT caches the digest session)."""
        self._device_caches_tls_auth = True
        """False once the device refused an unsigned request on an authenticated TLS connection."""

    # -- connection ------------------------------------------------------------------------------
    def _timed_out(self, timeout: Timeout, *, connecting: bool) -> exc.TransportError:
        if connecting:
            return exc.ConnectTimeoutError(f"no connection to port {self.port} within {timeout.connect_seconds:g} s",
                                           host=self.host)
        if self.deadline is not None and timeout.read < self.timeout.read:
            return exc.ReadTimeoutError("no answer before the host's deadline", host=self.host)
        return exc.ReadTimeoutError(f"no answer within {timeout.read:g} s", host=self.host)

    def _open_socket(self) -> socket.socket:
        timeout = self.current_timeout()
        raw = socket.create_connection((self._connect_host, self.port),  # type: ignore[arg-type]  # bytes work
                                       timeout=timeout.connect_seconds)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._socket_timeout = timeout.read
        if self.tls is None and _KERNEL_TIMEOUTS:
            self._kernel_timed = True
            raw.settimeout(None)
            _set_kernel_timeouts(raw, timeout.read, send=True)
            return raw
        self._kernel_timed = False
        raw.settimeout(timeout.read)
        if self.tls is None:
            return raw
        from . import tls as amt_tls

        sock = amt_tls.wrap_socket(raw, self.tls, self.host, context=self._tls_context, port=self.port,
                                   remember=False)
        self._fresh_tls = amt_tls.session_to_keep(sock)  # kept after the first answer, once per connection
        return sock

    def _set_read_timeout(self, sock: socket.socket, seconds: float, *, send: bool) -> None:
        if self._kernel_timed:
            _set_kernel_timeouts(sock, seconds, send=send)
        else:
            sock.settimeout(seconds)
        self._socket_timeout = seconds

    def _socket_for_request(self) -> socket.socket:
        """The kept-alive socket if the device has not closed it, else a new one."""
        if self._socket is not None and self._probe is not None and self._probe.dropped():
            self._discard_connection()
        if self._socket is None:
            sock = self._open_socket()
            self._socket, self._probe = sock, _IdleProbe(sock)
        return self._socket

    def _discard_connection(self) -> None:
        self._signed_on_connection = False
        self._fresh_tls = False
        if self._probe is not None:
            self._probe.close()
            self._probe = None
        if self._socket is not None:
            _close_quietly(self._socket)
            self._socket = None

    def close(self) -> None:
        with self._lock:
            self._discard_connection()

    # -- digest ----------------------------------------------------------------------------------
    def _sign(self, method: str, uri: str) -> str | None:
        signer = self._signer
        if signer is None or self.credentials is None:
            return None
        if signer.credentials is not self.credentials:  # credentials swapped on a live transport
            signer = self._signer = Signer(self.credentials, signer.challenge,
                                           allow_no_qop=self.allow_digest_without_qop)
        self._nc += 1
        return signer.sign(method, uri, self._nc)

    def _take_challenge(self, reply: HTTPReply) -> None:
        """Adopt the digest challenge of a 401; every challenge of every ``WWW-Authenticate`` is read
        (Kerberos-enabled AMT sends ``Negotiate`` and ``Digest`` as two fields)."""
        schemes: list[str] = []
        refusal: exc.AuthenticationError | None = None
        for text in split_challenges(reply.header_values("WWW-Authenticate")):
            schemes.append(text.split(" ", 1)[0])
            try:
                challenge = parse_challenge(text)
            except DigestAlgorithmError as error:
                refusal = exc.AuthenticationError(
                    f"the device asks for digest algorithm {error.algorithm!r}; amtkit signs with MD5, as Intel AMT "
                    "does", host=self.host,
                    hint="this is not how AMT challenges: check that the address is the AMT device")
                continue
            except DigestError as error:
                log.debug("challenge from %s not usable: %s", self.host, printable(error))
                continue
            if not challenge.supports_auth_qop:
                log.debug("challenge from %s offers only qop %s", self.host, printable(",".join(challenge.qop)))
                continue
            if not challenge.qop and not self.allow_digest_without_qop:
                refusal = exc.AuthenticationError(
                    "refusing to answer a digest challenge without qop: Intel AMT always offers qop=\"auth\", and "
                    "the answer to a challenge without it can be replayed with another request body",
                    host=self.host, username=self.credentials.username if self.credentials else None,
                    hint="someone between amtkit and the device may be downgrading the challenge: use TLS (--tls); "
                         "docs/errors.md tells how to allow an old device that really lacks qop",
                )
                continue
            assert self.credentials is not None  # post() refuses a 401 without credentials first
            self._signer = Signer(self.credentials, challenge, allow_no_qop=self.allow_digest_without_qop)
            self._nc = 0
            return
        if refusal is not None:
            raise refusal
        if any(scheme.lower() == "negotiate" for scheme in schemes):
            raise exc.AuthenticationError(
                "the device offers only Kerberos (Negotiate) for this request, no usable digest challenge",
                host=self.host, hint="amtkit authenticates with digest; use a digest account of the device")
        raise exc.NotDetectedError("answered 401 without a usable digest challenge"
                                   + (f" (offered: {', '.join(schemes)})" if schemes else ""), host=self.host)

    # -- sending ---------------------------------------------------------------------------------
    def post(self, body: bytes, *, idempotent: bool, authenticate: bool = True) -> HTTPReply:
        """POST an envelope to ``/wsman`` and return the reply (any status but 401).

        Raises :class:`~amtkit.exceptions.AuthenticationError` when the device keeps refusing
        the credentials, and the transport errors of :mod:`amtkit.exceptions`.
        """
        if log.debug_enabled():  # the trace (amtkit.wire); off, this check is all it costs
            from .wire import traced_post

            return traced_post(self, body, idempotent=idempotent, authenticate=authenticate)
        return self._post(body, idempotent=idempotent, authenticate=authenticate)

    def _post(self, body: bytes, *, idempotent: bool, authenticate: bool) -> HTTPReply:
        with self._lock:
            cached = self._signed_on_connection and self._device_caches_tls_auth and self._alive()
            signed = self._sign("POST", self.path) if authenticate and not cached else None
            reply = self._send(self._post_request(body, signed), idempotent)
            if reply.status != 401 or not authenticate:
                if signed is not None and self.tls is not None and reply.status != 401:
                    self._signed_on_connection = self._socket is not None
                return reply
            if cached:
                log.debug("%s wants Authorization on every request of a TLS connection", self.host)
                self._device_caches_tls_auth = False
            if self.credentials is None:
                raise exc.AuthenticationError("the device requires credentials and none were given",
                                              host=self.host)
            # One more try on a fresh challenge: first contact, an expired (stale) nonce, or a nonce
            # the device reset mid-stream all land here.
            self._take_challenge(reply)
            reply = self._send(self._post_request(body, self._sign("POST", self.path)), idempotent)
            if reply.status != 401 and self.tls is not None:
                self._signed_on_connection = self._socket is not None
            if reply.status == 401:
                self._signer = None
                raise exc.AuthenticationError(
                    f"authentication failed for user {self.credentials.username!r}",
                    host=self.host, username=self.credentials.username,
                )
            return reply

    def _alive(self) -> bool:
        """Whether the kept-alive connection is still open (an unsigned request needs the same one)."""
        if self._socket is None or self._probe is None or self._probe.dropped():
            self._discard_connection()
            return False
        return True

    def get(self, path: str = "/") -> HTTPReply:
        """A plain GET (discovery reads AMT's ``Server`` header from ``GET /``)."""
        with self._lock:
            request = f"GET {path} HTTP/1.1\r\nHost: {self._host_header}\r\nUser-Agent: amtkit\r\n\r\n"
            if "\r" in path or "\n" in path or " " in path:
                raise exc.LocalProtocolError("refusing a line break or space in the request path", host=self.host)
            return self._send(request.encode("latin-1"), True)

    def _post_request(self, body: bytes, authorization: str | None) -> bytes:
        """The request bytes: the fixed head lines, the signature, the length, the body, one write."""
        if authorization is None:
            return b"%sContent-Length: %d\r\n\r\n%s" % (self._post_head, len(body), body)
        if "\r" in authorization or "\n" in authorization:
            raise exc.LocalProtocolError("refusing a line break in the Authorization header", host=self.host)
        try:
            signature = authorization.encode("latin-1")
        except UnicodeEncodeError as error:
            raise exc.LocalProtocolError("the user name holds characters HTTP headers cannot carry "
                                         "(AMT user names are ASCII)", host=self.host) from error
        # Head and body in one write: one segment, one wake-up of the device, no Nagle stall.
        return b"%sAuthorization: %s\r\nContent-Length: %d\r\n\r\n%s" % (
            self._post_head, signature, len(body), body)

    def _send(self, request: bytes, idempotent: bool) -> HTTPReply:
        attempts = 1 + (self.retries if idempotent else 0)
        for attempt in range(attempts):
            try:
                return self._exchange(request)
            except exc.TransportError as error:
                self._discard_connection()
                retryable = isinstance(error, exc.UnreachableError)
                if attempt + 1 < attempts and retryable:
                    time.sleep(self.backoff * (2**attempt))
                    continue
                tls_port = self._tls_port_error(error) if retryable else None
                if tls_port is not None:
                    raise tls_port from error
                raise
            except exc.AMTError:
                self._discard_connection()
                raise
        raise AssertionError("unreachable")

    def _exchange(self, request: bytes) -> HTTPReply:
        """One request and its reply on the kept-alive connection, errors mapped."""
        timeout = self.current_timeout()
        self.round_trips += 1
        connecting = True
        reader = ReplyReader(max_body=MAX_REPLY_BYTES, head_request=request.startswith(b"HEAD "))
        try:
            sock = self._socket_for_request()
            connecting = False
            if self._socket_timeout != timeout.read:  # the last reply's deadline shortened it
                self._set_read_timeout(sock, timeout.read, send=True)
            sock.sendall(request)
            reply = self._read_reply(sock, reader, timeout.read)
        except exc.AMTError:
            raise
        except BlockingIOError as error:  # a kernel-timed socket's SO_RCVTIMEO/SO_SNDTIMEO ran out
            raise self._timed_out(timeout, connecting=connecting) from error
        except FramingError as error:
            if error.not_http:
                raise exc.NotDetectedError(f"port {self.port} answered, but not with HTTP", host=self.host) from error
            if not reader.started:
                raise exc.UnreachableError(_CLOSED_WITHOUT_ANSWER, host=self.host,
                                           hint="AMT may be busy or this port may not be AMT; retry later") from error
            raise exc.RemoteProtocolError(f"broken HTTP framing from the device: {_short(str(error))}",
                                          host=self.host) from error
        except TimeoutError as error:
            raise self._timed_out(timeout, connecting=connecting) from error
        except ConnectionRefusedError as error:
            raise exc.UnreachableError(f"connection to port {self.port} refused", host=self.host) from error
        except socket.gaierror as error:
            raise exc.UnreachableError("the host name does not resolve", host=self.host,
                                       hint="check the spelling or DNS") from error
        except (ConnectionResetError, BrokenPipeError, ConnectionAbortedError) as error:
            raise exc.UnreachableError(_CLOSED_WITHOUT_ANSWER, host=self.host,
                                       hint="AMT may be busy or this port may not be AMT; retry later") from error
        except OSError as error:
            if self.tls is not None and _is_ssl_error(error):
                raise exc.TLSError(f"TLS failed: {_short(str(error))}", reason="protocol", host=self.host) from error
            raise exc.UnreachableError(f"cannot reach port {self.port}: {error.strerror or error}",
                                       host=self.host) from error
        if self._fresh_tls:
            self._fresh_tls = False
            from . import tls as amt_tls

            amt_tls.remember_session(sock, self.host, self.port)  # type: ignore[arg-type]
        if not reply.keep_alive:
            self._discard_connection()
        return HTTPReply(reply.status, reply.headers, reply.body)

    def _tls_port_error(self, error: exc.TransportError) -> exc.TLSError | None:
        """Plain HTTP sent to a TLS port (AMT's 16993 closes such connections without a word) looks like a
        busy device; after the last attempt one TLS handshake tells the two apart."""
        if self.tls is not None or error.message != _CLOSED_WITHOUT_ANSWER:
            return None
        try:
            seconds = self.current_timeout().connect_seconds  # within a fleet job's per-host deadline
        except exc.ReadTimeoutError:
            return None
        if not _speaks_tls(self.host, self.port, seconds):
            return None
        return exc.TLSError(
            f"port {self.port} speaks TLS and was sent plain HTTP", reason="protocol", host=self.host,
            hint="connect with --tls, with --pin-sha256 or --ca-file to trust its certificate "
                 "(`amtkit fingerprint HOST` shows it)")

    def _read_reply(self, sock: socket.socket, reader: ReplyReader, seconds: float) -> Reply:
        """Receive until the reader has the whole reply; ``seconds`` (the read timeout) bound all of it."""
        deadline = time.monotonic() + seconds
        data = sock.recv(_RECV_BYTES)  # the socket's timeout is ``seconds``: within the deadline
        if data:
            reply = reader.feed(data)
            if reply is not None:
                return reply  # the usual case: the whole reply in one segment
        while data:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("reply deadline passed")
            self._set_read_timeout(sock, remaining, send=False)
            data = sock.recv(_RECV_BYTES)
            if data:
                reply = reader.feed(data)
                if reply is not None:
                    return reply
        return reader.feed_eof()


def _set_kernel_timeouts(sock: socket.socket, seconds: float, *, send: bool) -> None:
    """Bound a blocking socket's receives (and sends) by the kernel: ``SO_RCVTIMEO``/``SO_SNDTIMEO``."""
    whole = int(seconds)
    # A zero timeval means "wait for ever": the shortest bound is one microsecond.
    timeval = struct.pack("@ll", whole, max(int((seconds - whole) * 1e6), 0 if whole else 1))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, timeval)
    if send:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, timeval)


def _close_quietly(sock: socket.socket) -> None:
    """Close a connection; a TLS one says close_notify first (without waiting for the answer).

    OpenSSL marks a session that ended without our close_notify as not resumable, so a silent
    close would throw away exactly the session the next connection wants to resume.
    """
    unwrap = getattr(sock, "unwrap", None)
    if unwrap is not None:
        try:
            sock.settimeout(0)
            unwrap()
        except (OSError, ValueError):
            pass  # the peer's close_notify is not awaited; ours is sent (or the peer is gone)
    try:
        sock.close()
    except OSError:
        pass


def _is_ssl_error(error: OSError) -> bool:
    import ssl

    return isinstance(error, ssl.SSLError)


def _speaks_tls(host: str, port: int, seconds: float) -> bool:
    """Whether ``host:port`` completes a TLS handshake (certificate not checked: only the protocol is asked)."""
    import ssl

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection((host, port), timeout=min(seconds, 5.0)) as raw, \
                context.wrap_socket(raw, server_hostname=None):
            return True
    except (OSError, ValueError):
        return False


def _short(text: str, limit: int = 160) -> str:
    return printable(text, limit)  # device bytes may be in it: escaped, one line, capped
