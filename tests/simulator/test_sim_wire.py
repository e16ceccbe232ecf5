"""The simulator's HTTP and SOAP replies, on the wire: AMT's 401 and 200 framing byte for byte,
the WS-Man faults for requests AMT refuses, and resilience to garbage and hostile input."""

from __future__ import annotations

import re
import time

import pytest
from lxml import etree

from amtkit.codes import ProvisioningState
from amtkit.wsman import names
from amtkit.wsman import requests as wr
from amtsim import Timing

# Wire facts spelled out (DSP0226 namespaces, Intel AMT SDK URI), not taken from amtkit.wsman.names.
GENERAL = "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_GeneralSettings"
SOAP_ENV = "http://www.w3.org/2003/05/soap-envelope"
WSEN = "http://schemas.xmlsoap.org/ws/2004/09/enumeration"
WSMAN = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
CHALLENGE = re.compile(r'Digest realm="Digest:[0-9A-F]{32}", nonce="[A-Za-z0-9+/]{32}",stale="(true|false)",qop="auth"')


class Session:
    """A raw digest session: a challenge, then signed requests (nc 1, 2, ...) on new connections."""

    def __init__(self, raw, httpkit) -> None:  # type: ignore[no-untyped-def]
        self.raw, self.httpkit = raw, httpkit
        self.challenge = raw.challenge()
        self.nc = 0

    def post(self, body: bytes, connection=None):  # type: ignore[no-untyped-def]
        self.nc += 1
        request = self.httpkit.http_post(body, authorization=self.raw.sign(self.challenge, nc=self.nc))
        return (connection or self.raw.connection()).exchange(request)


@pytest.fixture
def session(raw_device, httpkit) -> Session:  # type: ignore[no-untyped-def]
    return Session(raw_device, httpkit)


def fault_of(reply) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """(subcode local name, detail text) of a SOAP fault reply."""
    root = etree.fromstring(reply.body)
    values = [v.text or "" for v in root.iter(f"{{{SOAP_ENV}}}Value")]
    detail = root.find(f".//{{{SOAP_ENV}}}Detail")
    return values[-1].rsplit(":", 1)[-1], "".join(detail.itertext()) if detail is not None else ""


def body_of(envelope: bytes) -> str:
    """The XML inside ``<s:Body>`` of a built request, to send it again with other headers."""
    body = etree.fromstring(envelope).find(f"{{{SOAP_ENV}}}Body")
    assert body is not None
    return "".join(etree.tostring(child).decode() for child in body)


# --- the 401 ---------------------------------------------------------------------------------------


def test_401_has_amts_headers_in_amts_order(raw_device) -> None:
    reply = raw_device.post(wr.build_get(GENERAL))
    assert reply.status_line == "HTTP/1.1 401 Unauthorized"
    assert reply.header_names == ["WWW-Authenticate", "Content-Type", "Server", "Content-Length", "Connection"]
    assert CHALLENGE.fullmatch(reply.header("WWW-Authenticate") or "")
    assert reply.header("Content-Type") == "text/html"
    assert reply.header("Server") == f"Intel(R) Active Management Technology {raw_device.info.device.config.amt_version}"
    assert reply.header("Content-Length") == "693" == str(len(reply.body))
    assert reply.header("Connection") == "close"


def test_401_challenge_realm_is_the_devices_digest_realm(raw_device) -> None:
    assert raw_device.challenge()["realm"] == raw_device.info.device.config.realm


def test_401_body_is_amts_logon_failed_page_byte_for_byte(raw_device, wire) -> None:
    recorded = wire.http("HTTP.401.Unauthorized.amt15.0.23.1706.http")
    assert raw_device.post(wr.build_get(GENERAL)).body == recorded.body


def test_401_closes_the_connection(raw_device, httpkit) -> None:
    connection = raw_device.connection()
    connection.exchange(httpkit.http_post(wr.build_get(GENERAL)))
    assert connection.closed_by_peer()


def test_each_challenge_carries_a_new_nonce(raw_device) -> None:
    assert raw_device.challenge()["nonce"] != raw_device.challenge()["nonce"]


