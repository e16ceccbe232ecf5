"""The simulator's legacy SOAP side on the wire: paths by version, digest, AMT's reply style, faults.

Requests are written here byte for byte, the way amttool/amtc send them; expected values are literals
(PT_STATUS numbers, ASF states) from the SDK facts.
"""

from __future__ import annotations

import re

import pytest

from amtkit.codes import PowerState

RC = "http://schemas.intel.com/platform/client/RemoteControl/2004/01"
SA = "http://schemas.intel.com/platform/client/SecurityAdministration/2004/01"
CB = "http://schemas.intel.com/2004/12/management/PC/CircuitBreaker"
SOAP_HEADERS = (("Host", "127.0.0.1:16992"), ("Content-Type", "text/xml; charset=utf-8"),
                ("SOAPAction", f'"{RC}#GetSystemPowerState"'))


def challenge_on(raw, path: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The digest challenge a legacy path answers an unsigned request with."""
    reply = raw.post(b"", path=path, headers=SOAP_HEADERS)
    assert reply.status == 401, reply.status_line
    params = re.findall(r'(\w+)="([^"]*)"', (reply.header("WWW-Authenticate") or "").partition(" ")[2])
    return {key.lower(): value for key, value in params}


def call(raw, body: bytes, path: str = "/RemoteControlService"):  # type: ignore[no-untyped-def]
    return raw.post(body, path=path, headers=SOAP_HEADERS, authorization=raw.sign(challenge_on(raw, path), uri=path))


def element(reply, name: str) -> str:  # type: ignore[no-untyped-def]
    match = re.search(rf"<b:{name}>([^<]*)</b:{name}>", reply.body.decode())
    assert match, reply.body
    return match.group(1)


def test_an_amt5_device_answers_get_system_power_state_in_amts_byte_style(make_raw_device, soap_request) -> None:
    raw = make_raw_device(amt_version="5.0.1")
    reply = call(raw, soap_request(RC, "GetSystemPowerState"))
    assert reply.status == 200
    assert reply.header("Content-Type") == "text/xml; charset=UTF-8"
    assert reply.chunked
    assert b"<b:GetSystemPowerStateResponse><b:Status>0</b:Status><b:SystemPowerState>0</b:SystemPowerState>" \
        in reply.body


def test_the_recorded_amtc_request_is_answered(make_raw_device, wire) -> None:
    raw = make_raw_device(amt_version="8.0.3", power_state=PowerState.OFF_SOFT)
    reply = call(raw, wire.read("RemoteControl.GetSystemPowerState.request.xml"))
    assert element(reply, "SystemPowerState") == "5"


def test_a_legacy_path_without_credentials_gets_amts_digest_challenge(make_raw_device, soap_request) -> None:
    raw = make_raw_device(amt_version="8.0.3")
    reply = raw.post(soap_request(RC, "GetSystemPowerState"), path="/RemoteControlService", headers=SOAP_HEADERS)
    assert reply.status == 401
    assert re.fullmatch(r'Digest realm="Digest:[0-9A-F]{32}", nonce="[^"]+",stale="false",qop="auth"',
                        reply.header("WWW-Authenticate") or "")
    assert reply.header("Connection") == "close"


def test_a_digest_signed_for_another_path_is_refused(make_raw_device, soap_request) -> None:
    raw = make_raw_device(amt_version="5.0.1")
    challenge = challenge_on(raw, "/RemoteControlService")
    reply = raw.post(soap_request(RC, "GetSystemPowerState"), path="/RemoteControlService", headers=SOAP_HEADERS,
                     authorization=raw.sign(challenge, uri="/wsman"))
    assert reply.status == 401


@pytest.mark.parametrize(("version", "wsman", "eoi"), [
    ("2.6.3", 404, 200),   # before WS-Man
    ("5.0.1", 200, 200),   # both, one port
    ("8.1.40", 200, 200),  # SOAP deprecated, still served
    ("9.0.30", 200, 404),  # SOAP removed
])
def test_which_protocols_a_device_serves_follows_its_version(make_raw_device, soap_request, version: str,
                                                            wsman: int, eoi: int) -> None:
    raw = make_raw_device(amt_version=version)
    identify = (b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
                b'xmlns:wsmid="http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd">'
                b"<s:Header/><s:Body><wsmid:Identify/></s:Body></s:Envelope>")
    assert raw.post(identify).status == wsman
    reply = call(raw, soap_request(SA, "GetCoreVersion"), path="/SecurityAdministrationService") if eoi == 200 \
        else raw.post(soap_request(SA, "GetCoreVersion"), path="/SecurityAdministrationService")
    assert reply.status == eoi
    assert version in (reply.header("Server") or "")
    if eoi == 200:
        assert element(reply, "Version") == version


def test_a_path_that_is_no_service_is_404(make_raw_device, soap_request) -> None:
    raw = make_raw_device(amt_version="5.0.1")
    assert raw.post(soap_request(RC, "GetSystemPowerState"), path="/NoSuchService").status == 404


HOSTILE = [
    pytest.param(b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
                 b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
                 b'<GetSystemPowerState xmlns="' + RC.encode() + b'">&b;</GetSystemPowerState>'
                 b"</soap:Body></soap:Envelope>", id="entity-expansion"),
    pytest.param(b'<?xml version="1.0"?><!DOCTYPE x SYSTEM "file:///etc/passwd"><x/>', id="external-dtd"),
    pytest.param(b"<soap:Envelope xmlns:soap=", id="truncated"),
    pytest.param(b"\xff\xfe<\x00x\x00", id="not-utf8"),
    pytest.param(b'<Envelope xmlns="http://www.w3.org/2003/05/soap-envelope"><Body/></Envelope>', id="soap12"),
    pytest.param(b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
                 b'<GetSystemPowerState xmlns="urn:other"/></soap:Body></soap:Envelope>', id="wrong-namespace"),
    pytest.param(b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
                 b'<Explode xmlns="' + RC.encode() + b'"/></soap:Body></soap:Envelope>', id="unknown-operation"),
    pytest.param(b"<a>" * 300 + b"</a>" * 300, id="deep-nesting"),
]


@pytest.mark.parametrize("body", HOSTILE)
def test_hostile_or_unreadable_xml_gets_a_soap_fault_and_a_closed_connection(make_raw_device, body: bytes) -> None:
    raw = make_raw_device(amt_version="5.0.1")
    reply = call(raw, body)
    assert reply.status == 500
    assert b"<faultcode>a:Client</faultcode>" in reply.body
    assert reply.header("Connection") == "close"
    assert b"root:" not in reply.body


def test_the_device_keeps_serving_after_hostile_input(make_raw_device, soap_request) -> None:
    raw = make_raw_device(amt_version="5.0.1")
    call(raw, HOSTILE[0].values[0])  # type: ignore[arg-type]
    assert element(call(raw, soap_request(RC, "GetSystemPowerState")), "Status") == "0"


@pytest.mark.parametrize(("children", "status"), [
    ("<Command>99</Command><IanaOemNumber>343</IanaOemNumber>", 0x803),                      # INVALID_COMMAND
    ("<Command>16</Command><IanaOemNumber>1234</IanaOemNumber>", 0x801),                     # UNSUPPORTED_OEM_NUMBER
    ("<Command>16</Command><IanaOemNumber>343</IanaOemNumber><SpecialCommand>9</SpecialCommand>", 0x804),
    ("<Command>16</Command><IanaOemNumber>4542</IanaOemNumber><SpecialCommand>193</SpecialCommand>", 0x801),
    ("<Command>16</Command><IanaOemNumber>343</IanaOemNumber><SpecialCommand>4</SpecialCommand>", 0x802),
    ("<Command>16</Command><IanaOemNumber>343</IanaOemNumber><OEMparameters>1</OEMparameters>"
     "<SpecialCommand>193</SpecialCommand>", 0x24),                                          # out of order
    ("<IanaOemNumber>343</IanaOemNumber>", 0x24),                                            # Command missing
    ("<Command>17</Command><IanaOemNumber>343</IanaOemNumber>", 0x10),                       # power up while on
])
def test_remote_control_refusals_are_pt_status_codes_in_the_status_element(make_raw_device, soap_request,
                                                                          children: str, status: int) -> None:
    raw = make_raw_device(amt_version="5.0.1")
    reply = call(raw, soap_request(RC, "RemoteControl", children))
    assert reply.status == 200
    assert element(reply, "Status") == str(status)
    assert raw.info.control.power_history() == []


def test_power_commands_refused_while_the_state_is_unknown(make_raw_device, soap_request) -> None:
    raw = make_raw_device(amt_version="5.0.1")
    raw.info.device.faults.power_state_unknown = True
    assert element(call(raw, soap_request(RC, "GetSystemPowerState")), "SystemPowerState") == "14"
    reply = call(raw, soap_request(RC, "RemoteControl", "<Command>18</Command><IanaOemNumber>343</IanaOemNumber>"))
    assert element(reply, "Status") == "1"  # INTERNAL_ERROR


def test_circuit_breaker_reports_its_limits(make_raw_device, soap_request) -> None:
    raw = make_raw_device(amt_version="5.0.1")
    reply = call(raw, soap_request(CB, "CbQueryCapabilities"), path="/CircuitBreakerService")
    assert element(reply, "MaxSupportedPolicies") == "8"
    assert element(reply, "MaxSupportedFilters") == "80"
