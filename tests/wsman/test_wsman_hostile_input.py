"""Hostile and malformed bytes never get past the parsers, and only typed errors come out.

Both directions are covered: ``parse_response`` (what the client reads from a device) and
``parse_request`` (what the simulator reads from a client). Accepted errors are
:class:`XMLInputError` (with :class:`XMLSecurityError` for refused features and
:class:`MalformedXMLError` for broken documents), :class:`ResponseError` and :class:`RequestError`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from amtkit.wsman import names
from amtkit.wsman import requests as wr
from amtkit.wsman import responses as rs
from amtkit.wsman.faults import FAULTS
from amtkit.wsman.requests import RequestError, parse_request
from amtkit.wsman.responses import ResponseError, parse_identify, parse_response
from amtkit.wsman.values import CimInstance, EndpointReference
from amtkit.wsman.xmlsafe import MAX_DOCUMENT_BYTES, MalformedXMLError, XMLInputError, XMLSecurityError

SOAP_OPEN = f'<s:Envelope xmlns:s="{names.SOAP_ENV}">'.encode()
BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(b'<!ENTITY lol%d "%s">' % (i, b"".join(b"&lol%d;" % (i - 1) if i > 1 else b"&lol;"
                                                          for _ in range(10))) for i in range(1, 10))
    + b"]>" + SOAP_OPEN + b"<s:Body><x>&lol9;</x></s:Body></s:Envelope>"
)
SOAP_11 = (b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header></s:Header>'
           b"<s:Body><x></x></s:Body></s:Envelope>")

HOSTILE: dict[str, tuple[bytes, type[Exception], type[Exception]]] = {
    # name: (bytes, error from parse_response, error from parse_request)
    "billion laughs": (BILLION_LAUGHS, XMLSecurityError, XMLSecurityError),
    "internal DOCTYPE": (b"<!DOCTYPE a [<!ELEMENT a ANY>]><a></a>", XMLSecurityError, XMLSecurityError),
    "parameter entity": (b'<!DOCTYPE x [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd">%p;]><x></x>',
                         XMLSecurityError, XMLSecurityError),
    "DOCTYPE in UTF-16": ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>'
                          .encode("utf-16"), XMLSecurityError, XMLSecurityError),
    "oversize": (SOAP_OPEN + b"<s:Body>" + b"x" * MAX_DOCUMENT_BYTES + b"</s:Body></s:Envelope>",
                 XMLSecurityError, XMLSecurityError),
    "truncated": (SOAP_OPEN + b"<s:Body><g:Get", MalformedXMLError, MalformedXMLError),
    "empty": (b"", MalformedXMLError, MalformedXMLError),
    "invalid UTF-8": (SOAP_OPEN + b"<s:Body><x>\xff\xfe\xc3</x></s:Body></s:Envelope>", MalformedXMLError,
                      MalformedXMLError),
    "deeply nested": (SOAP_OPEN + b"<s:Body>" + b"<x>" * 5000 + b"</x>" * 5000 + b"</s:Body></s:Envelope>",
                      MalformedXMLError, MalformedXMLError),
    "undefined entity": (SOAP_OPEN + b"<s:Body>&nope;</s:Body></s:Envelope>", MalformedXMLError,
                         MalformedXMLError),
    "NUL character reference": (SOAP_OPEN + b"<s:Body>&#0;</s:Body></s:Envelope>", MalformedXMLError,
                                MalformedXMLError),
    "unknown encoding": (b'<?xml version="1.0" encoding="x-bogus"?><a></a>', MalformedXMLError, MalformedXMLError),
    "SOAP 1.1 envelope": (SOAP_11, ResponseError, RequestError),
    "not an envelope": (b"<html><body>It works!</body></html>", ResponseError, RequestError),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_parse_response_refuses_hostile_input_with_a_typed_error(name: str) -> None:
    data, expected, _ = HOSTILE[name]
    with pytest.raises(expected):
        parse_response(data)


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_parse_request_refuses_hostile_input_with_a_typed_error(name: str) -> None:
    data, _, expected = HOSTILE[name]
    with pytest.raises(expected):
        parse_request(data)


def _external_entity_documents(secret_file: Path) -> list[bytes]:
    uri = secret_file.as_uri()
    body = f'<s:Envelope xmlns:s="{names.SOAP_ENV}"><s:Body><x>&xxe;</x></s:Body></s:Envelope>'
    doctype = f'<!DOCTYPE s:Envelope [<!ENTITY xxe SYSTEM "{uri}">]>'
    return [
        (doctype + body).encode(),
        ('<?xml version="1.0" encoding="UTF-16"?>' + doctype + body).encode("utf-16"),
        f'<?xml version="1.0"?><!DOCTYPE x SYSTEM "{uri}"><x></x>'.encode(),
        # XInclude is never processed either.
        (f'<s:Envelope xmlns:s="{names.SOAP_ENV}" xmlns:xi="http://www.w3.org/2001/XInclude"><s:Body>'
         f'<xi:include href="{uri}" parse="text"></xi:include></s:Body></s:Envelope>').encode(),
    ]


def test_external_entities_never_read_local_files(tmp_path: Path) -> None:
    secret_file = tmp_path / "passwd"
    secret_file.write_text("root:SECRET-MARKER-31337:0:0")
    for document in _external_entity_documents(secret_file):
        for parse in (parse_response, parse_request):
            try:
                parsed = parse(document)
            except (XMLInputError, ResponseError, RequestError) as error:
                assert "SECRET-MARKER" not in str(error)
            else:
                payload = getattr(parsed, "payload", None) if parse is parse_response else parsed.body
                text = "" if payload is None else "".join(payload.itertext())
                assert "SECRET-MARKER" not in text


def test_etc_passwd_entity_is_refused_before_resolution() -> None:
    document = (b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>' + SOAP_OPEN
                + b"<s:Body><x>&xxe;</x></s:Body></s:Envelope>")
    with pytest.raises(XMLSecurityError) as caught:
        parse_response(document)
    assert "root:" not in str(caught.value)


TYPED = (XMLInputError, ResponseError, RequestError)


def _exercise_response(data: bytes) -> None:
    """Parse and call every typed accessor; only typed errors may escape."""
    try:
        response = parse_response(data)
    except TYPED:
        return
    for accessor in (response.instance, response.created, response.enumeration, response.method_output):
        try:
            accessor()
        except TYPED:
            pass
    try:
        parse_identify(data)
    except TYPED:
        pass


def _exercise_request(data: bytes) -> None:
    try:
        request = parse_request(data)
    except TYPED:
        return
    for accessor in (request.body_instance, request.method_params, request.enumerate_options,
                     request.enumeration_context, request.pull_max_elements):
        try:
            accessor()
        except TYPED:
            pass


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_random_bytes_only_ever_raise_typed_errors(data: bytes) -> None:
    _exercise_response(data)
    _exercise_request(data)


_VALID_DOCUMENTS = [
    rs.get_response("1", "m", CimInstance("CIM_AssociatedPowerManagementService", {
        "PowerState": 2, "AvailableRequestedPowerStates": [8, 10],
        "UserOfService": EndpointReference(names.resource_uri("CIM_ComputerSystem"), {"Name": "ManagedSystem"})})),
    rs.pull_response("1", "m", names.resource_uri("CIM_SoftwareIdentity"),
                     [rs.EnumItem(CimInstance("CIM_SoftwareIdentity", {"InstanceID": "AMT"}))], "CTX"),
    rs.method_response("1", "m", "CIM_PowerManagementService", "RequestPowerStateChange", 0, {"Job": "x"}),
    rs.fault_response("1", "m", FAULTS.INTERNAL_ERROR, "AMT-STATUS 0x1"),
    wr.build_put(CimInstance("AMT_GeneralSettings", {"HostName": "h", "PingResponseEnabled": True})),
    wr.build_invoke("CIM_PowerManagementService", "RequestPowerStateChange",
                    {"PowerState": 8, "ManagedElement": EndpointReference(names.resource_uri("CIM_ComputerSystem"))}),
    wr.build_pull(names.resource_uri("CIM_SoftwareIdentity"), "CTX", 5),
]
_SPLICES = [b"<", b">", b"&", b'"', b"</a:Body>", b"<a:Fault>", b'xsi:nil="true" ', b"<c:Items>",
            b"<h:Datetime>", b"99999999999999999999999", b"EndOfSequence", b"ReferenceParameters", b"\xff"]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(_VALID_DOCUMENTS),
       st.lists(st.tuples(st.floats(0, 1), st.integers(0, 40), st.sampled_from(_SPLICES)), min_size=1, max_size=6))
def test_mutated_envelopes_only_ever_raise_typed_errors(document: bytes,
                                                        edits: list[tuple[float, int, bytes]]) -> None:
    data = bytearray(document)
    for where, cut, splice in edits:
        at = int(where * len(data))
        data[at:at + cut % 8] = splice
    _exercise_response(bytes(data))
    _exercise_request(bytes(data))
