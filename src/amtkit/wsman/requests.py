"""WS-Man requests: built by the client, parsed by the simulator (sans-IO).

The client writes SOAP 1.2 envelopes with WS-Addressing headers the way AMT expects:
``Action``, ``To``, ``ResourceURI``, ``MessageID``, ``ReplyTo`` anonymous, ``OperationTimeout``
(AMT refuses less than 30 s), optional ``MaxEnvelopeSize`` (AMT refuses less than 50000) and
a ``SelectorSet``. :func:`parse_request` on the other side (:mod:`amtkit.wsman.request_parser`,
resolved from here too) accepts every client style seen against real AMT.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import names
from .values import CimInstance, EndpointReference, Selector, Value
from .xmlsafe import escape
from .xmlwrite import epr_xml, needs_common_namespace, properties_xml, selector_set_xml

if TYPE_CHECKING:
    from .request_parser import Request, RequestError, parse_duration, parse_request

__all__ = [
    "DEFAULT_OPERATION_TIMEOUT",
    "EnumerateOptions",
    "Request",
    "RequestError",
    "build_create",
    "build_delete",
    "build_enumerate",
    "build_get",
    "build_identify",
    "build_invoke",
    "build_pull",
    "build_put",
    "build_release",
    "build_request",
    "format_duration",
    "parse_duration",
    "parse_request",
]

DEFAULT_OPERATION_TIMEOUT = 60.0

_ENVELOPE_OPEN = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    f'<s:Envelope xmlns:s="{names.SOAP_ENV}" xmlns:a="{names.WSA}" xmlns:w="{names.WSMAN}" '
    f'xmlns:xsi="{names.XSI}">'
)

_message_ids = itertools.count(1)


def next_message_id() -> str:
    """``uuid:``-form message ids, unique per process (AMT echoes them in RelatesTo)."""
    return f"uuid:00000000-8086-8086-8086-{next(_message_ids):012X}"


def format_duration(seconds: float) -> str:
    """xs:duration as WS-Man uses it: ``PT60S`` or ``PT1.500S``."""
    if float(seconds).is_integer():
        return f"PT{int(seconds)}S"
    return f"PT{seconds:.3f}S"


def build_request(
    action: str,
    resource_uri: str | None,
    body: str = "",
    *,
    selectors: Mapping[str, Selector] | None = None,
    message_id: str | None = None,
    to: str = names.WSMAN_PATH,
    operation_timeout: float | None = DEFAULT_OPERATION_TIMEOUT,
    max_envelope_size: int | None = None,
    extra_headers: str = "",
) -> bytes:
    """Assemble one request envelope. ``body`` is the XML text inside ``<s:Body>``."""
    header = [
        _addressing(action, to, resource_uri),
        f'<a:MessageID s:mustUnderstand="true">{escape(message_id) if message_id else next_message_id()}'
        f"</a:MessageID><a:ReplyTo><a:Address>{names.ANONYMOUS}</a:Address></a:ReplyTo>",
    ]
    if operation_timeout is not None:
        header.append(_operation_timeout(operation_timeout))
    if max_envelope_size is not None:
        header.append(f'<w:MaxEnvelopeSize s:mustUnderstand="true">{max_envelope_size}</w:MaxEnvelopeSize>')
    if selectors:
        header.append(selector_set_xml(selectors, "w", "a"))
    header.append(extra_headers)
    header.append("</s:Header><s:Body>")
    header.append(body)
    header.append("</s:Body></s:Envelope>")
    return "".join(header).encode("utf-8")


@functools.lru_cache(maxsize=256)
def _addressing(action: str, to: str, resource_uri: str | None) -> str:
    """The envelope's start up to the MessageID: the same for every request of one action on one class,
    so it is written (and escaped) once."""
    resource = "" if resource_uri is None else (
        f'<w:ResourceURI s:mustUnderstand="true">{escape(resource_uri)}</w:ResourceURI>')
    return (f'{_ENVELOPE_OPEN}<s:Header><a:Action s:mustUnderstand="true">{escape(action)}</a:Action>'
            f'<a:To s:mustUnderstand="true">{escape(to)}</a:To>{resource}')


@functools.lru_cache(maxsize=16)
def _operation_timeout(seconds: float) -> str:
    return f"<w:OperationTimeout>{format_duration(seconds)}</w:OperationTimeout>"


def build_identify() -> bytes:
    """WS-Management Identify (DSP0226 11): no addressing headers at all."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<s:Envelope xmlns:s="{names.SOAP_ENV}" xmlns:wsmid="{names.WSMID}">'
        "<s:Header></s:Header><s:Body><wsmid:Identify></wsmid:Identify></s:Body></s:Envelope>"
    ).encode()


def build_get(resource_uri: str, selectors: Mapping[str, Selector] | None = None, **kw: object) -> bytes:
    return build_request(names.Action.GET, resource_uri, selectors=selectors, **kw)  # type: ignore[arg-type]


