"""How a legacy SOAP service is served: one :class:`ServiceHandler` per service, registered by path.

A service module subclasses :class:`ServiceHandler`, names its :class:`~amtkit.eoi.names.Service` and
maps each operation to a method ``(device, fields) -> reply fields``. A method refuses with
:class:`StatusError`: AMT answers application errors as a PT_STATUS in the reply's first element
(HTTP 200), never as a SOAP fault.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, ClassVar

from amtkit.codes import PTStatus
from amtkit.eoi.envelope import EnvelopeError, Fields, FieldValue
from amtkit.eoi.names import Service

if TYPE_CHECKING:
    from ..device import SimulatedDevice

__all__ = ["REGISTRY", "Operation", "ReplyFields", "ServiceHandler", "StatusError", "as_mapping", "as_reply",
           "register", "required"]

ReplyFields = list[tuple[str, FieldValue]]
Operation = Callable[["SimulatedDevice", Fields], ReplyFields]


class StatusError(Exception):
    """An operation refused with a PT_STATUS (the reply then carries the status element only)."""

    def __init__(self, status: PTStatus | int, why: str = "") -> None:
        super().__init__(why or PTStatus.describe(int(status)))
        self.status = int(status)


class ServiceHandler:
    """Serve one legacy service. ``operations`` maps operation names to method names."""

    service: ClassVar[Service]
    operations: ClassVar[dict[str, str]] = {}

    def operation(self, name: str) -> Operation | None:
        attribute = self.operations.get(name)
        return None if attribute is None else getattr(self, attribute)


REGISTRY: dict[str, ServiceHandler] = {}
"""Handlers by HTTP path (``/RemoteControlService``)."""


def register(handler: ServiceHandler) -> ServiceHandler:
    REGISTRY[handler.service.path] = handler
    return handler


def required(fields: Fields, name: str) -> int:
    """A mandatory numeric parameter; its absence is INVALID_PARAMETER, as for any bad value."""
    try:
        value = fields.integer(name)
    except EnvelopeError as error:
        raise StatusError(PTStatus.INVALID_PARAMETER, str(error)) from None
    if value is None:
        raise StatusError(PTStatus.INVALID_PARAMETER, f"{name} is missing")
    return value


def as_mapping(fields: Fields) -> dict[str, object]:
    """A request's fields as nested dicts (repeated elements as lists), the shape of
    :mod:`amtkit.eoi.circuit_breaker`'s structures."""
    result: dict[str, object] = {}
    for name, value in fields:
        converted: object = as_mapping(value) if isinstance(value, Fields) else value
        if name in result:
            previous = result[name]
            result[name] = [*previous, converted] if isinstance(previous, list) else [previous, converted]
        else:
            result[name] = converted
    return result


def as_reply(mapping: Mapping[str, object]) -> ReplyFields:
    """Nested dicts (lists for repeated elements) as ordered reply fields; None values are left out."""
    fields: ReplyFields = []
    for name, value in mapping.items():
        for item in value if isinstance(value, list) else [value]:
            if item is None:
                continue
            if isinstance(item, Mapping):
                fields.append((name, as_reply(item)))
            elif isinstance(item, (str, int, bool)):
                fields.append((name, item))
            else:
                fields.append((name, str(item)))
    return fields
