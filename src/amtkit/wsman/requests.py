"""WS-Man requests: built by the client, parsed by the simulator (sans-IO).

The client writes SOAP 1.2 envelopes with WS-Addressing headers the way AMT expects:
``Action``, ``To``, ``ResourceURI``, ``MessageID``, ``ReplyTo`` anonymous, ``OperationTimeout``
(AMT refuses less than 30 s), optional ``MaxEnvelopeSize`` (AMT refuses less than 50000) and
a ``SelectorSet``. :func:`parse_request` on the other side accepts every client style seen
against real AMT: any prefixes, default namespaces, ``mustUnderstand`` with or without a
prefix, any ``To`` and any ``MessageID`` form, unknown extra headers.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from lxml import etree

from . import names
from .values import CimInstance, EndpointReference, Selector, Value, parse_epr, parse_selector_set
from .xmlsafe import escape, local_name, parse_xml
from .xmlwrite import epr_xml, needs_common_namespace, properties_xml, selector_set_xml

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


_DURATION = re.compile(
    r"^P(?:(?P<d>\d+(?:\.\d+)?)D)?(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)


def parse_duration(text: str) -> float:
    """Seconds in an xs:duration (days, hours, minutes, seconds; no years or months)."""
    match = _DURATION.match(text.strip())
    if match is None or text.strip() in ("P", "PT"):
        raise ValueError(f"not an xs:duration: {text!r}")
    parts = {key: float(value) for key, value in match.groupdict().items() if value}
    return parts.get("d", 0) * 86400 + parts.get("h", 0) * 3600 + parts.get("m", 0) * 60 + parts.get("s", 0)


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


# ------------------------------------------------------------------------------------------------
# Server side: parse what any client sends.


class RequestError(ValueError):
    """A request the service cannot process; ``fault`` names the WS-Man fault to answer with."""

    def __init__(self, fault: str, message: str) -> None:
        super().__init__(message)
        self.fault = fault


_WRAPPERS = ("Datetime", "Date", "Time", "Interval")


def _leaf_text(element: etree._Element) -> str:
    """A parameter's text, looking through a wscim ``Datetime``/``Interval`` wrapper (DSP0230)."""
    if len(element) and local_name(element[0].tag) in _WRAPPERS:
        return (element[0].text or "").strip()
    return (element.text or "").strip()


@dataclass
class Request:
    """A parsed request, whatever the client's XML style."""

    action: str
    resource_uri: str | None
    message_id: str
    selectors: dict[str, Selector] = field(default_factory=dict)
    to: str | None = None
    operation_timeout: float | None = None
    max_envelope_size: int | None = None
    body: etree._Element | None = None
    must_understand_unknown: list[str] = field(default_factory=list)
    is_identify: bool = False
    issued_tokens: etree._Element | None = None
    """A WS-Trust ``IssuedTokens`` header (a Subscribe carrying the listener's credentials)."""

    @property
    def class_name(self) -> str:
        return names.class_name_of(self.resource_uri or "")

    @property
    def method(self) -> str | None:
        """The method name when the action is ``<class URI>/<Method>``."""
        if self.resource_uri and self.action.startswith(self.resource_uri + "/"):
            return self.action[len(self.resource_uri) + 1 :]
        return None

    def body_instance(self) -> CimInstance:
        """The object in a Put/Create body (RequestError if there is none)."""
        from .faults import FAULTS
        from .values import parse_instance

        if self.body is None:
            raise RequestError(FAULTS.INVALID_REPRESENTATION.subcode, "the request has no object in its body")
        return parse_instance(self.body)

    def method_params(self) -> dict[str, Value]:
        """Parameters of a ``<Method>_INPUT`` body, typed where the shape tells (EPRs)."""
        params: dict[str, Value] = {}
        if self.body is None:
            return params
        for child in self.body:
            if not isinstance(child.tag, str):
                continue
            name = local_name(child.tag)
            value: Value
            if any(local_name(c.tag) == "ReferenceParameters" for c in child):
                value = parse_epr(child)
            elif len(child) and local_name(child[0].tag) not in _WRAPPERS:
                # An embedded object (``AddAlarm``'s ``AlarmTemplate``): its properties as ``Parent.Property``.
                for grandchild in child:
                    if isinstance(grandchild.tag, str):
                        params[f"{name}.{local_name(grandchild.tag)}"] = _leaf_text(grandchild)
                continue
            else:
                value = _leaf_text(child)
            if name in params:
                existing = params[name]
                params[name] = [*existing, value] if isinstance(existing, list) else [existing, value]
            else:
                params[name] = value
        return params

    def enumerate_options(self) -> EnumerateOptions:
        if self.body is None:
            return EnumerateOptions()
        optimize = False
        max_elements: int | None = None
        mode: str | None = None
        for child in self.body:
            local = local_name(child.tag)
            if local == "OptimizeEnumeration":
                optimize = True
            elif local == "MaxElements":
                max_elements = _int_or_fault(child.text, "MaxElements")
            elif local == "EnumerationMode":
                mode = (child.text or "").strip()
        return EnumerateOptions(optimize=optimize, max_elements=max_elements, mode=mode)

    def enumeration_context(self) -> str:
        if self.body is not None:
            for child in self.body:
                if local_name(child.tag) == "EnumerationContext":
                    return (child.text or "").strip()
        from .faults import FAULTS

        raise RequestError(FAULTS.INVALID_ENUMERATION_CONTEXT.subcode, "no EnumerationContext in the request")

    def pull_max_elements(self) -> int:
        if self.body is not None:
            for child in self.body:
                if local_name(child.tag) == "MaxElements":
                    return max(1, _int_or_fault(child.text, "MaxElements"))
        return 1


