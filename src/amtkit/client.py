"""The :class:`Client` users hold: WS-Man operations on one AMT device.

::

    with amtkit.Client("10.0.0.5", username="admin", password="...") as amt:
        print(amt.identify().product_version)
        print(amt.power.status().state)
        amt.power.request("cycle")

Feature areas hang off the client as attributes (``amt.power``, ``amt.defense``, ...), each a
thin typed mapping of AMT classes built on :meth:`Client.get`, :meth:`Client.put`,
:meth:`Client.enumerate` and :meth:`Client.invoke`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from . import exceptions as exc
from .codes import PTStatus, describe_return_value, pt_status_of
from .config import Timeout, TLSConfig
from .http.digest import Credentials
from .http.optional import require
from .lazylog import LazyLogger
from .text import printable
from .transport import HTTPReply, Transport
from .wsman import names
from .wsman import requests as wsreq
from .wsman.responses import Response, ResponseError, parse_identify, parse_response
from .wsman.values import CimInstance, EndpointReference, Selector, Value
from .wsman.xmlsafe import XMLInputError

if TYPE_CHECKING:
    from .boot import BootControl
    from .defense.client import DefenseControl
    from .eoi.defense import CircuitBreakerControl
    from .eoi.power import LegacyPowerControl
    from .eoi.services import LegacySOAP
    from .events.log import AuditLogReader, EventLogReader
    from .ider.session import IDERControl
    from .inventory import InventoryReader
    from .power import PowerControl
    from .redirection.service import RedirectionControl
    from .requests_transport import RequestsTransport
    from .sol import SOLControl
    from .wsman.results import EnumItem, IdentifyResult, MethodOutput

__all__ = ["Client", "EnumerationLimits"]

if TYPE_CHECKING:
    WSManTransport = Transport | RequestsTransport

log = LazyLogger(__name__)
T = TypeVar("T")

_FAULT_CLASSES: dict[str, type[exc.WSManFault]] = {
    "DestinationUnreachable": exc.DestinationUnreachableFault,
    "AccessDenied": exc.AccessDeniedFault,
}


@dataclass(frozen=True)
class EnumerationLimits:
    """Bounds of one enumeration: Pull requests, items received, and seconds from the Enumerate.

    A device that never sends EndOfSequence would otherwise be pulled from forever (a hostile or
    broken one answered 3.2 GB of items in 40 s). AMT's own tables hold a few thousand entries at
    most (event and audit logs), so the defaults are far above anything real firmware sends.
    """

    pages: int = 10_000
    items: int = 100_000
    seconds: float = 600.0

    def __post_init__(self) -> None:
        for name in ("pages", "items", "seconds"):
            if not getattr(self, name) > 0:
                raise exc.UsageError(f"EnumerationLimits.{name} must be positive, not {getattr(self, name)!r}")


class Client:
    """A WS-Management client for one Intel AMT device.

    Parameters:
        host: address or name of the device.
        username, password: digest credentials (``admin`` is AMT's built-in account).
        port: defaults to 16992, or 16993 with ``tls``.
        tls: a :class:`TLSConfig` (or ``True`` for verification against the system store).
        timeout: a :class:`Timeout` or seconds.
        retries: connection-error retries for idempotent requests (Get, Enumerate, Pull, Identify).
        operation_timeout: the WS-Man OperationTimeout sent (AMT refuses less than 30 s).
        allow_digest_without_qop: answer a digest challenge that lacks ``qop`` (the RFC 2069 form).
            Off by default: every AMT offers ``qop="auth"``, so such a challenge means someone in
            between stripped it, and the answer could be replayed with another body. Without this
            switch such a challenge raises :class:`~amtkit.exceptions.AuthenticationError`.
        enumeration_limits: bounds of every enumeration (:class:`EnumerationLimits`).
        transport: ``"builtin"`` (the fast stdlib transport), ``"requests"``, or a ``requests.Session``
            of your own (proxies, mounted adapters, trust stores): see :mod:`amtkit.requests_transport`.
        auth: with a requests transport, ``"negotiate"`` (Kerberos through requests-gssapi) or any
            requests auth object; digest from ``username``/``password`` otherwise.
        generation: ``"auto"`` (from the AMT version: Identify or the ``Server`` header), ``"wsman"``
            or ``"eoi"`` (legacy SOAP, AMT 2.x-8.x): which protocol ``power`` and ``defense`` speak.
        allow_old_tls: with ``tls``, also accept TLS 1.0/1.1 and their SHA-1 suites (firmware before
            AMT 12 speaks nothing newer): the same as ``TLSConfig(allow_old_tls=True)``. A connection
            that negotiates them warns (:class:`amtkit.tls.OldTLSWarning`). Without ``tls`` it is a
            :class:`~amtkit.exceptions.UsageError`.
    """

    def __init__(
        self,
        host: str,
        *,
        username: str = "admin",
        password: str | None = None,
        port: int | None = None,
        tls: TLSConfig | bool | None = None,
        timeout: Timeout | float | None = None,
        retries: int = 2,
        operation_timeout: float = wsreq.DEFAULT_OPERATION_TIMEOUT,
        allow_digest_without_qop: bool = False,
        enumeration_limits: EnumerationLimits | None = None,
        transport: str | object = "builtin",
        auth: object = None,
        generation: str = "auto",
        allow_old_tls: bool = False,
    ) -> None:
        if operation_timeout < names.MIN_OPERATION_TIMEOUT_SECONDS:
            raise exc.LocalProtocolError(
                f"operation_timeout {operation_timeout:g} s is below the {names.MIN_OPERATION_TIMEOUT_SECONDS} s "
                "AMT accepts", host=host)
        tls_config = _tls_config(tls, allow_old_tls, host)
        if isinstance(timeout, (int, float)):
            try:
                timeout = Timeout(float(timeout))
            except ValueError as error:
                raise exc.UsageError(str(error), host=host) from error
        self.host = host
        self.username = username
        self.operation_timeout = operation_timeout
        self.enumeration_limits = enumeration_limits or EnumerationLimits()
        if generation not in GENERATIONS:
            raise exc.UsageError(f"unknown generation {generation!r}; valid: {', '.join(GENERATIONS)}", host=host)
        self._generation = generation
        self.identified: IdentifyResult | None = None
        """The last Identify answer (``identify()`` keeps it)."""
        self._server_seen = ""
        credentials = Credentials(username, password) if password is not None else None
        self.transport: WSManTransport = _make_transport(
            transport, host, auth=auth, port=port, tls=tls_config, credentials=credentials, timeout=timeout,
            retries=retries, allow_digest_without_qop=allow_digest_without_qop)

    def __repr__(self) -> str:
        return f"Client({self.host!r}, port={self.transport.port}, username={self.username!r})"

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        legacy = self.__dict__.get("eoi")
        if legacy is not None:
            legacy.close()
        self.transport.close()

    # -- generation --------------------------------------------------------------------------------
    @property
    def generation(self) -> str:
        """``"wsman"`` or ``"eoi"``: the protocol ``power`` and ``defense`` speak to this device.

        Forced by the ``generation`` argument; with ``"auto"`` decided from the AMT version the client
        has seen (Identify's ProductVersion, or AMT's ``Server`` header on any reply): legacy SOAP for
        firmware without WS-Man (before 3.2), WS-Man otherwise, which every AMT from 3.2 on speaks.
        Before any reply, WS-Man is tried: a device without it answers ``/wsman`` with a 404 whose
        ``Server`` header names the version, and the operation is repeated over legacy SOAP
        (:mod:`amtkit.generation`). So deciding costs no request of its own.
        """
        if self._generation != "auto":
            return self._generation
        version = self.amt_version()
        if version is None:
            return "wsman"
        from .eoi.names import serves_wsman

        return "wsman" if serves_wsman(version) else "eoi"

    def amt_version(self) -> tuple[int, int] | None:
        """``(major, minor)`` as far as learnt so far (Identify's ProductVersion or the Server header)."""
        if self.identified is None and names.SERVER_HEADER_PREFIX not in self._server_seen:
            return None  # nothing seen yet (a call's first question): the legacy names need not be loaded
        from .eoi.names import parse_version

        if self.identified is not None:
            version = parse_version(self.identified.product_version or "")
            if version is not None:
                return version
        server = self._server_seen
        return parse_version(server) if names.SERVER_HEADER_PREFIX in server else None

    @cached_property
    def eoi(self) -> LegacySOAP:
        """The legacy SOAP services (zeep, bundled WSDLs; needs ``amtkit[legacy]``)."""
        from .eoi.services import LegacySOAP

        return LegacySOAP(self)

    # -- feature areas ---------------------------------------------------------------------------
    @cached_property
    def power(self) -> PowerControl:
        """Power state and actions, over WS-Man or legacy SOAP as :attr:`generation` says."""
        if self._generation == "eoi":
            return self.power_legacy
        from .power import PowerControl

        return PowerControl(self)

    @cached_property
    def power_legacy(self) -> LegacyPowerControl:
        """``power`` over legacy SOAP, with what only it has (ASF state, capabilities, boot commands)."""
        from .eoi.power import LegacyPowerControl

        return LegacyPowerControl(self)

    @cached_property
    def boot(self) -> BootControl:
        """One-time boot (PXE, disk, CD, BIOS setup, IDE-R) and boot settings (:mod:`amtkit.boot`)."""
        from .boot import BootControl

        return BootControl(self)

    @cached_property
    def redirection(self) -> RedirectionControl:
        """The IDE-R/SOL switches of ``AMT_RedirectionService`` (:mod:`amtkit.redirection.service`)."""
        from .redirection.service import RedirectionControl

        return RedirectionControl(self)

    @cached_property
    def ider(self) -> IDERControl:
        """IDE-R sessions serving a CD or floppy image to the host (:mod:`amtkit.ider.session`)."""
        from .ider.session import IDERControl

        return IDERControl(self)

    @cached_property
    def sol(self) -> SOLControl:
        """Serial-over-LAN sessions: the host's serial console as a byte stream (:mod:`amtkit.sol`)."""
        from .sol import SOLControl

        return SOLControl(self)

    @cached_property
    def defense(self) -> DefenseControl:
        """System Defense: apply, remove and show host network filters (:mod:`amtkit.defense.client`)."""
        if self._generation == "eoi":
            return self.defense_legacy
        from .defense.client import DefenseControl

        return DefenseControl(self)

    @cached_property
    def defense_legacy(self) -> CircuitBreakerControl:
        """``defense`` through the legacy Circuit Breaker service."""
        from .eoi.defense import CircuitBreakerControl

        return CircuitBreakerControl(self)

    @cached_property
    def events(self) -> EventLogReader:
        """The event log and alert subscriptions (:mod:`amtkit.events`)."""
        from .events.log import EventLogReader

        return EventLogReader(self)

    @cached_property
    def audit(self) -> AuditLogReader:
        """The audit log: who did what, from where, when (:mod:`amtkit.events`)."""
        from .events.log import AuditLogReader

        return AuditLogReader(self)

    @cached_property
    def inventory(self) -> InventoryReader:
        from .inventory import InventoryReader

        return InventoryReader(self)

    # -- intrinsic operations --------------------------------------------------------------------
    def identify(self) -> IdentifyResult:
        """WS-Man Identify, sent without credentials as AMT allows."""
        reply = self.transport.post(wsreq.build_identify(), idempotent=True, authenticate=False)
        self._server_seen = reply.server or self._server_seen
        if reply.status == 401:
            if self.transport.credentials is None:
                raise exc.AuthenticationError("this device wants credentials even for Identify", host=self.host,
                                              hint="give a user and password (AMT_PASSWORD)")
            reply = self.transport.post(wsreq.build_identify(), idempotent=True)
        self._server_seen = reply.server or self._server_seen
        self._check_http(reply, "Identify")
        try:
            self.identified = parse_identify(reply.body)
        except (XMLInputError, ResponseError) as error:
            raise exc.NotDetectedError(f"Identify answer is not WS-Management: {printable(error)}",
                                       host=self.host) from error
        return self.identified

    def get(self, class_name: str, selectors: Mapping[str, Selector] | None = None) -> CimInstance:
        """WS-Transfer Get of one instance (singletons need no selectors)."""
        uri = self._uri(class_name)
        response = self._call(self._build(wsreq.build_get, uri, selectors), idempotent=True, resource_uri=uri,
                              action=names.Action.GET)
        return self._parsed(response.instance)

    def put(self, instance: CimInstance, selectors: Mapping[str, Selector] | None = None) -> CimInstance:
        """WS-Transfer Put of a whole object (AMT refuses partial ones); returns the stored object."""
        response = self._call(self._build(wsreq.build_put, instance, selectors), idempotent=False,
                              resource_uri=self._uri(instance.class_name), action=names.Action.PUT)
        if response.payload is None:
            return instance
        return self._parsed(response.instance)

    def create(self, class_name: str, properties: Mapping[str, Value]) -> EndpointReference:
        """WS-Transfer Create; returns the reference of the new instance."""
        response = self._call(self._build(wsreq.build_create, class_name, properties), idempotent=False,
                              resource_uri=self._uri(class_name), action=names.Action.CREATE)
        return self._parsed(response.created)

    def delete(self, class_name: str, selectors: Mapping[str, Selector]) -> None:
        uri = self._uri(class_name)
        self._call(self._build(wsreq.build_delete, uri, selectors), idempotent=False, resource_uri=uri,
                   action=names.Action.DELETE)

    def delete_epr(self, epr: EndpointReference) -> None:
        self.delete(epr.resource_uri, dict(epr.selectors))

    def enumerate(self, class_name: str, *, max_elements: int = 100,
                  limits: EnumerationLimits | None = None) -> list[CimInstance]:
        """All instances of a class (optimized Enumerate, then Pull until EndOfSequence)."""
        return [item.instance for item in self.enumerate_items(class_name, max_elements=max_elements, limits=limits)
                if item.instance is not None]

    def enumerate_eprs(self, class_name: str, *, limits: EnumerationLimits | None = None) -> list[EndpointReference]:
        items = self.enumerate_items(class_name, mode=names.ENUM_MODE_EPR, limits=limits)
        return [item.epr for item in items if item.epr is not None]

    def enumerate_items(self, class_name: str, *, mode: str | None = None, max_elements: int = 100,
                        optimize: bool = True, limits: EnumerationLimits | None = None) -> list[EnumItem]:
        """Enumerate with a mode (objects, EPRs, or both); Release is sent if a Pull fails midway.

        ``limits`` (default: the client's :attr:`enumeration_limits`) bound the Pulls, the items
        and the time; going past one raises :class:`~amtkit.exceptions.RemoteProtocolError`.
        """
        limits = limits or self.enumeration_limits
        deadline = time.monotonic() + limits.seconds
        uri = self._uri(class_name)
        options = wsreq.EnumerateOptions(optimize=optimize, max_elements=max_elements, mode=mode)
        response = self._call(self._build(wsreq.build_enumerate, uri, options), idempotent=True, resource_uri=uri,
                              action=names.Action.ENUMERATE)
        page = self._parsed(response.enumeration)
        items = list(page.items)
        context = page.context
        pages = 0
        try:
            while context is not None and not page.end_of_sequence:
                self._check_enumeration_bounds(class_name, limits, pages, len(items), deadline)
                response = self._call(self._build(wsreq.build_pull, uri, context, max_elements), idempotent=True,
                                      resource_uri=uri, action=names.Action.PULL)
                pages += 1
                page = self._parsed(response.enumeration)
                items.extend(page.items)
                context = page.context
        except exc.AMTError:
            if context is not None:
                self._release_quietly(uri, context)
            raise
        return items

    def _check_enumeration_bounds(self, class_name: str, limits: EnumerationLimits, pages: int, items: int,
                                  deadline: float) -> None:
        if pages >= limits.pages:
            reached = f"{pages} pages"
        elif items >= limits.items:
            reached = f"{items} items"
        elif time.monotonic() >= deadline:
            reached = f"{limits.seconds:g} s"
        else:
            return
        raise exc.RemoteProtocolError(
            f"enumerating {class_name} did not end: {reached} without EndOfSequence", host=self.host,
            hint="the device keeps answering Pull without ending the sequence (broken or hostile firmware); "
                 "no AMT table is that large")

    def _release_quietly(self, uri: str, context: str) -> None:
        try:
            self._call(self._build(wsreq.build_release, uri, context), idempotent=True, resource_uri=uri,
                       action=names.Action.RELEASE)
        except exc.AMTError as error:
            log.debug("Release after a failed Pull also failed: %s", error)

    def invoke(
        self,
        class_name: str,
        method: str,
        params: Mapping[str, Value] | None = None,
        selectors: Mapping[str, Selector] | None = None,
        *,
        check: bool = True,
    ) -> MethodOutput:
        """Call an extrinsic method. With ``check`` a ReturnValue other than 0 raises
        :class:`~amtkit.exceptions.AMTReturnError` naming the PT_STATUS."""
        body = self._build(wsreq.build_invoke, class_name, method, params, selectors)
        response = self._call(body, idempotent=False, resource_uri=self._uri(class_name),
                              action=names.method_action(class_name, method))
        output = self._parsed(response.method_output)
        if check and output.return_value != 0:
            raise self.return_error(class_name, method, output.return_value)
        return output

    def return_error(self, class_name: str, method: str, value: int) -> exc.AMTReturnError:
        """The error for a non-zero ReturnValue, read as PT_STATUS or generic CIM code by class."""
        status = pt_status_of(class_name, value)
        meaning = describe_return_value(class_name, value)
        text = f"{class_name}.{method} returned {meaning}"
        error = exc.NotProvisionedError if status in (PTStatus.INVALID_PT_MODE, PTStatus.INVALID_PROVISIONING_STATE) \
            else exc.AMTReturnError
        return error(text, return_value=value, host=self.host, method=method, meaning=meaning,
                     resource_uri=self._uri(class_name), action=names.method_action(class_name, method))

    # -- plumbing --------------------------------------------------------------------------------
    def _uri(self, class_name: str) -> str:
        try:
            return names.resource_uri(class_name)
        except ValueError as error:
            raise exc.UsageError(str(error), host=self.host) from error

    def _build(self, builder: Callable[..., bytes], *args: object) -> bytes:
        try:
            return builder(*args, operation_timeout=self.operation_timeout)
        except (TypeError, ValueError) as error:
            raise exc.LocalProtocolError(f"cannot build the request: {error}", host=self.host) from error

    def _parsed(self, parse: Callable[[], T]) -> T:
        try:
            return parse()
        except (ResponseError, XMLInputError) as error:
            raise exc.RemoteProtocolError(f"unexpected answer: {printable(error)}", host=self.host) from error

    def _call(self, body: bytes, *, idempotent: bool, resource_uri: str | None = None,
              action: str | None = None) -> Response:
        reply = self.transport.post(body, idempotent=idempotent)
        self._server_seen = reply.server or self._server_seen
        self._check_http(reply, resource_uri or "")
        try:
            response = parse_response(reply.body)
        except (XMLInputError, ResponseError) as error:
            if not _looks_amt(reply):
                # Markup that is not WS-Man from a server that does not say it is AMT: a web page.
                raise exc.NotDetectedError(
                    f"port {self.transport.port} answered HTTP {reply.status} without WS-Management"
                    + (f" (Server: {printable(reply.server)})" if reply.server else ""), host=self.host) from error
            raise exc.RemoteProtocolError(f"the device sent an unreadable answer: {printable(error)}",
                                          host=self.host) from error
        if response.fault is not None:
            fault = response.fault
            cls = _FAULT_CLASSES.get(fault.subcode, exc.WSManFault)
            what = names.class_name_of(resource_uri) if resource_uri else "request"
            # The device's words, escaped and capped: they end up on terminals and in logs.
            detail = f" ({printable(fault.detail)})" if fault.detail else ""
            message = f"{what}: {printable(fault.subcode, 80)}: {printable(fault.reason)}{detail}"
            if fault.subcode == "InternalError" and fault.amt_status == PTStatus.NOT_READY:
                cls, message = exc.DeviceBusyError, f"{what}: AMT is busy (InternalError, AMT-STATUS 2 NOT_READY)"
            raise cls(message, code=fault.code, subcode=fault.subcode,
                      reason=fault.reason, detail=fault.detail, host=self.host, resource_uri=resource_uri,
                      action=action)
        return response

    def _check_wsman_exists(self, reply: HTTPReply) -> None:
        """A 404 for ``/wsman`` from AMT older than 3.2: it has legacy SOAP only (the 404's Server header
        says which version)."""
        from .eoi.names import parse_version, serves_wsman

        version = parse_version(reply.server)
        if reply.status == 404 and version is not None and not serves_wsman(version):
            raise exc.NotDetectedError(
                f"AMT {version[0]}.{version[1]} has no WS-Management (it came with AMT 3.2)", host=self.host,
                hint="speak legacy SOAP: --generation eoi, or Client(..., generation='eoi') (needs amtkit[legacy])")

    def _check_http(self, reply: HTTPReply, what: str) -> None:
        if reply.status in (200, 400, 500) and reply.body.lstrip()[:1] == b"<":
            return
        server = reply.server
        if _looks_amt(reply):
            self._check_wsman_exists(reply)
            raise exc.RemoteProtocolError(f"HTTP {reply.status} from AMT for {names.class_name_of(what) or what}",
                                          host=self.host)
        raise exc.NotDetectedError(
            f"port {self.transport.port} answered HTTP {reply.status}"
            + (f" (Server: {printable(server)})" if server else "") + ", not Intel AMT WS-Management",
            host=self.host,
        )


def _looks_amt(reply: HTTPReply) -> bool:
    """Whether the ``Server`` header is AMT's (``Intel(R) Active Management Technology x.y``, or
    just ``AMT`` on some 11.x firmware)."""
    from .discovery.probe import parse_server_header  # only on the error path: it imports the prober

    return parse_server_header(reply.server) is not None


GENERATIONS = ("auto", "wsman", "eoi")
"""``Client(generation=...)``: decide from the version, or force WS-Man or legacy SOAP."""


def _tls_config(tls: TLSConfig | bool | None, allow_old_tls: bool, host: str) -> TLSConfig | None:
    config = TLSConfig() if tls is True else (tls or None)
    if not allow_old_tls:
        return config
    if config is None:
        raise exc.UsageError("allow_old_tls applies to TLS connections, and tls is not set", host=host,
                             hint="pass tls=TLSConfig(...) (a pin, a CA file) as well, or leave allow_old_tls off "
                                  "for plain HTTP on 16992")
    return replace(config, allow_old_tls=True)


def _make_transport(kind: str | object, host: str, *, auth: object, **settings: Any) -> WSManTransport:
    """The WS-Man transport asked for: the built-in one, or requests (by name or a Session)."""
    if kind in ("builtin", None):
        if auth not in (None, "digest"):
            raise exc.UsageError("auth= needs transport='requests' (or a requests.Session)", host=host)
        return Transport(host, **settings)
    require("requests", purpose="the requests transport", host=host)
    import requests

    from .requests_transport import RequestsTransport

    if kind == "requests":
        return RequestsTransport(host, auth=auth, **settings)
    if isinstance(kind, requests.Session):
        return RequestsTransport(host, session=kind, auth=auth, **settings)
    raise exc.UsageError(f"unknown transport {kind!r}: give 'builtin', 'requests' or a requests.Session", host=host)


# Re-exports so users need not import the core for the common types.
__all__ += ["CimInstance", "EndpointReference", "IdentifyResult", "MethodOutput"]


def __getattr__(name: str) -> Any:
    """``IdentifyResult`` and ``MethodOutput`` re-exported from :mod:`amtkit.wsman.results`, which a
    power read does not load (see there)."""
    if name in ("IdentifyResult", "MethodOutput"):
        from .wsman import results

        return getattr(results, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
