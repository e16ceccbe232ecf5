"""CIM values on the wire: instances, endpoint references, and typed property values.

XML carries every property as text. :mod:`amtkit.wsman.schema` says which properties are
booleans, integers, datetimes, references or arrays; :func:`parse_instance` applies it, and
:func:`to_text` turns Python values back into AMT's text forms (``true``/``false``, decimal).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from lxml import etree

from . import names
from .schema import MAX_LEARNED_TAGS, STRING, PropertyType, class_types, tag_types
from .xmlsafe import local_name

__all__ = ["CimInstance", "EndpointReference", "Selector", "parse_selector_set", "Value", "parse_instance", "parse_epr", "to_text", "from_text"]


@dataclass(frozen=True)
class EndpointReference:
    """A WS-Addressing reference to one CIM instance: its class URI and selector set."""

    resource_uri: str
    selectors: Mapping[str, Selector] = field(default_factory=dict)
    address: str = names.ANONYMOUS

    @property
    def class_name(self) -> str:
        return names.class_name_of(self.resource_uri)

    def __hash__(self) -> int:
        return hash((self.resource_uri, tuple(sorted((k, str(v)) for k, v in self.selectors.items()))))


Selector = str | EndpointReference


Scalar = str | int | bool | _dt.datetime | EndpointReference | None
Value = Scalar | list[Scalar]


@dataclass
class CimInstance(Mapping[str, Value]):
    """One CIM object: its class name and properties (typed per :mod:`amtkit.wsman.schema`).

    Behaves as a read-only mapping of property name to value; ``properties`` is the dict
    to change before a Put.
    """

    class_name: str
    properties: dict[str, Value] = field(default_factory=dict)

    @property
    def resource_uri(self) -> str:
        return names.resource_uri(self.class_name)

    def __getitem__(self, key: str) -> Value:
        return self.properties[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.properties)

    def __len__(self) -> int:
        return len(self.properties)


def parse_datetime(text: str) -> _dt.datetime:
    """xs:dateTime as AMT writes it (``2024-01-02T03:04:05Z``, offsets, or none)."""
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    return _dt.datetime.fromisoformat(value)


def from_text(text: str, kind: PropertyType) -> Scalar:
    """Convert one property's text by its schema type; unparseable text stays a string."""
    if kind is PropertyType.BOOL:
        lowered = text.strip().lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        return text
    if kind is PropertyType.INT:
        try:
            return int(text.strip())
        except ValueError:
            return text
    if kind is PropertyType.DATETIME:
        try:
            return parse_datetime(text)
        except ValueError:
            return text
    return text