def _int_or_fault(text: str | None, what: str) -> int:
    try:
        return int((text or "").strip())
    except ValueError as error:
        from .faults import FAULTS

        raise RequestError(FAULTS.SCHEMA_VALIDATION_ERROR.subcode, f"{what} is not an integer") from error


_KNOWN_HEADERS = {
    (names.WSA, "Action"), (names.WSA, "To"), (names.WSA, "MessageID"), (names.WSA, "ReplyTo"),
    (names.WSA, "FaultTo"), (names.WSA, "From"), (names.WSMAN, "ResourceURI"), (names.WSMAN, "SelectorSet"),
    (names.WSMAN, "OperationTimeout"), (names.WSMAN, "MaxEnvelopeSize"), (names.WSMAN, "Locale"),
    (names.WSMAN, "DataLocale"), (names.WSMAN, "OptionSet"), (names.WSMAN, "RequestEPR"),
    (names.WSMAN, "FragmentTransfer"), (names.WSMAN, "RequestTotalItemsCountEstimate"),
}


def _must_understand(element: etree._Element) -> bool:
    for key, value in element.attrib.items():
        if local_name(key) == "mustUnderstand" and str(value).strip().lower() in ("true", "1"):
            return True
    return False


def parse_request(data: bytes) -> Request:
    """Parse a request envelope. Raises :class:`RequestError` (with the fault to answer) or
    :class:`~amtkit.wsman.xmlsafe.XMLInputError` for bytes that are not acceptable XML."""
    from .faults import FAULTS  # the fault table only where requests are served: a client never loads it

    root = parse_xml(data)
    if root.tag != f"{{{names.SOAP_ENV}}}Envelope":
        raise RequestError(FAULTS.SCHEMA_VALIDATION_ERROR.subcode, "the document is not a SOAP 1.2 envelope")
    header = body = None
    for child in root:
        if child.tag == f"{{{names.SOAP_ENV}}}Header":
            header = child
        elif child.tag == f"{{{names.SOAP_ENV}}}Body":
            body = child
    if body is None:
        raise RequestError(FAULTS.SCHEMA_VALIDATION_ERROR.subcode, "the envelope has no Body")
    payload = next((c for c in body if isinstance(c.tag, str)), None)
    if payload is not None and payload.tag == f"{{{names.WSMID}}}Identify":
        return Request(action="Identify", resource_uri=None, message_id="", is_identify=True, body=payload)

    request = Request(action="", resource_uri=None, message_id="", body=payload)
    for element in header if header is not None else ():
        if not isinstance(element.tag, str):
            continue
        qname = etree.QName(element)
        key = (qname.namespace or "", qname.localname)
        text = (element.text or "").strip()
        if key == (names.WSA, "Action"):
            request.action = text
        elif key == (names.WSA, "To"):
            request.to = text
        elif key == (names.WSA, "MessageID"):
            request.message_id = text
        elif key == (names.WSMAN, "ResourceURI"):
            request.resource_uri = text
        elif key == (names.WSMAN, "SelectorSet"):
            request.selectors = parse_selector_set(element)
        elif key == (names.WSMAN, "OperationTimeout"):
            try:
                request.operation_timeout = parse_duration(text)
            except ValueError as error:
                raise RequestError(FAULTS.INVALID_MESSAGE_INFORMATION_HEADER.subcode,
                                   f"bad OperationTimeout {text!r}") from error
        elif key == (names.WSMAN, "MaxEnvelopeSize"):
            request.max_envelope_size = _int_or_fault(text, "MaxEnvelopeSize")
        elif key == (names.TRUST, "IssuedTokens"):
            request.issued_tokens = element
        elif key == (names.WSMAN, "OptionSet") and _must_understand(element):
            request.must_understand_unknown.append("OptionSet")
        elif key not in _KNOWN_HEADERS and _must_understand(element):
            request.must_understand_unknown.append(qname.localname)
    if not request.action:
        raise RequestError(FAULTS.INVALID_MESSAGE_INFORMATION_HEADER.subcode,
                           "the request has no wsa:Action header")
    return request


# Re-exported for callers that build EPR parameters by hand.
__all__ += ["EndpointReference", "epr_xml", "next_message_id"]
