"""The only module that does I/O for WS-Man: one kept-alive HTTP(S) session per device.

* Digest as AMT does it (:mod:`amtkit.http.digest`): after the first challenge every request is
  signed up front with the same nonce and an incrementing ``nc``, so a steady stream of calls
  costs one HTTP round trip each. A 401 (expired nonce, ``stale=true``, or a nonce AMT reset)
  is answered by one re-signed retry; a second 401 is an :class:`AuthenticationError`.
* TLS verification on by default, CA file, SHA-256 pinning, or an explicit insecure switch;
  client certificates for mutual TLS.
* Bounded retries with backoff, only for idempotent requests and only on connection errors
  (AMT drops idle connections and its engine sleeps). Method calls are never retried blindly.
* Every ``requests``/``urllib3`` exception is mapped to an :mod:`amtkit.exceptions` error.
"""

from __future__ import annotations

import logging
import threading
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter

from . import exceptions as exc
from .config import Timeout, TLSConfig
from .http.digest import Challenge, Credentials, DigestError, authorization_header, parse_challenge
from .wsman import names

__all__ = ["HTTPReply", "Transport"]

log = logging.getLogger(__name__)

_SOAP_CONTENT_TYPE = "application/soap+xml;charset=UTF-8"


@dataclass(frozen=True)
class HTTPReply:
    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def server(self) -> str:
        return self.headers.get("Server", "")


class _PinningAdapter(HTTPAdapter):
    """Checks the peer certificate's SHA-256 fingerprint instead of a CA chain (urllib3 does the check)."""

    def __init__(self, fingerprint: str, **kwargs: Any) -> None:
        self._fingerprint = fingerprint
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["assert_fingerprint"] = self._fingerprint
        super().init_poolmanager(*args, **kwargs)


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
        path: str = "/wsman",
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
        self.retries = retries
        self.backoff = backoff
        self.round_trips = 0
        """HTTP requests sent so far (a 401 challenge and its retry count as two)."""
        self._challenge: Challenge | None = None
        self._nc = 0
        self._lock = threading.Lock()
        self._session = self._new_session()

    # -- session ---------------------------------------------------------------------------------
    def _new_session(self) -> requests.Session:
        session = requests.Session()
        session.trust_env = False  # AMT is reached directly; no proxy lookups on every call
        session.headers.clear()
        session.headers["User-Agent"] = "amtkit"
        session.headers["Accept-Encoding"] = "identity"
        if self.tls is not None:
            if self.tls.pin_sha256:
                session.mount("https://", _PinningAdapter(self.tls.pin_sha256))
                session.verify = False
            elif self.tls.insecure:
                session.verify = False
            else:
                session.verify = self.tls.ca_file or True
            if self.tls.client_cert is not None:
                session.cert = self.tls.client_cert
        return session

    def close(self) -> None:
        self._session.close()

    # -- digest ----------------------------------------------------------------------------------
    def _sign(self, method: str, uri: str) -> str | None:
        if self.credentials is None or self._challenge is None:
            return None
        self._nc += 1
        return authorization_header(self.credentials, self._challenge, method=method, uri=uri, nc=self._nc)

    def _take_challenge(self, reply: HTTPReply) -> bool:
        header = reply.headers.get("WWW-Authenticate", "")
        try:
            challenge = parse_challenge(header)
        except DigestError as error:
            log.debug("unusable challenge from %s: %s", self.host, error)
            return False
        if not challenge.supports_auth_qop:
            log.debug("challenge from %s offers only qop %s", self.host, ",".join(challenge.qop))
            return False
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
            headers = {"Content-Type": _SOAP_CONTENT_TYPE}
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
        url = self.base_url + (path if path is not None else self.path)
        attempts = 1 + (self.retries if idempotent else 0)
        for attempt in range(attempts):
            try:
                self.round_trips += 1
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
                    response = self._session.request(
                        method, url, data=body, headers=headers, timeout=self.timeout.as_requests(),
                        allow_redirects=False,
                    )
                return HTTPReply(response.status_code, response.headers, response.content)
            except requests.exceptions.SSLError as error:
                raise self._tls_error(error) from None
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as error:
                if "BadStatusLine(" in str(error):
                    # Bytes came back, but not an HTTP status line: something other than AMT listens.
                    raise exc.NotDetectedError(f"port {self.port} answered, but not with HTTP",
                                               host=self.host) from None
                mapped = self._connection_error(error)
                retryable = not isinstance(error, requests.exceptions.ReadTimeout) or idempotent
                if attempt + 1 < attempts and retryable and not isinstance(mapped, exc.ConnectTimeoutError):
                    time.sleep(self.backoff * (2**attempt))
                    continue
                raise mapped from None
            except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError) as error:
                raise exc.RemoteProtocolError(f"broken HTTP framing from the device: {error}", host=self.host) from None
            except requests.exceptions.RequestException as error:
                raise exc.TransportError(f"HTTP request failed: {error}", host=self.host) from None
        raise AssertionError("unreachable")

    def _tls_error(self, error: Exception) -> exc.TLSError:
        text = str(error)
        if "Fingerprints did not match" in text or "fingerprint" in text.lower():
            return exc.TLSError("the device's certificate does not match the pinned SHA-256 fingerprint",
                                reason="pin-mismatch", host=self.host,
                                hint="re-read the fingerprint (amtkit identify --tls --insecure shows it) or fix the pin")
        if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text or "hostname" in text.lower():
            return exc.TLSError("the device's TLS certificate could not be verified", reason="verification",
                                host=self.host,
                                hint="pass --ca-file with the issuing CA, or pin the certificate with --pin-sha256")
        return exc.TLSError(f"TLS handshake failed: {_short(text)}", reason="protocol", host=self.host,
                            hint="check that the port speaks TLS (16993) and the protocol versions both sides allow")

    def _connection_error(self, error: Exception) -> exc.TransportError:
        text = str(error)
        if isinstance(error, requests.exceptions.ConnectTimeout):
            return exc.ConnectTimeoutError(f"no connection to port {self.port} within "
                                           f"{self.timeout.connect_seconds:g} s", host=self.host)
        if isinstance(error, requests.exceptions.ReadTimeout):
            return exc.ReadTimeoutError(f"no answer within {self.timeout.read:g} s", host=self.host)
        if "Connection refused" in text or "Errno 111" in text:
            return exc.UnreachableError(f"connection to port {self.port} refused", host=self.host)
        if "Name or service not known" in text or "nodename nor servname" in text or "getaddrinfo" in text:
            return exc.UnreachableError("the host name does not resolve", host=self.host,
                                        hint="check the spelling or DNS")
        if "RemoteDisconnected" in text or "Connection aborted" in text or "reset by peer" in text:
            return exc.UnreachableError("the device closed the connection without answering", host=self.host,
                                        hint="AMT may be busy or this port may not be AMT; retry later")
        return exc.UnreachableError(f"cannot reach port {self.port}: {_short(text)}", host=self.host)


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