def to_text(value: Scalar) -> str:
    """The wire text of a Python value: booleans as ``true``/``false``, datetimes ISO 8601 in UTC."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, _dt.datetime):
        # isoformat, not strftime: it pads years below 1000 and keeps fractional seconds.
        if value.tzinfo is not None:
            value = value.astimezone(_dt.timezone.utc).replace(tzinfo=None)
        return value.isoformat() + "Z"
    if isinstance(value, EndpointReference):
        raise TypeError("endpoint references are serialized as elements, not text")
    return str(value)


def parse_epr(element: etree._Element) -> EndpointReference:
    """Parse an element holding ``Address`` + ``ReferenceParameters`` (any prefixes).

    Selector values may themselves be endpoint references (AMT uses that for association keys).
    """
    address = names.ANONYMOUS
    resource_uri = ""
    selectors: dict[str, Selector] = {}
    for child in element:
        local = local_name(child.tag)
        if local == "Address":
            address = (child.text or "").strip() or names.ANONYMOUS
        elif local == "ReferenceParameters":
            for param in child:
                plocal = local_name(param.tag)
                if plocal == "ResourceURI":
                    resource_uri = (param.text or "").strip()
                elif plocal == "SelectorSet":
                    selectors.update(parse_selector_set(param))
    return EndpointReference(resource_uri=resource_uri, selectors=selectors, address=address)


def parse_selector_set(element: etree._Element) -> dict[str, Selector]:
    selectors: dict[str, Selector] = {}
    for selector in element:
        if local_name(selector.tag) != "Selector":
            continue
        nested = next(iter(selector), None)
        # ``Name``, or ``wsman:Name`` as the ``amt`` package writes it (AMT takes both).
        name = str(selector.get("Name") or selector.get(f"{{{names.WSMAN}}}Name", ""))
        if nested is not None and local_name(nested.tag) == "EndpointReference":
            selectors[name] = parse_epr(nested)
        else:
            selectors[name] = (selector.text or "").strip()
    return selectors


def _is_epr(element: etree._Element) -> bool:
    return any(local_name(child.tag) == "ReferenceParameters" for child in element)


_NIL = f"{{{names.XSI}}}nil"


def _is_nil(element: etree._Element) -> bool:
    nil = element.get(_NIL)
    return nil is not None and nil.strip().lower() in ("true", "1")


def parse_value(element: etree._Element, kind: PropertyType) -> Scalar:
    """One property element: nil, an endpoint reference, a wrapped datetime, or typed text."""
    if len(element):
        if _is_nil(element):
            return None
        first = element[0]
        if _is_epr(element):
            return parse_epr(element)
        first_name = local_name(first.tag)
        if first_name in ("Datetime", "Date", "Time", "Interval") and first.text:
            return from_text(first.text, PropertyType.DATETIME) if first_name == "Datetime" else first.text
    elif element.attrib and _is_nil(element):
        return None
    return from_text(element.text or "", kind)


def parse_instance(element: etree._Element) -> CimInstance:
    """Turn a class element (``<g:AMT_GeneralSettings>...``) into a typed :class:`CimInstance`.

    Repeated elements become lists, and so does a single element of an array property.

    The client's hottest loop (a Get's answer has a few dozen properties): a property is found by
    its tag in one lookup (:func:`~.schema.tag_types`, which also learns the tags of the class's
    untyped properties), and a leaf with text is converted inline; empty, nil and structured
    elements go through :func:`parse_value`.
    """
    class_tag = str(element.tag)
    known = tag_types(class_tag)
    lookup = known.get
    properties: dict[str, Value] = {}
    for child in element:
        tag = child.tag
        spec = lookup(tag)
        if spec is None:
            if not isinstance(tag, str):
                continue
            spec = _untyped_spec(known, class_tag, tag)
        name, kind, array = spec
        text = child.text
        value: Scalar
        if text is None or len(child):
            value = parse_value(child, kind)  # empty, nil, a reference or a wrapped datetime
        elif kind is _STR:
            value = text
        elif kind is _INT:
            try:
                value = int(text)  # int() strips white space, as from_text does
            except ValueError:
                value = text
        elif kind is _BOOL and text in _CANONICAL_BOOLS:
            value = _CANONICAL_BOOLS[text]
        else:
            value = from_text(text, kind)
        if array or name in properties:
            existing = properties.get(name)
            if existing is None and name not in properties:
                properties[name] = [value]
            elif isinstance(existing, list):
                existing.append(value)
            else:
                properties[name] = [existing, value]
        else:
            properties[name] = value
    return CimInstance(class_name=local_name(class_tag), properties=properties)


def _untyped_spec(known: dict[str, tuple[str, PropertyType, bool]], class_tag: str,
                  tag: str) -> tuple[str, PropertyType, bool]:
    """A property tag the class's typed ones do not have: another namespace's, or an untyped (string)
    property, whose tag is remembered (up to :data:`~.schema.MAX_LEARNED_TAGS`)."""
    name = tag[tag.rfind("}") + 1:]
    ptype = class_types(local_name(class_tag)).get(name, STRING)
    spec = (name, ptype.kind, ptype.array)
    if len(known) < MAX_LEARNED_TAGS:
        known[tag] = spec
    return spec


_STR, _INT, _BOOL = PropertyType.STR, PropertyType.INT, PropertyType.BOOL
_CANONICAL_BOOLS = {"true": True, "false": False}
