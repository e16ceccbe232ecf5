"""requests as amtkit uses it: AMT's digest as a requests auth, TLS from :mod:`amtkit.tls`, errors mapped.

Used by the legacy SOAP client (zeep runs over a ``requests.Session``) and by the optional requests
WS-Man transport (:mod:`amtkit.requests_transport`). Import it only where requests is wanted:
:func:`amtkit.http.optional.require` says what to install when it is missing.

* :class:`AMTDigestAuth` signs like the built-in transport: after the first challenge every request
  is signed up front (same nonce, next ``nc``), so a stream of calls costs one round trip each; a 401
  is answered by one re-signed retry on a fresh challenge, a second 401 is an
  :class:`~amtkit.exceptions.AuthenticationError`. The digest ``uri`` is each request's own path, so
  one auth object serves ``/wsman`` and every legacy ``/<Name>Service``.
* :func:`mount_tls` puts :func:`amtkit.tls.client_context` into the session for ``https://`` URLs of
  the device, and checks a SHA-256 pin on every new connection (urllib3's ``assert_fingerprint``).
* :func:`transport_error` maps requests' exceptions to amtkit's error tree.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter

from .. import exceptions as exc
from .. import tls as amt_tls
from ..config import TLSConfig
from ..text import printable
from .digest import (
    Challenge,
    Credentials,
    DigestAlgorithmError,
    DigestError,
    authorization_header,
    parse_challenge,
)

__all__ = ["AMTDigestAuth", "RoundTrips", "mount_tls", "negotiate_auth", "transport_error"]


class RoundTrips:
    """A counter of HTTP exchanges (a 401 and its retry count as two)."""

    def __init__(self) -> None:
        self.count = 0

    def add(self, response: requests.Response) -> None:
        self.count += 1 + len(response.history)


def current_timeouts(transport: Any) -> tuple[float, float]:
    """requests' ``(connect, read)`` timeouts for the next request over ``transport``: its own, cut to its
    per-host deadline (:meth:`amtkit.transport.TransportSettings.current_timeout`) when it has one."""
    current = getattr(transport, "current_timeout", lambda: transport.timeout)()
    return (current.connect_seconds, current.read)


class AMTDigestAuth(requests.auth.AuthBase):
    """HTTP digest as AMT speaks it, for a ``requests.Session`` (thread-safe)."""

    def __init__(self, credentials: Credentials, host: str | None = None, *, allow_no_qop: bool = False) -> None:
        self.credentials = credentials
        self.host = host
        self.allow_no_qop = allow_no_qop
        """Answer a challenge without ``qop`` (RFC 2069); off, as for the built-in transport."""
        self._challenge: Challenge | None = None
        self._nc = 0
        self._lock = threading.Lock()
        self.timeouts: Callable[[], tuple[float, float]] | None = None
        """Connect and read timeouts for the answer to a challenge (its owner's, cut to a fleet job's per-host
        deadline); ``None``: those of the request that drew the challenge."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        self._sign(request)
        request.register_hook("response", self._answer_challenge)
        return request

    def _sign(self, request: requests.PreparedRequest) -> None:
        with self._lock:
            if self._challenge is None:
                request.headers.pop("Authorization", None)
                return
            self._nc += 1
            request.headers["Authorization"] = authorization_header(
                self.credentials, self._challenge, method=request.method or "POST", uri=request.path_url,
                nc=self._nc, allow_no_qop=self.allow_no_qop)

    def _take(self, response: requests.Response) -> None:
        try:
            challenge = parse_challenge(response.headers.get("WWW-Authenticate", ""))
        except DigestAlgorithmError as error:
            raise exc.AuthenticationError(f"the device asks for digest algorithm {error.algorithm!r}; amtkit signs "
                                          "with MD5, as Intel AMT does", host=self.host) from error
        except DigestError as error:
            raise exc.NotDetectedError(f"answered 401 without a usable digest challenge ({printable(error)})",
                                       host=self.host) from error
        if not challenge.supports_auth_qop:
            raise exc.NotDetectedError("answered 401 with a digest challenge amtkit cannot answer (no qop=auth)",
                                       host=self.host)
        if not challenge.qop and not self.allow_no_qop:
            raise exc.AuthenticationError(
                "refusing to answer a digest challenge without qop (AMT always offers qop=\"auth\"; such an "
                "answer can be replayed with another body)", host=self.host, username=self.credentials.username,
                hint="someone between amtkit and the device may be downgrading the challenge: use TLS (--tls); "
                     "docs/errors.md tells how to allow an old device that really lacks qop")
        with self._lock:
            self._challenge = challenge
            self._nc = 0

    def _answer_challenge(self, response: requests.Response, **kwargs: Any) -> requests.Response:
        if response.status_code != 401:
            return response
        # One more try on a fresh challenge: first contact, an expired (stale) nonce, or a reset nonce.
        self._take(response)
        response.content  # noqa: B018  (drain the body so the connection can be reused)
        response.close()
        retry = response.request.copy()
        self._sign(retry)
        if self.timeouts is not None:
            kwargs["timeout"] = self.timeouts()
        answer = response.connection.send(retry, **kwargs)
        answer.history.append(response)
        answer.request = retry
        if answer.status_code == 401:
            with self._lock:
                self._challenge = None
            raise exc.AuthenticationError(f"authentication failed for user {self.credentials.username!r}",
                                          host=self.host, username=self.credentials.username)
        return answer


