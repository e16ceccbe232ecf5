"""The only module that does WS-Man I/O: one kept-alive HTTP(S) connection per device.

* Digest as AMT does it (:mod:`amtkit.http.digest`): after the first challenge every request is
  signed up front with the same nonce and an incrementing ``nc``, so a steady stream of calls
  costs one HTTP round trip each. A 401 (expired nonce, ``stale=true``, or a nonce AMT reset)
  is answered by one re-signed retry; a second 401 is an :class:`AuthenticationError`.
* TLS per :mod:`amtkit.tls`: verification on by default, CA file, SHA-256 pinning, or an
  explicit insecure switch; client certificates for mutual TLS.
* Bounded retries with backoff, only for idempotent requests and only when the connection
  failed (refused, reset, closed: AMT drops idle connections and its engine sleeps); a device
  that accepted the request but did not answer in time is not asked again. Method calls are
  never retried blindly; a kept-alive connection the device has closed is noticed *before*
  sending, not after.
* ``Timeout.read`` bounds the whole reply, not each read: a peer that dribbles bytes cannot hold
  a call longer. Replies are capped at :data:`MAX_REPLY_BYTES`.
* Every socket, TLS and HTTP failure is mapped to an :mod:`amtkit.exceptions` error.

HTTP framing is the standard library's ``http.client``. An earlier version used ``requests``;
its per-call overhead (about 0.4 ms of CPU, measured in bench/) was larger than the device's own
answer time, so a steady stream of calls could not come near the bare-socket baseline.
"""

from __future__ import annotations

import http.client
import io
import logging
import select
import socket
import ssl
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from . import exceptions as exc
from . import tls as amt_tls
from .config import Timeout, TLSConfig
from .http.digest import (
    Challenge,
    Credentials,
    DigestAlgorithmError,
    DigestError,
    authorization_header,
    parse_challenge,
)
from .wsman import names

__all__ = ["HTTPReply", "Headers", "Transport"]

log = logging.getLogger(__name__)



#: Larger replies are refused: AMT's own envelopes stay far below this.
MAX_REPLY_BYTES = 16 * 1024 * 1024


class _DeadlineReader(io.RawIOBase):
    """The socket as ``http.client`` reads it, with one deadline for the whole reply and a size cap."""

    def __init__(self, sock: socket.socket, deadline: float, host: str) -> None:
        self._sock = sock
        self._deadline = deadline
        self._host = host
        self._received = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("reply deadline passed")
        self._sock.settimeout(remaining)
        count = self._sock.recv_into(buffer)
        self._received += count
        if self._received > MAX_REPLY_BYTES + 64 * 1024:
            raise exc.RemoteProtocolError(f"the reply exceeds {MAX_REPLY_BYTES} bytes", host=self._host)
        return count


class _ReplySource:
    """What ``http.client.HTTPResponse`` takes as its socket: only ``makefile`` is used."""

    def __init__(self, reader: _DeadlineReader) -> None:
        self._reader = reader

    def makefile(self, mode: str) -> io.BufferedReader:
        return io.BufferedReader(self._reader)


class Headers(Mapping[str, str]):
    """Response headers, looked up without regard to case; repeated headers joined by ``, ``."""

    def __init__(self, items: list[tuple[str, str]]) -> None:
        self._items: dict[str, tuple[str, str]] = {}
        for name, value in items:
            key = name.lower()
            if key in self._items:
                value = f"{self._items[key][1]}, {value}"
            self._items[key] = (name, value)

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()][1]

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def __repr__(self) -> str:
        return f"Headers({dict(self._items.values())!r})"


@dataclass(frozen=True)
class HTTPReply:
    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def server(self) -> str:
        return self.headers.get("Server", "")


def _ascii_host(host: str) -> str:
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        raise exc.UsageError(f"{host!r} is not a valid host name", host=host) from None


def _dropped(sock: socket.socket | None) -> bool:
    """Whether a kept-alive socket was closed by the device (readable while idle = EOF or junk)."""
    if sock is None:
        return True
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return True
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