def test_expired_nonce_with_the_right_password_is_challenged_with_stale_true(make_raw_device, httpkit) -> None:
    raw = make_raw_device(timing=Timing(nonce_lifetime=0.1))
    signed = Session(raw, httpkit)
    time.sleep(0.2)
    reply = signed.post(wr.build_get(GENERAL))
    assert reply.status == 401
    assert 'stale="true"' in (reply.header("WWW-Authenticate") or "")
    assert raw.info.control.stats()["auth_failures"] == 0


# --- the 200 ---------------------------------------------------------------------------------------


def test_200_has_amts_headers_in_amts_order_and_is_chunked(session) -> None:
    reply = session.post(wr.build_get(GENERAL))
    assert reply.status_line == "HTTP/1.1 200 OK"
    assert reply.header_names == ["Date", "Server", "X-Frame-Options", "Content-Type", "Transfer-Encoding"]
    assert reply.header("Content-Type") == "application/soap+xml; charset=UTF-8"
    assert reply.header("X-Frame-Options") == "DENY"


def test_200_chunk_sizes_are_four_upper_case_hex_digits(session, httpkit) -> None:
    reply = session.post(wr.build_enumerate(names.resource_uri(names.Cls.CIM_SoftwareIdentity),
                                            wr.EnumerateOptions(optimize=True, max_elements=100)))
    lines = httpkit.chunk_size_lines(reply.framed_body)
    assert len(lines) >= 3  # a large answer is cut into several chunks
    assert all(re.fullmatch(rb"[0-9A-F]{4}", line) for line in lines[:-1])
    assert lines[-1] == b"0" and reply.framed_body.endswith(b"0\r\n\r\n")


def test_fault_reply_is_400_with_connection_close(session) -> None:
    reply = session.post(wr.build_get(names.resource_uri("AMT_SpineNoSuchClass")))
    assert reply.status == 400
    assert reply.header_names == ["Date", "Server", "X-Frame-Options", "Content-Type", "Transfer-Encoding",
                                  "Connection"]
    assert reply.header("Connection") == "close"


