"""A WS-Man transport on ``requests``: the same interface as :class:`amtkit.transport.Transport`.

For networks where users need what requests brings, chosen per client::

    Client(host, password=..., transport="requests")            # requests' defaults (HTTPS_PROXY, ...)
    Client(host, password=..., transport=my_session)             # your Session: proxies, adapters, trust
    Client(host, transport="requests", auth="negotiate")         # Kerberos via requests-gssapi

* Digest as AMT speaks it (:class:`~amtkit.http.requests_support.AMTDigestAuth`), or any requests auth
  object given as ``auth`` (``"negotiate"`` builds requests-gssapi's ``HTTPSPNEGOAuth``); a Session that
  already has ``auth`` set keeps it.
* TLS from the client's :class:`~amtkit.config.TLSConfig` (CA file, SHA-256 pin, insecure, client
  certificate) is mounted for the device's ``https://`` URL; without one, a user's Session keeps its own
  verification settings and mounted adapters.
* Retries and error mapping as the built-in transport: connection failures of idempotent requests are
  retried with backoff, everything else maps to :mod:`amtkit.exceptions`. Replies are capped at
  :data:`amtkit.transport.MAX_REPLY_BYTES`; the read timeout applies per read (urllib3's), not to the
  whole reply as in the built-in transport.

It costs more per call than the built-in transport (see ``docs/generations.md`` and ``bench/``): use it
for what only requests offers.
"""

from __future__ import annotations

import time
from typing import Any

import requests

from . import exceptions as exc
from .config import Timeout, TLSConfig
from .http.digest import Credentials
from .http.requests_support import (
    AMTDigestAuth,
    RoundTrips,
    current_timeouts,
    mount_tls,
    negotiate_auth,
    transport_error,
)
from .transport import MAX_REPLY_BYTES, Headers, HTTPReply, TransportSettings
from .wsman import names

__all__ = ["RequestsTransport"]


class _NoAuth(requests.auth.AuthBase):
    """Send without credentials even when the Session has an auth (WS-Man Identify)."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request


def resolve_auth(auth: object, credentials: Credentials | None, host: str, *,
                 allow_digest_without_qop: bool = False) -> requests.auth.AuthBase | None:
    """The requests auth for ``auth`` (an AuthBase, ``"negotiate"``, ``"digest"`` or None)."""
    if isinstance(auth, requests.auth.AuthBase):
        return auth
    if auth in ("negotiate", "kerberos"):
        return negotiate_auth(host)
    if auth not in (None, "digest"):
        raise exc.UsageError(f"unknown auth {auth!r}: give 'digest', 'negotiate' or a requests auth object",
                             host=host)
    if credentials is None:
        return None
    return AMTDigestAuth(credentials, host, allow_no_qop=allow_digest_without_qop)


class RequestsTransport(TransportSettings):
    """Sends WS-Man envelopes to one device over a ``requests.Session`` and returns raw HTTP replies."""

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
        session: requests.Session | None = None,
        auth: object = None,
        allow_digest_without_qop: bool = False,
    ) -> None:
        super().__init__(host, port=port, tls=tls, credentials=credentials, timeout=timeout, retries=retries,
                         backoff=backoff, path=path, allow_digest_without_qop=allow_digest_without_qop)
        self._owns_session = session is None
        self.session = session if session is not None else requests.Session()
        if tls is not None:
            mount_tls(self.session, self.base_url, tls)
        if auth is not None or self.session.auth is None:
            self.session.auth = resolve_auth(auth, credentials, host,
                                             allow_digest_without_qop=allow_digest_without_qop)
        if isinstance(self.session.auth, AMTDigestAuth):
            self.session.auth.timeouts = lambda: current_timeouts(self)  # the challenge's answer keeps the deadline
        self._round_trips = RoundTrips()

    @property
    def round_trips(self) -> int:
        """HTTP requests sent so far (a 401 challenge and its retry count as two)."""
        return self._round_trips.count

    def close(self) -> None:
        if self._owns_session:
            self.session.close()

    def post(self, body: bytes, *, idempotent: bool, authenticate: bool = True) -> HTTPReply:
        """POST an envelope to ``/wsman`` and return the reply (any status but 401)."""
        headers = {"Content-Type": names.SOAP_CONTENT_TYPE}
        auth = None if authenticate else _NoAuth()
        reply = self._send("POST", self.path, body, headers, idempotent, auth)
        if reply.status == 401 and authenticate:
            if self.session.auth is None:
                raise exc.AuthenticationError("the device requires credentials and none were given",
                                              host=self.host)
            raise exc.AuthenticationError("the device refused the credentials", host=self.host,
                                          username=self.credentials.username if self.credentials else None)
        return reply

    def get(self, path: str = "/") -> HTTPReply:
        """A plain GET (discovery reads AMT's ``Server`` header from ``GET /``)."""
        return self._send("GET", path, None, {}, True, _NoAuth())

    def _send(self, method: str, path: str, body: bytes | None, headers: dict[str, str], idempotent: bool,
              auth: requests.auth.AuthBase | None) -> HTTPReply:
        attempts = 1 + (self.retries if idempotent else 0)
        for attempt in range(attempts):
            try:
                return self._exchange(method, path, body, headers, auth)
            except exc.UnreachableError:
                if attempt + 1 < attempts:
                    time.sleep(self.backoff * (2**attempt))
                    continue
                raise
        raise AssertionError("unreachable")

    def _exchange(self, method: str, path: str, body: bytes | None, headers: dict[str, str],
                  auth: requests.auth.AuthBase | None) -> HTTPReply:
        current = self.current_timeout()
        timeout = (current.connect_seconds, current.read)
        kwargs: dict[str, Any] = {"data": body, "headers": headers, "timeout": timeout, "stream": True,
                                  "allow_redirects": False}
        if auth is not None:
            kwargs["auth"] = auth
        try:
            response = self.session.request(method, self.base_url + path, **kwargs)
            self._round_trips.add(response)
            data = self._read(response)
        except exc.AMTError:
            raise
        except requests.RequestException as error:
            raise transport_error(error, host=self.host, port=self.port, timeout=current.read,
                                  tls=self.tls) from error
        return HTTPReply(response.status_code, Headers(list(response.headers.items())), data)

    def _read(self, response: requests.Response) -> bytes:
        # Read to the end without closing: a fully read reply hands its connection back to the pool
        # (closing the response would close the kept-alive connection too).
        chunks = []
        size = 0
        for chunk in response.iter_content(64 * 1024):
            size += len(chunk)
            if size > MAX_REPLY_BYTES:
                response.close()
                raise exc.RemoteProtocolError(f"the reply exceeds {MAX_REPLY_BYTES} bytes", host=self.host)
            chunks.append(chunk)
        return b"".join(chunks)
