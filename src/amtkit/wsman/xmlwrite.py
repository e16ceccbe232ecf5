"""Text serialization of CIM values, shared by request and response writers.

Both sides write XML as text rather than through a tree: it is several times faster, and the
simulator must control every byte (AMT writes ``<x></x>``, never ``<x/>``, and no whitespace).
Every value passes through :func:`~amtkit.wsman.xmlsafe.escape`.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping

from .values import EndpointReference, Scalar, Selector, Value, to_text
from .xmlsafe import escape

__all__ = ["epr_xml", "needs_common_namespace", "properties_xml", "selector_set_xml"]


def selector_set_xml(selectors: Mapping[str, Selector], wsman: str, wsa: str) -> str:
    parts = [f"<{wsman}:SelectorSet>"]
    for name, value in selectors.items():
        if isinstance(value, EndpointReference):
            inner = f"<{wsa}:EndpointReference>{epr_xml(value, wsa, wsman)}</{wsa}:EndpointReference>"
        else:
            inner = escape(value)
        parts.append(f'<{wsman}:Selector Name="{escape(name)}">{inner}</{wsman}:Selector>')
    parts.append(f"</{wsman}:SelectorSet>")
    return "".join(parts)


def epr_xml(epr: EndpointReference, wsa: str, wsman: str) -> str:
    """The *content* of an EPR element: Address and ReferenceParameters."""
    selectors = selector_set_xml(epr.selectors, wsman, wsa) if epr.selectors else ""
    return (
        f"<{wsa}:Address>{escape(epr.address)}</{wsa}:Address>"
        f"<{wsa}:ReferenceParameters><{wsman}:ResourceURI>{escape(epr.resource_uri)}</{wsman}:ResourceURI>"
        f"{selectors}</{wsa}:ReferenceParameters>"
    )


def _scalar_xml(prefix: str, name: str, value: Scalar, wsa: str, wsman: str, common: str | None) -> str:
    if value is None:
        return f'<{prefix}:{name} xsi:nil="true"></{prefix}:{name}>'
    if isinstance(value, EndpointReference):
        return f"<{prefix}:{name}>{epr_xml(value, wsa, wsman)}</{prefix}:{name}>"
    text = escape(to_text(value))
    if common is not None and isinstance(value, _dt.datetime):
        return f"<{prefix}:{name}><{common}:Datetime>{text}</{common}:Datetime></{prefix}:{name}>"
    return f"<{prefix}:{name}>{text}</{prefix}:{name}>"


def properties_xml(
    prefix: str,
    properties: Iterable[tuple[str, Value]],
    *,
    wsa: str,
    wsman: str,
    common: str | None = None,
) -> str:
    """Property elements in the given order; arrays become repeated elements."""
    parts: list[str] = []
    for name, value in properties:
        if isinstance(value, list):
            parts.extend(_scalar_xml(prefix, name, item, wsa, wsman, common) for item in value)
        else:
            parts.append(_scalar_xml(prefix, name, value, wsa, wsman, common))
    return "".join(parts)


def needs_common_namespace(properties: Iterable[Value]) -> bool:
    """Whether any value is a datetime (written inside the wscim common namespace)."""
    for value in properties:
        items = value if isinstance(value, list) else [value]
        if any(isinstance(item, _dt.datetime) for item in items):
            return True
    return False