def _properties_element(element: str, uri: str, props: Mapping[str, Value]) -> str:
    """``<p:element xmlns:p=uri>`` with the properties; datetimes go in a wscim ``Datetime`` wrapper
    (DSP0230), whose namespace is declared only when one occurs."""
    common = "c" if needs_common_namespace(props.values()) else None
    inner = properties_xml("p", props.items(), wsa="a", wsman="w", common=common)
    declare = f' xmlns:c="{names.CIM_COMMON}"' if common else ""
    return f'<p:{element} xmlns:p="{uri}"{declare}>{inner}</p:{element}>'


def _instance_body(instance: CimInstance | Mapping[str, Value], class_name: str) -> str:
    props = instance.properties if isinstance(instance, CimInstance) else instance
    return _properties_element(class_name, names.resource_uri(class_name), props)


def build_put(
    instance: CimInstance, selectors: Mapping[str, Selector] | None = None, **kw: object
) -> bytes:
    """Put the *whole* object (AMT refuses partial representations)."""
    body = _instance_body(instance, instance.class_name)
    return build_request(names.Action.PUT, instance.resource_uri, body, selectors=selectors, **kw)  # type: ignore[arg-type]


def build_create(class_name: str, properties: Mapping[str, Value], **kw: object) -> bytes:
    body = _instance_body(properties, class_name)
    return build_request(names.Action.CREATE, names.resource_uri(class_name), body, **kw)  # type: ignore[arg-type]


def build_delete(resource_uri: str, selectors: Mapping[str, Selector] | None = None, **kw: object) -> bytes:
    return build_request(names.Action.DELETE, resource_uri, selectors=selectors, **kw)  # type: ignore[arg-type]


@dataclass(frozen=True)
class EnumerateOptions:
    """Enumerate body options (DSP0226 8.2): optimized enumeration and EPR modes."""

    optimize: bool = False
    max_elements: int | None = None
    mode: str | None = None
    """``None`` (objects), :data:`names.ENUM_MODE_EPR` or :data:`names.ENUM_MODE_OBJECT_AND_EPR`."""


def build_enumerate(resource_uri: str, options: EnumerateOptions | None = None, **kw: object) -> bytes:
    options = options or EnumerateOptions()
    inner = ""
    if options.mode:
        inner += f"<w:EnumerationMode>{escape(options.mode)}</w:EnumerationMode>"
    if options.optimize:
        inner += "<w:OptimizeEnumeration></w:OptimizeEnumeration>"
        if options.max_elements:
            inner += f"<w:MaxElements>{options.max_elements}</w:MaxElements>"
    body = f'<n:Enumerate xmlns:n="{names.WSEN}">{inner}</n:Enumerate>'
    return build_request(names.Action.ENUMERATE, resource_uri, body, **kw)  # type: ignore[arg-type]


def build_pull(resource_uri: str, context: str, max_elements: int = 100, **kw: object) -> bytes:
    body = (
        f'<n:Pull xmlns:n="{names.WSEN}"><n:EnumerationContext>{escape(context)}</n:EnumerationContext>'
        f"<n:MaxElements>{max_elements}</n:MaxElements></n:Pull>"
    )
    return build_request(names.Action.PULL, resource_uri, body, **kw)  # type: ignore[arg-type]


def build_release(resource_uri: str, context: str, **kw: object) -> bytes:
    body = f'<n:Release xmlns:n="{names.WSEN}"><n:EnumerationContext>{escape(context)}</n:EnumerationContext></n:Release>'
    return build_request(names.Action.RELEASE, resource_uri, body, **kw)  # type: ignore[arg-type]


def build_invoke(
    class_name: str,
    method: str,
    params: Mapping[str, Value] | None = None,
    selectors: Mapping[str, Selector] | None = None,
    **kw: object,
) -> bytes:
    """An extrinsic method call: body ``<Method_INPUT>`` in the class namespace."""
    uri = names.resource_uri(class_name)
    body = _properties_element(f"{method}_INPUT", uri, params or {})
    return build_request(names.method_action(class_name, method), uri, body, selectors=selectors, **kw)  # type: ignore[arg-type]


# Re-exported for callers that build EPR parameters by hand.
__all__ += ["EndpointReference", "epr_xml", "next_message_id"]


_SERVER_SIDE = frozenset({"Request", "RequestError", "parse_duration", "parse_request"})


def __getattr__(name: str) -> Any:
    """The server side (:func:`parse_request`, :class:`Request` ...) lives in
    :mod:`amtkit.wsman.request_parser`, loaded when first asked for here: a client only builds
    requests, and the parsed request's dataclass and patterns cost about 0.7 ms of each CLI call."""
    if name in _SERVER_SIDE:
        from . import request_parser

        return getattr(request_parser, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