class Transport:
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
        self.host = host
        self.tls = tls
        self.port = port or (names.PORT_TLS if tls is not None else names.PORT_HTTP)
        scheme = "https" if tls is not None else "http"
        bracketed = f"[{host}]" if ":" in host and not host.startswith("[") else host
        self.base_url = f"{scheme}://{bracketed}:{self.port}"
        self.path = path
        self.url = self.base_url + path
        self.credentials = credentials
        self.timeout = timeout or Timeout()
        self.deadline: float | None = None
        """A ``time.monotonic()`` instant after which no request may run (fleet jobs' per-host deadline):
        each request's connect and read timeouts are cut to the time left."""
        self.retries = retries
        self.backoff = backoff
        self.round_trips = 0
        """HTTP requests sent so far (a 401 challenge and its retry count as two)."""
        self._challenge: Challenge | None = None
        self._nc = 0
        self.allow_digest_without_qop = allow_digest_without_qop
        """Answer a challenge without ``qop`` (RFC 2069 form); off: such a challenge is a downgrade."""
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        # The Host header carries the IDNA (ASCII) form of an internationalized name.
        self._host_header = f"{_ascii_host(bracketed)}:{self.port}"
        self._tls_context: ssl.SSLContext | None = amt_tls.client_context(tls) if tls is not None else None

    # -- connection ------------------------------------------------------------------------------
    def current_timeout(self) -> Timeout:
        """:attr:`timeout`, cut to what is left before :attr:`deadline`; a passed deadline is a read timeout."""
        if self.deadline is None:
            return self.timeout
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise exc.ReadTimeoutError("no answer before the host's deadline", host=self.host)
        return Timeout(min(self.timeout.read, left), connect=min(self.timeout.connect_seconds, left))

    def _open_socket(self) -> socket.socket:
        timeout = self.current_timeout()
        raw = socket.create_connection((self.host, self.port), timeout=timeout.connect_seconds)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        raw.settimeout(timeout.read)
        if self.tls is None:
            return raw
        return amt_tls.wrap_socket(raw, self.tls, self.host, context=self._tls_context)

    def _socket_for_request(self) -> tuple[socket.socket, bool]:
        """The kept-alive socket if the device has not closed it, else a new one (and whether new)."""
        sock = self._socket
        if sock is not None and _dropped(sock):
            self._discard_connection()
            sock = None
        if sock is not None:
            return sock, False
        self._socket = self._open_socket()
        return self._socket, True

    def _discard_connection(self) -> None:
        if self._socket is not None:
            try:
                self._socket.close()
            except OSError:
                pass
            self._socket = None

    def close(self) -> None:
        with self._lock:
            self._discard_connection()

    # -- digest ----------------------------------------------------------------------------------
    def _sign(self, method: str, uri: str) -> str | None:
        if self.credentials is None or self._challenge is None:
            return None
        self._nc += 1
        return authorization_header(self.credentials, self._challenge, method=method, uri=uri, nc=self._nc,
                                    allow_no_qop=self.allow_digest_without_qop)

    def _take_challenge(self, reply: HTTPReply) -> bool:
        header = reply.headers.get("WWW-Authenticate", "")
        try:
            challenge = parse_challenge(header)
        except DigestAlgorithmError as error:
            raise exc.AuthenticationError(
                f"the device asks for digest algorithm {error.algorithm!r}; amtkit signs with MD5, as Intel AMT does",
                host=self.host, hint="this is not how AMT challenges: check that the address is the AMT device",
            ) from None
        except DigestError as error:
            log.debug("unusable challenge from %s: %s", self.host, error)
            return False
        if not challenge.supports_auth_qop:
            log.debug("challenge from %s offers only qop %s", self.host, ",".join(challenge.qop))
            return False
        if not challenge.qop and not self.allow_digest_without_qop:
            raise exc.AuthenticationError(
                "refusing to answer a digest challenge without qop: Intel AMT always offers qop=\"auth\", and "
                "the answer to a challenge without it can be replayed with another request body",
                host=self.host, username=self.credentials.username if self.credentials else None,
                hint="someone between amtkit and the device may be downgrading the challenge (use TLS); for an "
                     "old device that really lacks qop, pass allow_digest_without_qop=True to Client",
            )
        self._challenge = challenge
        self._nc = 0
        return True

    # -- sending ---------------------------------------------------------------------------------
    def post(self, body: bytes, *, idempotent: bool, authenticate: bool = True) -> HTTPReply:
        """POST an envelope to ``/wsman`` and return the reply (any status but 401).

        Raises :class:`~amtkit.exceptions.AuthenticationError` when the device keeps refusing
        the credentials, and the transport errors of :mod:`amtkit.exceptions`.
        """
        with self._lock:
            headers = {"Content-Type": names.SOAP_CONTENT_TYPE}
            signed = self._sign("POST", self.path) if authenticate else None
            if signed:
                headers["Authorization"] = signed
            reply = self._send("POST", body, headers, idempotent)
            if reply.status != 401:
                return reply
            if self.credentials is None or not authenticate:
                if not authenticate:
                    return reply
                raise exc.AuthenticationError("the device requires credentials and none were given",
                                              host=self.host)
            # One more try on a fresh challenge: first contact, an expired (stale) nonce, or a nonce
            # the device reset mid-stream all land here.
            if not self._take_challenge(reply):
                raise exc.NotDetectedError("answered 401 without a usable digest challenge", host=self.host)
            headers["Authorization"] = self._sign("POST", self.path) or ""
            reply = self._send("POST", body, headers, idempotent)
            if reply.status == 401:
                self._challenge = None
                raise exc.AuthenticationError(
                    f"authentication failed for user {self.credentials.username!r}",
                    host=self.host, username=self.credentials.username,
                )
            return reply

    def get(self, path: str = "/") -> HTTPReply:
        """A plain GET (discovery reads AMT's ``Server`` header from ``GET /``)."""
        with self._lock:
            return self._send("GET", None, {}, True, path=path)

    def _send(self, method: str, body: bytes | None, headers: dict[str, str], idempotent: bool,
              path: str | None = None) -> HTTPReply:
        attempts = 1 + (self.retries if idempotent else 0)
        for attempt in range(attempts):
            try:
                return self._exchange(method, path if path is not None else self.path, body, headers)
            except exc.TransportError as error:
                self._discard_connection()
                retryable = isinstance(error, exc.UnreachableError)
                if attempt + 1 < attempts and retryable:
                    time.sleep(self.backoff * (2**attempt))
                    continue
                raise
            except exc.AMTError:
                self._discard_connection()
                raise
        raise AssertionError("unreachable")

    def _request_bytes(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> bytes:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self._host_header}", "User-Agent: amtkit"]
        for name, value in headers.items():
            if "\r" in value or "\n" in value:
                raise exc.LocalProtocolError(f"refusing a line break in the {name} header", host=self.host)
            lines.append(f"{name}: {value}")
        if body is not None:
            lines.append(f"Content-Length: {len(body)}")
        try:
            head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        except UnicodeEncodeError:
            raise exc.LocalProtocolError("the user name or a header holds characters HTTP headers cannot carry "
                                         "(AMT user names are ASCII)", host=self.host) from None
        # Head and body in one write: one segment, one wake-up of the device, no Nagle stall.
        return head + (body or b"")

    def _exchange(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> HTTPReply:
        """One request and its reply on the kept-alive connection, errors mapped.

        The request head is written here (a handful of fixed lines); the reply is read by the
        standard library's ``http.client.HTTPResponse`` (status line, headers, chunked framing).
        """
        request = self._request_bytes(method, path, body, headers)
        timeout = self.current_timeout()
        self.round_trips += 1
        connecting = True
        try:
            sock, _ = self._socket_for_request()
            connecting = False
            sock.settimeout(timeout.read)  # the last reply's deadline may have shortened it
            sock.sendall(request)
            reader = _DeadlineReader(sock, time.monotonic() + timeout.read, self.host)
            response = http.client.HTTPResponse(_ReplySource(reader), method=method)  # type: ignore[arg-type]
            response.begin()
            data = response.read()
        except exc.AMTError:
            raise
        except TimeoutError:
            if connecting:
                raise exc.ConnectTimeoutError(f"no connection to port {self.port} within "
                                              f"{timeout.connect_seconds:g} s", host=self.host) from None
            if self.deadline is not None and timeout.read < self.timeout.read:
                raise exc.ReadTimeoutError("no answer before the host's deadline", host=self.host) from None
            raise exc.ReadTimeoutError(f"no answer within {timeout.read:g} s", host=self.host) from None
        except ssl.SSLError as error:
            raise exc.TLSError(f"TLS failed: {_short(str(error))}", reason="protocol", host=self.host) from None
        except (http.client.BadStatusLine, http.client.LineTooLong, http.client.UnknownProtocol) as error:
            if isinstance(error, http.client.RemoteDisconnected):
                raise exc.UnreachableError("the device closed the connection without answering", host=self.host,
                                           hint="AMT may be busy or this port may not be AMT; retry later") from None
            raise exc.NotDetectedError(f"port {self.port} answered, but not with HTTP", host=self.host) from None
        except (http.client.IncompleteRead, http.client.HTTPException) as error:
            raise exc.RemoteProtocolError(f"broken HTTP framing from the device: {_short(str(error))}",
                                          host=self.host) from None
        except ConnectionRefusedError:
            raise exc.UnreachableError(f"connection to port {self.port} refused", host=self.host) from None
        except socket.gaierror:
            raise exc.UnreachableError("the host name does not resolve", host=self.host,
                                       hint="check the spelling or DNS") from None
        except (ConnectionResetError, BrokenPipeError, ConnectionAbortedError):
            raise exc.UnreachableError("the device closed the connection without answering", host=self.host,
                                       hint="AMT may be busy or this port may not be AMT; retry later") from None
        except OSError as error:
            raise exc.UnreachableError(f"cannot reach port {self.port}: {error.strerror or error}",
                                       host=self.host) from None
        if response.will_close:
            self._discard_connection()
        return HTTPReply(response.status, Headers(response.getheaders()), data)


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
