"""WS-Man responses: written in AMT's style by the simulator, parsed by the client (sans-IO).

AMT's style, byte for byte (see docs/concepts.md and the recorded messages it was learned from):
a fixed prefix set ``a``..``f`` on the Envelope (soap, addressing, wsman, trust, wss-secext,
cimbinding), then ``g``, ``h``, ``i`` allocated in order of need, then ``xsi``; no whitespace;
``<x></x>`` and never ``<x/>``; ``RelatesTo`` echoing the request's MessageID verbatim;
``MessageID`` ``uuid:00000000-8086-8086-8086-XXXXXXXXXXXX``. Faults use a different, reversed
prefix order, also reproduced here.

The parser takes any well-formed SOAP 1.2 response, pretty-printed or not, with any prefixes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from lxml import etree

from . import names
from .schema import has_datetime
from .values import CimInstance, EndpointReference, Value, parse_epr, parse_instance
from .xmlsafe import escape, local_name, parse_xml
from .xmlwrite import epr_xml, needs_common_namespace, properties_xml

if TYPE_CHECKING:  # the fault table is loaded when a fault arrives (or is written, by the simulator)
    from .faults import Fault, FaultKind
    from .results import EnumerationPage, EnumItem, IdentifyResult, MethodOutput

__all__ = [
    "EnumItem",
    "EnumerationPage",
    "IdentifyResult",
    "MethodOutput",
    "Response",
    "ResponseError",
    "action_response",
    "amt_message_id",
    "create_response",
    "delete_response",
    "enumerate_response",
    "fault_response",
    "get_response",
    "identify_response",
    "method_response",
    "parse_identify",
    "parse_response",
    "pull_response",
]

_FIXED = (
    ("a", names.SOAP_ENV), ("b", names.WSA), ("c", names.WSMAN), ("d", names.TRUST),
    ("e", names.WSSE), ("f", names.CIMBINDING),
)
_XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>'


def amt_message_id(counter: int) -> str:
    return f"uuid:00000000-8086-8086-8086-{counter & 0xFFFFFFFFFFFF:012X}"


def _envelope(
    extra_ns: Sequence[str], action: str, relates_to: str, message_id: str, resource_uri: str | None, body: str
) -> bytes:
    decls = [f'xmlns:{p}="{uri}"' for p, uri in _FIXED]
    decls += [f'xmlns:{chr(ord("g") + i)}="{uri}"' for i, uri in enumerate(extra_ns)]
    decls.append(f'xmlns:xsi="{names.XSI}"')
    resource = f"<c:ResourceURI>{escape(resource_uri)}</c:ResourceURI>" if resource_uri else ""
    text = (
        f'{_XML_DECL}<a:Envelope {" ".join(decls)}><a:Header>'
        f"<b:To>{names.ANONYMOUS}</b:To><b:RelatesTo>{escape(relates_to)}</b:RelatesTo>"
        f'<b:Action a:mustUnderstand="true">{escape(action)}</b:Action>'
        f"<b:MessageID>{escape(message_id)}</b:MessageID>{resource}</a:Header>"
        f"<a:Body>{body}</a:Body></a:Envelope>"
    )
    return text.encode("utf-8")


def _ordered(instance: CimInstance) -> list[tuple[str, Value]]:
    """AMT lists properties in alphabetical order."""
    return sorted(instance.properties.items())


def _instance_xml(instance: CimInstance, prefix: str, common: str | None) -> str:
    inner = properties_xml(prefix, _ordered(instance), wsa="b", wsman="c", common=common)
    return f"<{prefix}:{instance.class_name}>{inner}</{prefix}:{instance.class_name}>"


def get_response(relates_to: str, message_id: str, instance: CimInstance, *, action: str = names.Action.GET,
                 resource_uri: str | None = None) -> bytes:
    """Get (or Put, with ``action=Action.PUT``) response carrying one object.

    ``resource_uri`` is the class the request addressed when the object is of a subclass (a Get of
    ``CIM_ServiceAvailableToElement`` answered with a ``CIM_AssociatedPowerManagementService``): the
    header names the class asked for, the object its own class and namespace.
    """
    extra = [instance.resource_uri]
    common = None
    if _needs_common(instance):
        extra.append(names.CIM_COMMON)
        common = "h"
    return _envelope(extra, names.response_action(action), relates_to, message_id,
                     resource_uri or instance.resource_uri, _instance_xml(instance, "g", common))


def create_response(relates_to: str, message_id: str, created: EndpointReference) -> bytes:
    body = f"<g:ResourceCreated>{epr_xml(created, 'b', 'c')}</g:ResourceCreated>"
    return _envelope([names.WSXF], names.response_action(names.Action.CREATE), relates_to, message_id,
                     created.resource_uri, body)


def delete_response(relates_to: str, message_id: str, resource_uri: str) -> bytes:
    return _envelope([], names.response_action(names.Action.DELETE), relates_to, message_id, resource_uri, "")


def _items_xml(items: Iterable[EnumItem], prefixes: Mapping[str, str], common: str | None, mode: str | None) -> str:
    parts: list[str] = []
    for item in items:
        epr = f"<b:EndpointReference>{epr_xml(item.epr, 'b', 'c')}</b:EndpointReference>" if item.epr else ""
        obj = ""
        if item.instance is not None and mode != names.ENUM_MODE_EPR:
            obj = _instance_xml(item.instance, prefixes[item.instance.class_name], common)
        if mode == names.ENUM_MODE_OBJECT_AND_EPR:
            parts.append(f"<c:Item>{obj}{epr}</c:Item>")
        elif mode == names.ENUM_MODE_EPR:
            parts.append(epr)
        else:
            parts.append(obj)
    return "".join(parts)


def _writes_instances(items: Sequence[EnumItem], mode: str | None) -> bool:
    """Whether the class namespace is needed: AMT declares it only when objects are written
    (an empty or EPR-only page has no ``h`` prefix, as in the recorded empty PullResponse)."""
    return mode != names.ENUM_MODE_EPR and any(i.instance is not None for i in items)


def _needs_common(instance: CimInstance) -> bool:
    """AMT declares the wscim common namespace for classes with datetime properties (and it is
    needed wherever a datetime value is written)."""
    return has_datetime(instance.class_name) or needs_common_namespace(instance.properties.values())


def _items_need_common(items: Sequence[EnumItem]) -> bool:
    return any(i.instance is not None and _needs_common(i.instance) for i in items)


def _item_namespaces(items: Sequence[EnumItem], mode: str | None, first: str) -> tuple[list[str], dict[str, str], str | None]:
    """The namespaces an enumeration page declares after ``g``, and the prefix of each class.

    AMT writes each object in its own class's namespace: enumerating ``CIM_ServiceAvailableToElement``
    returns ``CIM_AssociatedPowerManagementService`` objects under that class's URI. Classes get
    prefixes from ``first`` on in order of appearance, then the common namespace if any datetime needs it.
    """
    extra: list[str] = []
    prefixes: dict[str, str] = {}
    if not _writes_instances(items, mode):
        return extra, prefixes, None
    for item in items:
        instance = item.instance
        if instance is not None and instance.class_name not in prefixes:
            prefixes[instance.class_name] = chr(ord(first) + len(extra))
            extra.append(instance.resource_uri)
    common = None
    if _items_need_common(items):
        common = chr(ord(first) + len(extra))
        extra.append(names.CIM_COMMON)
    return extra, prefixes, common


def enumerate_response(
    relates_to: str,
    message_id: str,
    resource_uri: str,
    context: str | None,
    *,
    items: Sequence[EnumItem] | None = None,
    mode: str | None = None,
) -> bytes:
    """EnumerateResponse; with ``items`` it is an optimized enumeration (DSP0226 8.2.3)."""
    extra = [names.WSEN]
    body = "<g:EnumerateResponse>"
    if context is not None:
        body += f"<g:EnumerationContext>{escape(context)}</g:EnumerationContext>"
    if items is not None:
        namespaces, prefixes, common = _item_namespaces(items, mode, "h")
        extra += namespaces
        body += f"<c:Items>{_items_xml(items, prefixes, common, mode)}</c:Items>"
        if context is None:
            body += "<c:EndOfSequence></c:EndOfSequence>"
    body += "</g:EnumerateResponse>"
    return _envelope(extra, names.response_action(names.Action.ENUMERATE), relates_to, message_id,
                     resource_uri, body)


def pull_response(
    relates_to: str,
    message_id: str,
    resource_uri: str,
    items: Sequence[EnumItem],
    context: str | None,
    *,
    mode: str | None = None,
) -> bytes:
    """PullResponse; ``context=None`` marks the last page (EndOfSequence, no context)."""
    namespaces, prefixes, common = _item_namespaces(items, mode, "h")
    extra = [names.WSEN, *namespaces]
    body = "<g:PullResponse>"
    if context is not None:
        body += f"<g:EnumerationContext>{escape(context)}</g:EnumerationContext>"
    body += f"<g:Items>{_items_xml(items, prefixes, common, mode)}</g:Items>"
    if context is None:
        body += "<g:EndOfSequence></g:EndOfSequence>"
    body += "</g:PullResponse>"
    return _envelope(extra, names.response_action(names.Action.PULL), relates_to, message_id, resource_uri, body)


def action_response(relates_to: str, message_id: str, resource_uri: str, action: str, body: str,
                    namespaces: Sequence[str] = ()) -> bytes:
    """The answer to any other action (WS-Eventing's Subscribe, Renew...): ``<action>Response``, the body
    written with prefix ``g`` onwards for ``namespaces``."""
    return _envelope(list(namespaces), names.response_action(action), relates_to, message_id, resource_uri, body)


def release_response(relates_to: str, message_id: str, resource_uri: str) -> bytes:
    return _envelope([], names.response_action(names.Action.RELEASE), relates_to, message_id, resource_uri, "")


def method_response(
    relates_to: str,
    message_id: str,
    class_name: str,
    method: str,
    return_value: int,
    outputs: Mapping[str, Value] | None = None,
) -> bytes:
    uri = names.resource_uri(class_name)
    inner = properties_xml("g", (outputs or {}).items(), wsa="b", wsman="c")
    body = f"<g:{method}_OUTPUT>{inner}<g:ReturnValue>{return_value}</g:ReturnValue></g:{method}_OUTPUT>"
    return _envelope([uri], f"{uri}/{method}Response", relates_to, message_id, uri, body)


_FAULT_NS = (
    f'xmlns:g="{names.CIMBINDING}" xmlns:f="{names.WSEVT}" xmlns:e="{names.WSMAN}" xmlns:d="{names.WSXF}" '
    f'xmlns:c="{names.WSEN}" xmlns:b="{names.WSA}" xmlns:a="{names.SOAP_ENV}" xmlns:h="{names.TRUST}" '
    f'xmlns:i="{names.WSSE}" xmlns:xsi="{names.XSI}"'
)
_FAULT_PREFIX = {names.WSA: "b", names.WSMAN: "e", names.WSEN: "c", names.WSXF: "d", names.SOAP_ENV: "a"}


def fault_response(relates_to: str, message_id: str, kind: FaultKind, detail: str = "") -> bytes:
    """A fault envelope in AMT's layout (reversed prefix order, empty Detail when none)."""
    code = kind.code if kind.code != "MustUnderstand" else "MustUnderstand"
    sub = "" if kind.namespace == names.SOAP_ENV else (
        f"<a:Subcode><a:Value>{_FAULT_PREFIX[kind.namespace]}:{kind.subcode}</a:Value></a:Subcode>"
    )
    detail_xml = f'<a:Text xml:lang="en-US">{escape(detail)}</a:Text>' if detail else ""
    text = (
        f"{_XML_DECL}<a:Envelope {_FAULT_NS}><a:Header><b:To>{names.ANONYMOUS}</b:To>"
        f"<b:RelatesTo>{escape(relates_to)}</b:RelatesTo>"
        f'<b:Action a:mustUnderstand="true">{kind.action}</b:Action><b:MessageID>{escape(message_id)}</b:MessageID>'
        f"</a:Header><a:Body><a:Fault><a:Code><a:Value>a:{code}</a:Value>{sub}</a:Code>"
        f'<a:Reason><a:Text xml:lang="en-US">{escape(kind.reason)}</a:Text></a:Reason>'
        f"<a:Detail>{detail_xml}</a:Detail></a:Fault></a:Body></a:Envelope>"
    )
    return text.encode("utf-8")


def identify_response(product_version: str, *, vendor: str = "Intel(r)", profiles: Sequence[str] = ()) -> bytes:
    """IdentifyResponse as AMT sends it (ProductVersion ``AMT <major>.<minor>``)."""
    profile_xml = "".join(f"<b:SecurityProfileName>{escape(p)}</b:SecurityProfileName>" for p in profiles)
    text = (
        f'{_XML_DECL}<a:Envelope xmlns:a="{names.SOAP_ENV}" xmlns:b="{names.WSMID}" xmlns:c="{names.DASH}">'
        "<a:Header></a:Header><a:Body><b:IdentifyResponse>"
        f"<b:ProtocolVersion>{names.WSMAN_PROTOCOL_VERSION}</b:ProtocolVersion>"
        f"<b:ProductVendor>{escape(vendor)}</b:ProductVendor>"
        f"<b:ProductVersion>{escape(product_version)}</b:ProductVersion>"
        "<c:DASHVersion>1.0.0</c:DASHVersion>"
        f"<b:SecurityProfiles>{profile_xml}</b:SecurityProfiles>"
        "</b:IdentifyResponse></a:Body></a:Envelope>"
    )
    return text.encode("utf-8")


# ------------------------------------------------------------------------------------------------
# Client side: parse what the device sends.


class ResponseError(ValueError):
    """A well-formed document that is not the WS-Man response expected."""


class Response:
    """A parsed response envelope: the Body's payload or a fault, and the addressing headers.

    The headers (``action``, ``relates_to``, ``message_id``, ``resource_uri``) are read from the
    envelope when first asked for: a client reading an object never needs them.
    """

    __slots__ = ("_header", "_headers", "fault", "payload")

    def __init__(self, headers: list[etree._Element], payload: etree._Element | None) -> None:
        self._header = headers
        self._headers: dict[str, str] | None = None
        self.payload = payload
        self.fault: Fault | None = None
        if payload is not None and payload.tag == _FAULT:
            from .faults import parse_fault

            self.fault = parse_fault(payload, self.action)

    def _field(self, name: str) -> str | None:
        if self._headers is None:
            self._headers = {}
            for part in self._header:
                for header in part:
                    local = local_name(header.tag)
                    if local in _HEADER_FIELDS:
                        self._headers[local] = (header.text or "").strip()
        return self._headers.get(name)

    @property
    def action(self) -> str:
        return self._field("Action") or ""

    @property
    def relates_to(self) -> str:
        return self._field("RelatesTo") or ""

    @property
    def message_id(self) -> str:
        return self._field("MessageID") or ""

    @property
    def resource_uri(self) -> str | None:
        return self._field("ResourceURI")

    def __repr__(self) -> str:
        return f"Response(action={self.action!r}, payload={self.payload!r}, fault={self.fault!r})"

    def _require_payload(self, local: str | None = None) -> etree._Element:
        if self.payload is None:
            raise ResponseError(f"the response body is empty (action {self.action or 'unknown'})")
        if local is not None and local_name(self.payload.tag) != local:
            raise ResponseError(f"expected {local} in the response body, got {local_name(self.payload.tag)}")
        return self.payload

    def instance(self) -> CimInstance:
        return parse_instance(self._require_payload())

    def created(self) -> EndpointReference:
        return parse_epr(self._require_payload("ResourceCreated"))

    def enumeration(self) -> EnumerationPage:
        payload = self._require_payload()
        if local_name(payload.tag) not in ("EnumerateResponse", "PullResponse"):
            raise ResponseError(f"expected an enumeration response, got {local_name(payload.tag)}")
        context: str | None = None
        items: list[EnumItem] = []
        end = False
        for child in payload:
            local = local_name(child.tag)
            if local == "EnumerationContext":
                context = (child.text or "").strip() or None
            elif local == "Items":
                items.extend(_parse_item(item) for item in child if isinstance(item.tag, str))
            elif local == "EndOfSequence":
                end = True
        if end:
            context = None
        from .results import EnumerationPage

        return EnumerationPage(context=context, items=items, end_of_sequence=end)

    def method_output(self) -> MethodOutput:
        payload = self._require_payload()
        if not local_name(payload.tag).endswith("_OUTPUT"):
            raise ResponseError(f"expected a method _OUTPUT body, got {local_name(payload.tag)}")
        outputs: dict[str, Value] = {}
        return_value: int | None = None
        for child in payload:
            local = local_name(child.tag)
            if local == "ReturnValue":
                try:
                    return_value = int((child.text or "").strip())
                except ValueError as error:
                    raise ResponseError(f"ReturnValue is not an integer: {child.text!r}") from error
            else:
                value: Value = parse_epr(child) if any(local_name(c.tag) == "ReferenceParameters" for c in child) \
                    else (child.text or "").strip()
                # A repeated output (GetRecords' RecordArray, ReadRecords' EventRecords) is an array.
                existing = outputs.get(local)
                if existing is None:
                    outputs[local] = value
                elif isinstance(existing, list):
                    existing.append(value)  # type: ignore[arg-type]
                else:
                    outputs[local] = [existing, value]  # type: ignore[list-item]
        if return_value is None:
            raise ResponseError("the method response has no ReturnValue")
        from .results import MethodOutput

        return MethodOutput(return_value=return_value, outputs=outputs)


def _parse_item(element: etree._Element) -> EnumItem:
    from .results import EnumItem
    local = local_name(element.tag)
    if local == "EndpointReference":
        return EnumItem(epr=parse_epr(element))
    if local == "Item":
        instance = epr = None
        for child in element:
            if local_name(child.tag) == "EndpointReference":
                epr = parse_epr(child)
            elif isinstance(child.tag, str):
                instance = parse_instance(child)
        return EnumItem(instance=instance, epr=epr)
    return EnumItem(instance=parse_instance(element))


_ENVELOPE = f"{{{names.SOAP_ENV}}}Envelope"
_HEADER = f"{{{names.SOAP_ENV}}}Header"
_BODY = f"{{{names.SOAP_ENV}}}Body"
_FAULT = f"{{{names.SOAP_ENV}}}Fault"
_HEADER_FIELDS = ("Action", "RelatesTo", "MessageID", "ResourceURI")
"""The headers a response is read for, in any namespace (older firmware and other consoles vary)."""


def parse_response(data: bytes) -> Response:
    """Parse a response envelope. A SOAP fault is returned in ``Response.fault``, not raised.

    Raises :class:`~amtkit.wsman.xmlsafe.XMLInputError` for unacceptable XML and
    :class:`ResponseError` for XML that is not a SOAP 1.2 envelope.
    """
    root = parse_xml(data)
    if root.tag != _ENVELOPE:
        raise ResponseError(f"not a SOAP 1.2 envelope (root element {local_name(root.tag)})")
    headers: list[etree._Element] = []
    payload: etree._Element | None = None
    for part in root:
        tag = part.tag
        if tag == _HEADER:
            headers.append(part)
        elif tag == _BODY:
            payload = None
            for child in part:
                if isinstance(child.tag, str):
                    payload = child
                    break
    return Response(headers, payload)


def parse_identify(data: bytes) -> IdentifyResult:
    response = parse_response(data)
    if response.fault is not None:
        raise ResponseError(f"Identify answered with a fault: {response.fault.reason}")
    payload = response._require_payload("IdentifyResponse")
    fields: dict[str, str] = {}
    profiles: list[str] = []
    for child in payload:
        local = local_name(child.tag)
        if local == "SecurityProfiles":
            profiles = [(p.text or "").strip() for p in child if local_name(p.tag) == "SecurityProfileName"]
        else:
            fields[local] = (child.text or "").strip()
    from .results import IdentifyResult

    return IdentifyResult(
        protocol_version=fields.get("ProtocolVersion", ""),
        product_vendor=fields.get("ProductVendor", ""),
        product_version=fields.get("ProductVersion", ""),
        dash_version=fields.get("DASHVersion"),
        security_profiles=tuple(profiles),
    )


_RESULTS = frozenset({"EnumItem", "EnumerationPage", "IdentifyResult", "MethodOutput"})


def __getattr__(name: str) -> Any:
    """The results of an enumeration, a method call and Identify live in :mod:`amtkit.wsman.results`,
    loaded when one is made or asked for here: a Get (one power read) needs none, and building their
    four dataclasses cost about 1.5 ms of each CLI call."""
    if name in _RESULTS:
        from . import results

        return getattr(results, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
