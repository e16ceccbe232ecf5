"""The sans-IO legacy SOAP envelopes: AMT's reply bytes, requests in other consoles' styles, round trips."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from amtkit.eoi import envelope, names
from amtkit.wsman.xmlsafe import XMLInputError

RC = "http://schemas.intel.com/platform/client/RemoteControl/2004/01"


@pytest.mark.parametrize(("name", "state"), [
    ("RemoteControl.GetSystemPowerState.response.xml", 0),
    ("RemoteControl.GetSystemPowerState.response.2.xml", 5),
    ("RemoteControl.GetSystemPowerState.response.3.xml", 14),
])
def test_replies_are_byte_for_byte_the_recorded_style(wire, name: str, state: int) -> None:
    built = envelope.build_response(names.REMOTE_CONTROL, "GetSystemPowerState", 0, [("SystemPowerState", state)])
    assert built == wire.read(name)


def test_a_status_only_reply_matches_the_recorded_remote_control_response(wire) -> None:
    assert envelope.build_response(names.REMOTE_CONTROL, "RemoteControl", 0) == \
        wire.read("RemoteControl.RemoteControl.response.xml")


def test_the_recorded_amtc_requests_parse(wire) -> None:
    empty = envelope.parse_request(wire.read("RemoteControl.GetSystemPowerState.request.xml"), names.REMOTE_CONTROL)
    assert (empty.operation, empty.fields.names()) == ("GetSystemPowerState", [])
    command = envelope.parse_request(wire.read("RemoteControl.RemoteControl.request.xml"), names.REMOTE_CONTROL)
    assert command.operation == "RemoteControl"
    assert (command.fields.integer("Command"), command.fields.integer("IanaOemNumber")) == (17, 343)


def test_nested_fields_keep_order_and_repeats() -> None:
    body = (f'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><p:Op xmlns:p="{RC}">'
            "<p:A>1</p:A><p:B><p:C>x</p:C></p:B><p:A>2</p:A></p:Op></s:Body></s:Envelope>").encode()
    request = envelope.parse_request(body, names.REMOTE_CONTROL)
    assert request.fields.names() == ["A", "B", "A"]
    assert request.fields.all("A") == ["1", "2"]
    child = request.fields.child("B")
    assert child is not None and child.text("C") == "x"


@pytest.mark.parametrize("body", [
    b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"/>',
    b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/></s:Envelope>',
    b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><A xmlns="' + RC.encode()
    + b'"/><B xmlns="' + RC.encode() + b'"/></s:Body></s:Envelope>',
    b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><A xmlns="' + RC.encode()
    + b'"><x:B xmlns:x="urn:other">1</x:B></A></s:Body></s:Envelope>',
])
def test_bodies_that_are_no_single_call_of_the_service_are_refused(body: bytes) -> None:
    with pytest.raises(envelope.EnvelopeError):
        envelope.parse_request(body, names.REMOTE_CONTROL)


def test_hostile_xml_is_refused_before_parsing() -> None:
    with pytest.raises(XMLInputError):
        envelope.parse_request(b'<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>', names.REMOTE_CONTROL)


def test_a_fault_escapes_its_reason() -> None:
    fault = etree.fromstring(envelope.build_fault("bad <input> & more"))
    assert fault.findtext(".//faultstring") == "bad <input> & more"
    assert fault.findtext(".//faultcode") == "a:Client"


_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=20)
_VALUE = st.one_of(st.integers(0, 2**32 - 1), st.booleans(), _TEXT)
_NAME = st.from_regex(r"[A-Z][A-Za-z0-9]{0,10}", fullmatch=True)


@settings(max_examples=60)
@given(st.lists(st.tuples(_NAME, _VALUE), max_size=6), st.integers(0, 0xFFFF))
def test_reply_fields_read_back_as_written(fields: list[tuple[str, object]], status: int) -> None:
    built = envelope.build_response(names.CIRCUIT_BREAKER, "CbFilterGet", status, fields)  # type: ignore[arg-type]
    reply = etree.fromstring(built).find(f".//{{{names.CIRCUIT_BREAKER.namespace}}}CbFilterGetResponse")
    assert reply is not None
    children = [(etree.QName(c).localname, c.text or "") for c in reply]
    expected = [(n, ("true" if v else "false") if isinstance(v, bool) else str(v)) for n, v in fields]
    assert children == [("Status", str(status)), *expected]
