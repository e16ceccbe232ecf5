"""From an authenticated POST to a legacy SOAP path to reply bytes: the one place EOI errors are rendered.

* A readable call of a known operation runs its handler; a refusal is a reply whose status element
  carries the PT_STATUS (HTTP 200), as every EOI client expects.
* XML that is malformed or hostile, or not a SOAP 1.1 call of the addressed service, or an operation the
  service does not have, gets a SOAP 1.1 ``Fault`` with HTTP 500 (SOAP 1.1 §6.2) and the connection closed.

Replies are ``text/xml; charset=UTF-8``, chunked, as the firmware of that era sent them.
"""

from __future__ import annotations

import logging

from amtkit.eoi import envelope
from amtkit.eoi.names import REPLY_CONTENT_TYPE, service_at
from amtkit.wsman.xmlsafe import XMLInputError

from .. import httpwire
from ..device import SimulatedDevice
from ..dispatch import Reply
from . import (  # noqa: F401  (registration side effects)
    circuit_breaker,
    general_info,
    network_administration,
    remote_control,
    security_administration,
)
from .base import REGISTRY, StatusError

__all__ = ["dispatch_eoi", "eoi_reply", "serves_path"]

log = logging.getLogger(__name__)


def serves_path(path: str) -> bool:
    return path in REGISTRY


def dispatch_eoi(device: SimulatedDevice, path: str, body: bytes) -> Reply:
    """Handle one authenticated request to a legacy SOAP service. Never raises for bad input."""
    service = service_at(path)
    handler = REGISTRY.get(path)
    if service is None or handler is None:
        return Reply(404, b"", True)
    try:
        request = envelope.parse_request(body, service)
    except XMLInputError as error:
        return Reply(500, envelope.build_fault(f"unreadable request: {error}"), True)
    except envelope.EnvelopeError as error:
        return Reply(500, envelope.build_fault(str(error)), True)
    operation = handler.operation(request.operation)
    if operation is None:
        return Reply(500, envelope.build_fault(f"{service.name} has no operation {request.operation}"), True)
    try:
        fields = operation(device, request.fields)
    except StatusError as refusal:
        log.debug("%s.%s refused: %s", service.name, request.operation, refusal)
        return Reply(200, envelope.build_response(service, request.operation, refusal.status))
    except envelope.EnvelopeError as error:
        return Reply(500, envelope.build_fault(str(error)), True)
    return Reply(200, envelope.build_response(service, request.operation, 0, fields))


def eoi_reply(reply: Reply, server: str) -> bytes:
    """The HTTP bytes of a legacy SOAP reply (faults close the connection)."""
    if reply.status == 404:
        return httpwire.simple_reply(404, server, b"Not Found", close=True)
    head = (
        f"HTTP/1.1 {reply.status} {'OK' if reply.status == 200 else 'Internal Server Error'}\r\n"
        f"Date: {httpwire.http_date()}\r\nServer: {server}\r\nContent-Type: {REPLY_CONTENT_TYPE}\r\n"
        "Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n"
        + ("Connection: close\r\n" if reply.close else "") + "\r\n"
    )
    return head.encode("latin-1") + httpwire.chunked(reply.body)