def test_get_slash_redirects_to_the_logon_page_like_amt(raw_device, httpkit) -> None:
    reply = raw_device.connection().exchange(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert reply.status == 303 and reply.header("Location") == "/logon.htm"


# --- WS-Man faults ---------------------------------------------------------------------------------


def test_operation_timeout_below_30_seconds_is_a_fault(session) -> None:
    assert fault_of(session.post(wr.build_get(GENERAL, operation_timeout=10))) == (
        "UnsupportedFeature", "OperationTimeout")


def test_max_envelope_size_below_50000_is_an_encoding_limit_fault(session) -> None:
    subcode, _ = fault_of(session.post(wr.build_get(GENERAL, max_envelope_size=1000)))
    assert subcode == "EncodingLimit"


def test_option_set_marked_must_understand_is_a_must_understand_fault(session) -> None:
    option_set = ('<w:OptionSet s:mustUnderstand="true"><w:Option Name="IncludeInheritance">true</w:Option>'
                  "</w:OptionSet>")
    reply = session.post(wr.build_request(names.Action.GET, GENERAL, extra_headers=option_set))
    root = etree.fromstring(reply.body)
    assert [v.text for v in root.iter(f"{{{SOAP_ENV}}}Value")] == ["a:MustUnderstand"]
    assert reply.status == 400


def test_unknown_header_marked_must_understand_is_a_must_understand_fault(session) -> None:
    header = '<x:Secret xmlns:x="urn:vendor" s:mustUnderstand="true">1</x:Secret>'
    reply = session.post(wr.build_request(names.Action.GET, GENERAL, extra_headers=header))
    assert b"a:MustUnderstand" in reply.body


def test_unknown_resource_is_destination_unreachable(session) -> None:
    assert fault_of(session.post(wr.build_get(names.resource_uri("AMT_SpineNoSuchClass"))))[0] == (
        "DestinationUnreachable")


def test_missing_resource_uri_is_destination_unreachable(session) -> None:
    assert fault_of(session.post(wr.build_request(names.Action.GET, None)))[0] == "DestinationUnreachable"


def test_unknown_action_is_action_not_supported(session) -> None:
    reply = session.post(wr.build_request("http://schemas.xmlsoap.org/ws/2004/09/transfer/Teleport", GENERAL))
    assert fault_of(reply)[0] == "ActionNotSupported"


def test_bad_selectors_are_invalid_selectors(session) -> None:
    reply = session.post(wr.build_get(names.resource_uri(names.Cls.CIM_ComputerSystem), {"Name": "Nope"}))
    assert fault_of(reply)[0] == "InvalidSelectors"


def test_several_instances_without_selectors_are_invalid_selectors(session) -> None:
    assert fault_of(session.post(wr.build_get(names.resource_uri(names.Cls.CIM_ComputerSystem))))[0] == (
        "InvalidSelectors")


def test_unknown_enumeration_context_is_invalid_enumeration_context(session) -> None:
    reply = session.post(wr.build_pull(GENERAL, "DEAD0000-0000-0000-0000-000000000000"))
    assert fault_of(reply)[0] == "InvalidEnumerationContext"


def test_an_expired_enumeration_context_is_invalid_enumeration_context(make_raw_device, httpkit) -> None:
    raw = make_raw_device(timing=Timing(enumeration_context_lifetime=0.1))
    signed = Session(raw, httpkit)
    uri = names.resource_uri(names.Cls.CIM_SoftwareIdentity)
    context = etree.fromstring(signed.post(wr.build_enumerate(uri)).body).findtext(
        f".//{{{WSEN}}}EnumerationContext")
    time.sleep(0.2)
    assert fault_of(signed.post(wr.build_pull(uri, context)))[0] == "InvalidEnumerationContext"


def test_a_finished_enumeration_context_cannot_be_pulled_again(session) -> None:
    uri = names.resource_uri(names.Cls.CIM_SoftwareIdentity)
    context = etree.fromstring(session.post(wr.build_enumerate(uri)).body).findtext(
        f".//{{{WSEN}}}EnumerationContext")
    assert session.post(wr.build_pull(uri, context, 100)).status == 200
    assert fault_of(session.post(wr.build_pull(uri, context, 100)))[0] == "InvalidEnumerationContext"


def test_a_released_enumeration_context_is_gone(session) -> None:
    uri = names.resource_uri(names.Cls.CIM_SoftwareIdentity)
    context = etree.fromstring(session.post(wr.build_enumerate(uri)).body).findtext(
        f".//{{{WSEN}}}EnumerationContext")
    assert session.post(wr.build_release(uri, context)).status == 200
    assert fault_of(session.post(wr.build_pull(uri, context)))[0] == "InvalidEnumerationContext"


def test_a_pull_without_resource_uri_is_served_from_its_enumeration_context(session) -> None:
    uri = names.resource_uri(names.Cls.CIM_SoftwareIdentity)
    context = etree.fromstring(session.post(wr.build_enumerate(uri)).body).findtext(
        f".//{{{WSEN}}}EnumerationContext")
    reply = session.post(wr.build_request(names.Action.PULL, None, body_of(wr.build_pull(uri, context, 100))))
    assert reply.status == 200
    root = etree.fromstring(reply.body)
    assert root.findtext(f".//{{{WSMAN}}}ResourceURI") == uri
    assert root.findall(f".//{{{uri}}}VersionString")


def test_a_release_without_resource_uri_releases_its_enumeration_context(session) -> None:
    uri = names.resource_uri(names.Cls.CIM_SoftwareIdentity)
    context = etree.fromstring(session.post(wr.build_enumerate(uri)).body).findtext(
        f".//{{{WSEN}}}EnumerationContext")
    reply = session.post(wr.build_request(names.Action.RELEASE, None, body_of(wr.build_release(uri, context))))
    assert reply.status == 200
    assert fault_of(session.post(wr.build_pull(uri, context)))[0] == "InvalidEnumerationContext"


def test_a_pull_without_resource_uri_on_an_unknown_context_is_invalid_enumeration_context(session) -> None:
    pull = wr.build_pull(names.resource_uri(names.Cls.CIM_SoftwareIdentity), "DEAD0000-0000-0000-0000-000000000000")
    reply = session.post(wr.build_request(names.Action.PULL, None, body_of(pull)))
    assert fault_of(reply)[0] == "InvalidEnumerationContext"


def test_a_put_without_an_object_is_invalid_representation(session) -> None:
    reply = session.post(wr.build_request(names.Action.PUT, GENERAL))
    assert fault_of(reply)[0] == "InvalidRepresentation"


def test_a_non_integer_max_elements_is_a_schema_validation_error(session) -> None:
    body = (f'<n:Pull xmlns:n="{WSEN}"><n:EnumerationContext>X</n:EnumerationContext>'
            "<n:MaxElements>many</n:MaxElements></n:Pull>")
    uri = names.resource_uri(names.Cls.CIM_SoftwareIdentity)
    context_reply = session.post(wr.build_enumerate(uri))
    context = etree.fromstring(context_reply.body).findtext(f".//{{{WSEN}}}EnumerationContext")
    reply = session.post(wr.build_request(names.Action.PULL, uri, body.replace(">X<", f">{context}<")))
    assert fault_of(reply)[0] == "SchemaValidationError"


# --- garbage and hostile input ---------------------------------------------------------------------

GARBAGE = {
    "binary": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(64)),
    "bad request line": b"HELLO\r\n\r\n",
    "bad header": b"POST /wsman HTTP/1.1\r\nNoColonHere\r\n\r\n",
    "bad content length": b"POST /wsman HTTP/1.1\r\nContent-Length: lots\r\n\r\n",
    "bad chunk size": b"POST /wsman HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nZZZZ\r\nabc\r\n0\r\n\r\n",
    "huge body": b"POST /wsman HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n",
    "huge header": b"POST /wsman HTTP/1.1\r\nX: " + b"a" * 20000 + b"\r\n\r\n",
}