class _TLSAdapter(HTTPAdapter):
    """Connections with amtkit's SSL context and, if pinned, a fingerprint check."""

    def __init__(self, tls: TLSConfig) -> None:
        self._context = amt_tls.client_context(tls)
        self._pin = tls.pin_sha256
        self._verifying = not (tls.pin_sha256 or tls.insecure)
        super().__init__()

    def build_connection_pool_key_attributes(self, request: requests.PreparedRequest, verify: Any,
                                             cert: Any = None) -> tuple[dict[str, Any], dict[str, Any]]:
        # The SSL context holds the trust settings (CA file, pin, insecure, client certificate):
        # requests' own ``verify``/``cert`` must not override them.
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        for key in ("ca_certs", "ca_cert_dir", "cert_file", "key_file"):
            pool_kwargs.pop(key, None)
        pool_kwargs["ssl_context"] = self._context
        pool_kwargs["cert_reqs"] = "CERT_REQUIRED" if self._verifying else "CERT_NONE"
        if not self._verifying:
            pool_kwargs["assert_hostname"] = False
        if self._pin:
            pool_kwargs["assert_fingerprint"] = self._pin
        return host_params, pool_kwargs

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        return None  # requests would set its CA bundle on the pool here; the context decides instead

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        if self._verifying:
            return super().send(request, *args, **kwargs)
        # A pin or insecure=True was asked for by name: urllib3's "unverified request" warning would
        # only repeat it on every call.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
            return super().send(request, *args, **kwargs)


def mount_tls(session: requests.Session, base_url: str, tls: TLSConfig) -> None:
    """Make ``session`` reach ``base_url`` (``https://host:16993``) with amtkit's TLS settings."""
    session.mount(base_url + "/", _TLSAdapter(tls))


def negotiate_auth(host: str | None = None) -> requests.auth.AuthBase:
    """Kerberos (HTTP Negotiate) through requests-gssapi, for AMT provisioned with Kerberos users.

    The ticket comes from the user's credential cache (``kinit``). Raises
    :class:`~amtkit.exceptions.FeatureUnavailableError` when requests-gssapi is not installed.
    """
    from .optional import require

    gssapi = require("requests_gssapi", purpose="Kerberos (Negotiate) authentication", host=host)
    auth: requests.auth.AuthBase = gssapi.HTTPSPNEGOAuth(mutual_authentication=gssapi.OPTIONAL)
    return auth


def _chain(error: BaseException) -> str:
    parts: list[str] = []
    seen: BaseException | None = error
    while seen is not None and len(parts) < 6:
        parts.append(f"{type(seen).__name__}: {seen}")
        seen = seen.__cause__ or seen.__context__ or (seen.args[0] if seen.args and isinstance(
            seen.args[0], BaseException) else None)
    return " | ".join(parts)


def transport_error(error: requests.RequestException, *, host: str, port: int, timeout: float,
                    tls: TLSConfig | None = None) -> exc.AMTError:
    """The amtkit error for a requests failure (``tls``: the settings of the connection, for a failed handshake's
    hint)."""
    text = _chain(error)
    if isinstance(error, requests.exceptions.ProxyError):
        return exc.UnreachableError(f"the HTTP proxy failed: {_short(text)}", host=host,
                                    hint="check the proxy settings (HTTPS_PROXY, NO_PROXY, the Session's proxies)")
    if isinstance(error, requests.exceptions.SSLError):
        if "ingerprint" in text:
            return exc.TLSError("the device's certificate does not match the pinned SHA-256 fingerprint",
                                reason="pin-mismatch", host=host,
                                hint="check the pin; `amtkit fingerprint HOST` shows the certificate the device "
                                     "presents")
        if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
            return exc.TLSError("the device's TLS certificate could not be verified", reason="verification",
                                host=host, hint="pass --ca-file with the issuing CA, or pin the certificate with "
                                                "--pin-sha256")
        # The innermost error is the handshake's own reason; the pool and retry wrappers around it say nothing.
        return exc.TLSError(f"TLS handshake failed: {_short(text.rsplit(' | ', 1)[-1])}", reason="protocol",
                            host=host, hint=amt_tls.HANDSHAKE_HINT if tls is None else amt_tls.handshake_hint(tls))
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return exc.ConnectTimeoutError(f"no connection to port {port} within {timeout:g} s", host=host)
    if isinstance(error, requests.exceptions.ReadTimeout):
        return exc.ReadTimeoutError(f"no answer within {timeout:g} s", host=host)
    if isinstance(error, (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)):
        return exc.RemoteProtocolError(f"broken HTTP framing from the device: {_short(text)}", host=host)
    if isinstance(error, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema)):
        return exc.UsageError(f"cannot form a URL for this device: {_short(text)}", host=host)
    if "BadStatusLine" in text or "InvalidHeader" in text or "LineTooLong" in text:
        return exc.NotDetectedError(f"port {port} answered, but not with HTTP", host=host)
    if "RemoteDisconnected" in text or "ConnectionResetError" in text or "BrokenPipe" in text:
        return exc.UnreachableError("the device closed the connection without answering", host=host,
                                    hint="AMT may be busy or this port may not be AMT; retry later")
    if "NameResolution" in text or "Name or service not known" in text or "getaddrinfo" in text:
        return exc.UnreachableError("the host name does not resolve", host=host, hint="check the spelling or DNS")
    if "Connection refused" in text or "ConnectionRefused" in text:
        return exc.UnreachableError(f"connection to port {port} refused", host=host)
    return exc.UnreachableError(f"cannot reach port {port}: {_short(text)}", host=host)


def _short(text: str, limit: int = 160) -> str:
    return printable(text, limit)
