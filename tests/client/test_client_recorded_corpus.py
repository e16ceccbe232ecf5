"""The client reads every recorded AMT response vendored in ``tests/data/amt-wire``.

One test per file: ``.xml`` envelopes, ``.chunked`` bodies (dechunked here, strictly) and full
``.http`` responses. Each must parse, and its typed content must make sense for the operation
named in the file name: Get/Put objects are of the ResourceURI's class, Enumerate gives a context,
Pull gives items (or an empty last page), faults carry a subcode, methods a ReturnValue.
Files with known defects get the typed error instead: the legacy SOAP 1.1 (EOI) answers, and
library fixtures whose ReturnValue is a ``${value}`` template placeholder.
"""

from __future__ import annotations

import pytest

from amtkit.wsman import names
from amtkit.wsman.responses import ResponseError, parse_identify, parse_response


def _operation(file_name: str) -> tuple[str, str]:
    """``AMT_GeneralSettings.Get.response.2.xml`` -> (``AMT_GeneralSettings``, ``Get``)."""
    class_name, operation = file_name.split(".")[:2]
    return class_name, operation


def test_recorded_response_parses_to_sane_typed_content(wire, recorded_response: str) -> None:
    data = wire.envelope(recorded_response)
    class_name, operation = _operation(recorded_response)

    if class_name == "RemoteControl":
        # Legacy EOI SOAP 1.1: not WS-Management, refused with a typed error.
        with pytest.raises(ResponseError, match="not a SOAP 1.2 envelope"):
            parse_response(data)
        return

    response = parse_response(data)
    if class_name == "Identify":
        assert parse_identify(data).amt_version
        return
    if class_name == "Fault":
        assert response.fault is not None
        assert response.fault.subcode == operation
        assert response.fault.code in ("Sender", "Receiver")
        assert response.fault.reason
        assert response.fault.kind is not None
        return

    assert response.fault is None
    if "${value}" in wire.description(recorded_response):
        with pytest.raises(ResponseError, match="ReturnValue is not an integer"):
            response.method_output()
        return
    assert response.resource_uri
    if operation in ("Get", "Put"):
        if response.payload is None:  # a Put may be answered with an empty body
            assert operation == "Put"
            return
        instance = response.instance()
        assert instance.class_name == names.class_name_of(response.resource_uri) == class_name
        assert instance.properties
    elif operation == "Enumerate":
        page = response.enumeration()
        assert page.context or page.items
    elif operation == "Pull":
        page = response.enumeration()
        assert page.items or page.end_of_sequence
        assert page.context is not None or page.end_of_sequence
        for item in page.items:
            assert item.instance is not None or item.epr is not None
    elif operation == "Delete":
        assert response.action.startswith(names.Action.DELETE)
    elif operation == "Create":
        assert response.created().resource_uri
    else:
        result = response.method_output()
        assert isinstance(result.return_value, int)


def test_chunked_files_dechunk_to_the_same_envelope_as_their_xml(wire, recorded_chunked_body: str) -> None:
    xml_twin = recorded_chunked_body.removesuffix(".chunked") + ".xml"
    assert wire.envelope(recorded_chunked_body) == wire.read(xml_twin)


def test_real_amt_chunks_have_four_upper_case_hex_digits(wire, httpkit, recorded_chunked_body: str) -> None:
    assert wire.kind(recorded_chunked_body) == "real-capture"
    for line in httpkit.chunk_size_lines(wire.read(recorded_chunked_body))[:-1]:
        assert len(line) == 4 and line == line.upper()


def test_edited_captures_are_tolerated_though_their_action_lacks_the_response_suffix(wire) -> None:
    # go-wsman-messages fixtures hand-edited after capture: the client does not insist on the suffix.
    edited = "IPS_HostBasedSetupService.AdminSetup.response.2.xml"
    assert wire.kind(edited) == "edited-capture"
    response = parse_response(wire.read(edited))
    assert not response.action.endswith("Response")
    assert response.method_output().return_value == 0


def test_edited_http_capture_with_400_ok_status_still_carries_its_method_output(wire) -> None:
    message = wire.http("AMT_SetupAndConfigurationService.Unprovision.response.2.http")
    assert message.status_line == "HTTP/1.1 400 OK"
    assert parse_response(message.body).method_output().return_value == 1