@pytest.mark.parametrize("kind", sorted(GARBAGE))
def test_garbage_http_gets_a_4xx_and_the_device_keeps_serving(raw_device, kind: str) -> None:
    bad = raw_device.connection()
    bad.send(GARBAGE[kind])
    reply = bad.receive()
    assert 400 <= reply.status < 500
    assert bad.closed_by_peer()
    assert raw_device.post(wr.build_identify()).status == 200


def test_wrong_method_and_path_are_refused(raw_device) -> None:
    assert raw_device.connection().exchange(b"DELETE /wsman HTTP/1.1\r\n\r\n").status == 405
    assert raw_device.connection().exchange(b"POST /other HTTP/1.1\r\nContent-Length: 0\r\n\r\n").status == 404


HOSTILE_XML = {
    "billion laughs": b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><l>&b;</l>',
    "external entity": b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
    "truncated": wr.build_get(GENERAL)[:150],
    "SOAP 1.1": b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body></s:Body></s:Envelope>',
    "invalid UTF-8": wr.build_get(GENERAL).replace(b"AMT_GeneralSettings", b"AMT_\xff\xfe", 1),
    "deeply nested": b"<a>" * 3000 + b"</a>" * 3000,
}


@pytest.mark.parametrize("kind", sorted(HOSTILE_XML))
def test_hostile_xml_gets_a_soap_fault_and_the_device_keeps_serving(session, kind: str) -> None:
    reply = session.post(HOSTILE_XML[kind])
    assert reply.status == 400
    subcode, detail = fault_of(reply)
    assert subcode in ("SchemaValidationError", "InvalidMessageInformationHeader")
    assert "root:" not in detail
    assert session.post(wr.build_get(GENERAL)).status == 200


def test_garbage_on_one_connection_does_not_disturb_another(raw_device, session) -> None:
    busy = raw_device.connection()
    assert session.post(wr.build_get(GENERAL), busy).status == 200
    junk = raw_device.connection()
    junk.send(b"\x00\xff" * 100)
    assert junk.receive().status == 400
    assert session.post(wr.build_get(GENERAL), busy).status == 200


# --- provisioning ----------------------------------------------------------------------------------


def test_unprovisioned_device_answers_identify_but_challenges_everything_else(make_raw_device, httpkit) -> None:
    raw = make_raw_device(provisioning_state=ProvisioningState.PRE)
    identify = raw.post(wr.build_identify())
    assert identify.status == 200 and b"<b:ProductVersion>AMT " in identify.body
    challenge = raw.challenge()
    signed = httpkit.http_post(wr.build_get(GENERAL), authorization=raw.sign(challenge))
    assert raw.connection().exchange(signed).status == 401


def test_identify_is_answered_without_credentials(raw_device) -> None:
    reply = raw_device.post(wr.build_identify())
    assert reply.status == 200
    assert b"<c:DASHVersion>1.0.0</c:DASHVersion>" in reply.body
    assert reply.header("Transfer-Encoding") == "chunked"
