"""Calling AMT's legacy SOAP services through zeep, over the client's ``requests.Session``.

``client.eoi`` is a :class:`LegacySOAP`: one zeep service proxy per service, built from the WSDLs
bundled in ``amtkit/eoi/wsdl`` (never fetched: the zeep transport refuses every non-local URL), bound
to ``<base URL>/<Name>Service``. The session carries AMT's digest
(:class:`~amtkit.http.requests_support.AMTDigestAuth`) and the client's TLS settings; with the
requests WS-Man transport it is that transport's own session (proxies, adapters, auth included).

:meth:`LegacySOAP.call` returns the reply's fields as a dict and turns a non-zero status element
into :class:`~amtkit.exceptions.AMTReturnError` naming the PT_STATUS; every zeep, XML and transport
failure becomes an amtkit error.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import exceptions as exc
from ..codes import PTStatus
from ..http.optional import require
from ..text import printable
from .names import CONTENT_TYPE, Service

if TYPE_CHECKING:
    from ..client import Client

__all__ = ["LegacySOAP", "wsdl_path"]

# AMT 2.x-8.x offer TLS 1.0 and 1.1 only; amtkit's TLS starts at 1.2 (amtkit.tls) unless old TLS is allowed, so
# their TLS port completes no handshake by default: say which ways work instead of the generic TLS advice.
_LEGACY_TLS_HINT = ("AMT 8 and older (legacy SOAP) speak only TLS 1.0/1.1, which amtkit accepts only when asked: "
                    "--allow-old-tls (allow_old_tls=True); or reach them on port 16992 without --tls, on a network "
                    "you trust")

_DOCUMENTS: dict[str, Any] = {}
_DOCUMENTS_LOCK = threading.Lock()


def wsdl_path(service: Service) -> Path:
    """The bundled WSDL of ``service`` (package data)."""
    return Path(str(resources.files("amtkit.eoi") / "wsdl" / service.wsdl))


class LegacySOAP:
    """The legacy SOAP services of one device (``client.eoi``)."""

    def __init__(self, client: Client) -> None:
        require("requests", purpose="legacy SOAP (AMT 2.x-8.x)", host=client.host)
        zeep = require("zeep", purpose="legacy SOAP (AMT 2.x-8.x)", host=client.host)
        import requests

        from ..http.requests_support import AMTDigestAuth, RoundTrips, current_timeouts, mount_tls

        self._client = client
        transport = client.transport
        self.base_url = transport.base_url
        shared = getattr(transport, "session", None)
        if isinstance(shared, requests.Session):
            self.session, self._owns_session = shared, False
        else:
            self.session, self._owns_session = requests.Session(), True
            credentials = transport.credentials
            if credentials is not None:
                auth = AMTDigestAuth(credentials, client.host, allow_no_qop=transport.allow_digest_without_qop)
                auth.timeouts = lambda: current_timeouts(transport)
                self.session.auth = auth
            if transport.tls is not None:
                mount_tls(self.session, self.base_url, transport.tls)
        self.round_trips = RoundTrips()
        self._zeep = zeep
        self._transport = _offline_transport(zeep, self.session, self.round_trips, lambda: current_timeouts(transport))
        self._settings = zeep.Settings(strict=True, xml_huge_tree=False, forbid_dtd=True, forbid_entities=True,
                                       forbid_external=True)
        self._proxies: dict[str, Any] = {}

    def close(self) -> None:
        if self._owns_session:
            self.session.close()

    def _proxy(self, service: Service) -> Any:
        proxy = self._proxies.get(service.name)
        if proxy is None:
            client = self._zeep.Client(_document(self._zeep, service, self._transport, self._settings),
                                       transport=self._transport, settings=self._settings)
            proxy = client.create_service(f"{{{service.namespace}}}{service.name}SoapBinding",
                                          self.base_url + service.path)
            self._proxies[service.name] = proxy
        return proxy

    def call(self, service: Service, operation: str, *, check: bool = True, **params: Any) -> dict[str, Any]:
        """Call ``operation`` of ``service``; the reply's fields (status element included) as a dict.

        With ``check`` a non-zero status raises :class:`~amtkit.exceptions.AMTReturnError`
        (:class:`~amtkit.exceptions.NotProvisionedError` for INVALID_PT_MODE / INVALID_PROVISIONING_STATE).
        """
        host = self._client.host
        what = f"{service.name}.{operation}"
        try:
            method = getattr(self._proxy(service), operation)
            reply = method(**params)
        except exc.AMTError:
            raise
        except Exception as error:  # noqa: BLE001 - every zeep/requests/lxml failure is mapped below
            raise self._mapped(error, service, what) from error
        fields = _as_dict(self._zeep.helpers.serialize_object(reply, dict), service)
        status = fields.get(service.status_element)
        if not isinstance(status, int):
            raise exc.RemoteProtocolError(f"{what}: the reply has no {service.status_element}", host=host)
        if check and status != 0:
            raise return_error(what, operation, status, host)
        return fields

    def _mapped(self, error: Exception, service: Service, what: str) -> exc.AMTError:
        import requests

        from ..http.requests_support import transport_error

        zeep_exc = self._zeep.exceptions
        host, transport = self._client.host, self._client.transport
        if isinstance(error, requests.RequestException):
            tls = transport.tls
            mapped = transport_error(error, host=host, port=transport.port, timeout=transport.timeout.read, tls=tls)
            if isinstance(mapped, exc.TLSError) and mapped.reason == "protocol" and not (tls and tls.allow_old_tls):
                mapped.hint = _LEGACY_TLS_HINT
            return mapped
        if isinstance(error, zeep_exc.TransportError):
            status = getattr(error, "status_code", 0)
            if status == 401:
                return exc.AuthenticationError("the device requires credentials and none were given", host=host)
            if status == 404:
                return exc.NotDetectedError(
                    f"port {transport.port} does not serve {service.path}: legacy SOAP is AMT 8.x and older",
                    host=host, hint="use WS-Management (generation='wsman') for AMT 9 and later")
            return exc.RemoteProtocolError(f"{what}: HTTP {status} without a SOAP answer", host=host)
        if isinstance(error, zeep_exc.Fault):
            return exc.RemoteProtocolError(f"{what}: the device answered with a SOAP fault: {printable(error.message)}",
                                           host=host)
        if isinstance(error, (zeep_exc.DTDForbidden, zeep_exc.EntitiesForbidden,
                              zeep_exc.ExternalReferenceForbidden)):
            return exc.RemoteProtocolError(f"{what}: refusing hostile XML in the answer ({printable(error)})", host=host)
        if isinstance(error, (zeep_exc.ValidationError, TypeError)) and "Response" not in str(error):
            return exc.LocalProtocolError(f"{what}: cannot build the request: {error}", host=host)
        return exc.RemoteProtocolError(f"{what}: unexpected answer: {type(error).__name__}: {printable(error)}", host=host)


def return_error(what: str, operation: str, status: int, host: str | None) -> exc.AMTReturnError:
    meaning = PTStatus.describe(status)
    text = f"{what} returned {meaning}"
    if status in (PTStatus.INVALID_PT_MODE, PTStatus.INVALID_PROVISIONING_STATE):
        return exc.NotProvisionedError(text, return_value=status, host=host, method=operation, meaning=meaning)
    return exc.AMTReturnError(text, return_value=status, host=host, method=operation, meaning=meaning)


def _as_dict(value: Any, service: Service) -> dict[str, Any]:
    """zeep gives a lone status element as the bare value, several fields as a mapping."""
    if isinstance(value, dict):
        return value
    return {service.status_element: value}


def _offline_transport(zeep: Any, session: Any, counter: Any, timeouts: Callable[[], tuple[float, float]]) -> Any:
    """A zeep transport over ``session`` that loads only local files and counts round trips; each request's
    timeouts are asked for as it is sent (a fleet job's deadline shortens them)."""

    class OfflineTransport(zeep.transports.Transport):  # type: ignore[misc]
        def load(self, url: str) -> bytes:
            if "://" in url and not url.startswith("file://"):
                raise exc.LocalProtocolError(f"refusing to fetch {url}: amtkit uses its bundled WSDLs only")
            return super().load(url)  # type: ignore[no-any-return]

        def post(self, address: str, message: bytes, headers: dict[str, str]) -> Any:
            headers["Content-Type"] = CONTENT_TYPE
            self.operation_timeout = timeouts()
            response = super().post(address, message, headers)
            counter.add(response)
            return response

    return OfflineTransport(session=session, operation_timeout=timeouts())


def _document(zeep: Any, service: Service, transport: Any, settings: Any) -> Any:
    """The parsed WSDL of ``service``, parsed once per process."""
    with _DOCUMENTS_LOCK:
        document = _DOCUMENTS.get(service.name)
        if document is None:
            document = zeep.wsdl.Document(str(wsdl_path(service)), transport, settings=settings)
            _DOCUMENTS[service.name] = document
        return document
