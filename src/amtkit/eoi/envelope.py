"""Legacy SOAP 1.1 envelopes as AMT reads and writes them, sans-IO (the simulator's side of the wire).

The client does not use this module: zeep builds and reads its envelopes from the bundled WSDLs.
The simulator does, and tests use it to write requests the way amttool and amtc do.

* :func:`parse_request` reads one request: a SOAP 1.1 ``Envelope`` whose ``Body`` holds one element in
  the service's namespace, named after the operation. Its children become :class:`Fields`.
  Hostile XML (DTDs, entities, oversize documents) is refused by :mod:`amtkit.wsman.xmlsafe`.
* :func:`build_response` writes AMT's reply style: no whitespace between elements, the envelope
  prefixed ``a:``, the service ``b:`` (AMT 6-8 as clients match it), the status element first.
* :func:`build_fault` writes a SOAP 1.1 ``Fault`` (sent with HTTP 500) for requests that are not
  a readable call at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TypeAlias, Union

from lxml import etree

from ..wsman.xmlsafe import escape, parse_xml
from .names import SOAP11_ENV, XSI, Service

__all__ = [
    "EnvelopeError",
    "FieldValue",
    "Fields",
    "Request",
    "build_fault",
    "build_response",
    "parse_request",
]

FieldValue: TypeAlias = Union[str, int, bool, "list[tuple[str, FieldValue]]"]
"""A reply field: text, a number, a boolean, or the ordered children of a complex element."""


class EnvelopeError(ValueError):
    """A request that is not a SOAP 1.1 call of the addressed service. ``faultcode`` is ``Client``
    for bad requests (SOAP 1.1 §4.4.1)."""

    faultcode = "Client"


@dataclass
class Fields:
    """The children of a request element (or of one of its complex children), in document order."""

    items: list[tuple[str, str | Fields]] = field(default_factory=list)

    def get(self, name: str) -> str | Fields | None:
        return next((value for key, value in self.items if key == name), None)

    def text(self, name: str) -> str | None:
        value = self.get(name)
        return value if isinstance(value, str) else None

    def integer(self, name: str) -> int | None:
        """The child ``name`` as an integer; None when absent. Raises :class:`EnvelopeError` if not a number."""
        value = self.text(name)
        if value is None:
            return None
        try:
            return int(value.strip())
        except ValueError as error:
            raise EnvelopeError(f"{name} is not a number: {value[:40]!r}") from error

    def boolean(self, name: str) -> bool | None:
        value = self.text(name)
        if value is None:
            return None
        text = value.strip().lower()
        if text not in ("true", "false", "1", "0"):
            raise EnvelopeError(f"{name} is not a boolean: {value[:40]!r}")
        return text in ("true", "1")

    def child(self, name: str) -> Fields | None:
        value = self.get(name)
        return value if isinstance(value, Fields) else None

    def all(self, name: str) -> list[str | Fields]:
        """Every child called ``name`` (repeated elements)."""
        return [value for key, value in self.items if key == name]

    def names(self) -> list[str]:
        return [key for key, _ in self.items]

    def __iter__(self) -> Iterator[tuple[str, str | Fields]]:
        return iter(self.items)


@dataclass(frozen=True)
class Request:
    operation: str
    fields: Fields


def _fields(element: etree._Element, namespace: str) -> Fields:
    result = Fields()
    for child in element:
        if not isinstance(child.tag, str):
            continue
        qname = etree.QName(child)
        if qname.namespace not in (namespace, None):
            raise EnvelopeError(f"element {qname.localname} is in namespace {qname.namespace}, not {namespace}")
        if len(child):
            result.items.append((qname.localname, _fields(child, namespace)))
        else:
            result.items.append((qname.localname, child.text or ""))
    return result


def parse_request(body: bytes, service: Service) -> Request:
    """The operation and parameters of a request to ``service``.

    Raises :class:`~amtkit.wsman.xmlsafe.XMLInputError` for XML that is malformed or hostile and
    :class:`EnvelopeError` for XML that is not a call of this service.
    """
    root = parse_xml(body)
    if root.tag != f"{{{SOAP11_ENV}}}Envelope":
        raise EnvelopeError(f"not a SOAP 1.1 envelope (root element {root.tag})")
    bodies = [child for child in root if child.tag == f"{{{SOAP11_ENV}}}Body"]
    if len(bodies) != 1:
        raise EnvelopeError("the envelope has no Body" if not bodies else "the envelope has several Bodies")
    calls = [child for child in bodies[0] if isinstance(child.tag, str)]
    if len(calls) != 1:
        raise EnvelopeError(f"the Body holds {len(calls)} elements; a call holds one")
    call = calls[0]
    qname = etree.QName(call)
    if qname.namespace != service.namespace:
        raise EnvelopeError(f"{qname.localname} is not in the {service.name} namespace {service.namespace}")
    if call.get(f"{{{XSI}}}nil") in ("true", "1") and len(call):
        raise EnvelopeError(f"{qname.localname} is nil but has children")
    return Request(qname.localname, _fields(call, service.namespace))


def _text(value: str | int | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return escape(str(value))


def _write(parts: list[str], items: Iterable[tuple[str, FieldValue]]) -> None:
    for name, value in items:
        if isinstance(value, list):
            parts.append(f"<b:{name}>")
            _write(parts, value)
            parts.append(f"</b:{name}>")
        else:
            parts.append(f"<b:{name}>{_text(value)}</b:{name}>")


def build_response(service: Service, operation: str, status: int,
                   fields: Iterable[tuple[str, FieldValue]] = ()) -> bytes:
    """``<b:OperationResponse><b:Status>status</b:Status>fields...`` in AMT's byte style."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<a:Envelope xmlns:a="{SOAP11_ENV}" xmlns:b="{service.namespace}"><a:Body>',
        f"<b:{operation}Response><b:{service.status_element}>{int(status)}</b:{service.status_element}>",
    ]
    _write(parts, fields)
    parts.append(f"</b:{operation}Response></a:Body></a:Envelope>")
    return "".join(parts).encode("utf-8")


def build_fault(faultstring: str, *, faultcode: str = "Client") -> bytes:
    """A SOAP 1.1 Fault (``a:Client`` or ``a:Server``) with a short, escaped reason."""
    reason = escape(faultstring[:300])
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<a:Envelope xmlns:a="{SOAP11_ENV}"><a:Body><a:Fault>'
        f"<faultcode>a:{faultcode}</faultcode><faultstring>{reason}</faultstring>"
        "</a:Fault></a:Body></a:Envelope>"
    ).encode()
