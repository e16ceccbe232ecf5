"""Fixtures of the legacy SOAP suite: simulated AMT devices of the EOI era and clients for them."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest


@pytest.fixture
def legacy_device(make_device):  # type: ignore[no-untyped-def]
    """An AMT 5.0 device: legacy SOAP and WS-Man on one port, instant power changes."""
    return make_device(amt_version="5.0.1")


@pytest.fixture
def legacy(legacy_device, connect) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """A client that speaks legacy SOAP to ``legacy_device`` (forced: the device speaks WS-Man too)."""
    yield connect(legacy_device, generation="eoi")


@pytest.fixture
def wsman_view(legacy_device, connect) -> object:  # type: ignore[no-untyped-def]
    """A second client to the same device, forced to WS-Man."""
    return connect(legacy_device, generation="wsman")


@pytest.fixture
def soap_request() -> Callable[..., bytes]:
    """A request written the way amttool and amtc write them (SOAP::Lite style): ``soap_request(ns, op,
    "<Child>1</Child>...")``."""

    def build(namespace: str, operation: str, children: str = "") -> bytes:
        inner = (f'<{operation} xmlns="{namespace}">{children}</{operation}>' if children
                 else f'<{operation} xmlns="{namespace}" xsi:nil="true"/>')
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<soap:Envelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
            'soap:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/" '
            'xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
            f"<soap:Body>{inner}</soap:Body></soap:Envelope>"
        ).encode()

    return build
