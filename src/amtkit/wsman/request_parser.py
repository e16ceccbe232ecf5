"""WS-Man requests as a service reads them (the simulator): :func:`parse_request` accepts every
client style seen against real AMT (any prefixes, default namespaces, ``mustUnderstand`` with or
without a prefix, any ``To`` and any ``MessageID`` form, unknown extra headers).

Apart from :mod:`amtkit.wsman.requests` (which builds them) so that a client does not load it;
``amtkit.wsman.requests.parse_request`` and the others still resolve here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from . import names
from .requests import EnumerateOptions
from .values import CimInstance, Selector, Value, parse_epr, parse_selector_set
from .xmlsafe import local_name, parse_xml

__all__ = ["Request", "RequestError", "parse_duration", "parse_request"]


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


def _clark(namespace: str, local: str) -> str:
    return f"{{{namespace}}}{local}"


# Header tags in lxml's "{namespace}local" form: compared as strings, without a QName per header.
_ACTION, _TO, _MESSAGE_ID = _clark(names.WSA, "Action"), _clark(names.WSA, "To"), _clark(names.WSA, "MessageID")
_RESOURCE_URI, _SELECTOR_SET = _clark(names.WSMAN, "ResourceURI"), _clark(names.WSMAN, "SelectorSet")
_OPERATION_TIMEOUT, _MAX_ENVELOPE_SIZE = _clark(names.WSMAN, "OperationTimeout"), _clark(names.WSMAN, "MaxEnvelopeSize")
_ISSUED_TOKENS, _OPTION_SET = _clark(names.TRUST, "IssuedTokens"), _clark(names.WSMAN, "OptionSet")
_KNOWN_TAGS = frozenset(_clark(namespace, local) for namespace, local in _KNOWN_HEADERS)


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
        tag = element.tag
        text = (element.text or "").strip()
        if tag == _ACTION:
            request.action = text
        elif tag == _TO:
            request.to = text
        elif tag == _MESSAGE_ID:
            request.message_id = text
        elif tag == _RESOURCE_URI:
            request.resource_uri = text
        elif tag == _SELECTOR_SET:
            request.selectors = parse_selector_set(element)
        elif tag == _OPERATION_TIMEOUT:
            try:
                request.operation_timeout = parse_duration(text)
            except ValueError as error:
                raise RequestError(FAULTS.INVALID_MESSAGE_INFORMATION_HEADER.subcode,
                                   f"bad OperationTimeout {text!r}") from error
        elif tag == _MAX_ENVELOPE_SIZE:
            request.max_envelope_size = _int_or_fault(text, "MaxEnvelopeSize")
        elif tag == _ISSUED_TOKENS:
            request.issued_tokens = element
        elif tag == _OPTION_SET and _must_understand(element):
            request.must_understand_unknown.append("OptionSet")
        elif tag not in _KNOWN_TAGS and _must_understand(element):
            request.must_understand_unknown.append(local_name(tag))
    if not request.action:
        raise RequestError(FAULTS.INVALID_MESSAGE_INFORMATION_HEADER.subcode,
                           "the request has no wsa:Action header")
    return request
