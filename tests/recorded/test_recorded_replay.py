"""amtkit.Client against recorded AMT wire responses replayed by pytest-httpserver.

The recorded answers (vendored in ``tests/data/amt-wire``) are served back in order; what the client sent is
then checked in the server's log: the digest dance of real AMT (401 challenge, signed retry,
nonce reuse with a growing nonce count) and the typed errors for AMT faults and non-AMT servers.
"""

from __future__ import annotations

import hashlib

import pytest
from werkzeug import Request, Response
from werkzeug.serving import WSGIRequestHandler

from amtkit import exceptions as exc
from amtkit.client import Client
from amtkit.http.digest import parse_authorization
from amtkit.wsman import names

AMT_11_401 = "HTTP.401.Unauthorized.amt11.8.50.3425.http"
AMT_15_401 = "HTTP.401.Unauthorized.amt15.0.23.1706.http"
GENERAL_SETTINGS_200 = "AMT_GeneralSettings.Get.response.http"
PASSWORD = "P@ssw0rd"
# Framing and connection headers are the replaying server's business, not the recording's.
_NOT_REPLAYED = {"transfer-encoding", "content-length", "connection", "date"}


@pytest.fixture(autouse=True)
def only_recorded_server_headers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The replaying server must not add a ``Server`` header of its own next to the recorded one."""

    def send_response(handler: WSGIRequestHandler, code: int, message: str | None = None) -> None:
        handler.log_request(code)
        handler.send_response_only(code, message)

    monkeypatch.setattr(WSGIRequestHandler, "send_response", send_response)


def replay(message, *, status: int | str | None = None, body: bytes | None = None) -> Response:  # type: ignore[no-untyped-def]
    headers = [(key, value) for key, value in message.headers if key.lower() not in _NOT_REPLAYED]
    return Response(message.body if body is None else body, status=status or message.status, headers=headers)


def serve(httpserver, *responses: Response) -> None:  # type: ignore[no-untyped-def]
    for response in responses:
        httpserver.expect_ordered_request("/wsman", method="POST").respond_with_response(response)


def client_for(httpserver, password: str | None = PASSWORD, **kwargs: object) -> Client:  # type: ignore[no-untyped-def]
    return Client(httpserver.host, port=httpserver.port, password=password, retries=0, timeout=5.0,
                  **kwargs)  # type: ignore[arg-type]


def sent(httpserver) -> list[Request]:  # type: ignore[no-untyped-def]
    return [request for request, _ in httpserver.log]


def md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def test_digest_handshake_with_recorded_401_then_general_settings(httpserver, wire) -> None:
    serve(httpserver, replay(wire.http(AMT_11_401)), replay(wire.http(GENERAL_SETTINGS_200)))
    with client_for(httpserver) as client:
        settings = client.get(names.Cls.AMT_GeneralSettings)
    httpserver.check_assertions()
    assert settings.class_name == "AMT_GeneralSettings"
    assert settings["DigestRealm"] == "Digest:A4070000000000000000000000000000"
    assert settings["PingResponseEnabled"] is True and settings["IdleWakeTimeout"] == 65535


def test_first_request_carries_the_full_body_without_credentials(httpserver, wire) -> None:
    serve(httpserver, replay(wire.http(AMT_11_401)), replay(wire.http(GENERAL_SETTINGS_200)))
    with client_for(httpserver) as client:
        client.get(names.Cls.AMT_GeneralSettings)
    first, retry = sent(httpserver)
    assert "Authorization" not in first.headers
    assert first.get_data() == retry.get_data()
    assert b"<w:ResourceURI" in first.get_data() and first.get_data().endswith(b"</s:Envelope>")


def test_retry_is_signed_with_qop_auth_and_nonce_count_one(httpserver, wire) -> None:
    challenge = wire.http(AMT_11_401)
    serve(httpserver, replay(challenge), replay(wire.http(GENERAL_SETTINGS_200)))
    with client_for(httpserver) as client:
        client.get(names.Cls.AMT_GeneralSettings)
    retry = sent(httpserver)[1]
    auth = parse_authorization(retry.headers["Authorization"])
    assert (auth.username, auth.uri, auth.qop, auth.nc) == ("admin", "/wsman", "auth", "00000001")
    assert auth.realm == "Digest:A4070000000000000000000000000000"
    assert auth.nonce in (challenge.header("WWW-Authenticate") or "")
    ha1 = md5(f"admin:{auth.realm}:{PASSWORD}")
    assert auth.response == md5(f"{ha1}:{auth.nonce}:{auth.nc}:{auth.cnonce}:auth:{md5('POST:/wsman')}")


def test_second_call_reuses_the_nonce_with_nonce_count_two_in_one_round_trip(httpserver, wire) -> None:
    serve(httpserver, replay(wire.http(AMT_11_401)), replay(wire.http(GENERAL_SETTINGS_200)),
          replay(wire.http(GENERAL_SETTINGS_200)))
    with client_for(httpserver) as client:
        client.get(names.Cls.AMT_GeneralSettings)
        before = client.transport.round_trips
        client.get(names.Cls.AMT_GeneralSettings)
        assert client.transport.round_trips == before + 1
    httpserver.check_assertions()
    first_signed, second_signed = (parse_authorization(r.headers["Authorization"]) for r in sent(httpserver)[1:])
    assert second_signed.nonce == first_signed.nonce
    assert (first_signed.nc, second_signed.nc) == ("00000001", "00000002")
    assert second_signed.cnonce != first_signed.cnonce


def test_nonce_reset_midstream_is_answered_by_resigning_on_the_new_nonce(httpserver, wire) -> None:
    fresh = wire.http(AMT_15_401)
    serve(httpserver, replay(wire.http(AMT_11_401)), replay(wire.http(GENERAL_SETTINGS_200)),
          replay(fresh), replay(wire.http(GENERAL_SETTINGS_200)))
    with client_for(httpserver) as client:
        client.get(names.Cls.AMT_GeneralSettings)
        client.get(names.Cls.AMT_GeneralSettings)
    httpserver.check_assertions()
    refused, resigned = (parse_authorization(r.headers["Authorization"]) for r in sent(httpserver)[2:])
    assert refused.nc == "00000002"
    assert resigned.nc == "00000001"
    assert resigned.nonce == "B9AX94iAAAAAAAAAx6rrSfPHGUrx/3uA"
    assert resigned.realm == "Digest:727734D63A1FC0423736E48DA554E462"


def test_two_refusals_raise_authentication_error_naming_host_and_user(httpserver, wire) -> None:
    serve(httpserver, replay(wire.http(AMT_15_401)), replay(wire.http(AMT_15_401)))
    with client_for(httpserver, password="wrong-password") as client, \
            pytest.raises(exc.AuthenticationError) as caught:
        client.get(names.Cls.AMT_GeneralSettings)
    assert caught.value.host == httpserver.host
    assert caught.value.username == "admin"
    assert "wrong-password" not in str(caught.value) + repr(caught.value)


def test_401_without_credentials_given_is_an_authentication_error(httpserver, wire) -> None:
    serve(httpserver, replay(wire.http(AMT_15_401)))
    with client_for(httpserver, password=None) as client, pytest.raises(exc.AuthenticationError):
        client.get(names.Cls.AMT_GeneralSettings)


def test_internal_error_500_is_a_wsman_fault_with_amt_status_1(httpserver, wire) -> None:
    serve(httpserver, replay(wire.http("Fault.InternalError.response.http")))
    with client_for(httpserver, password=None) as client, pytest.raises(exc.WSManFault) as caught:
        client.get("AMT_TLSCredentialContext")
    fault = caught.value
    assert (fault.code, fault.subcode, fault.amt_status) == ("Receiver", "InternalError", 1)
    assert fault.category == "fault" and fault.resource_uri == (
        "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_TLSCredentialContext")


def test_already_exists_400_is_a_wsman_fault_from_create(httpserver, wire) -> None:
    serve(httpserver, replay(wire.http("Fault.AlreadyExists.response.http")))
    with client_for(httpserver, password=None) as client, pytest.raises(exc.WSManFault) as caught:
        client.create("AMT_IPHeadersFilter", {"InstanceID": "x"})
    assert (caught.value.code, caught.value.subcode) == ("Sender", "AlreadyExists")
    assert caught.value.reason == "The sender attempted to create a resource which already exists."
    assert type(caught.value) is exc.WSManFault


def test_destination_unreachable_is_its_own_fault_class(httpserver, wire) -> None:
    amt_fault_headers = wire.http("Fault.AlreadyExists.response.http")
    body = wire.envelope("Fault.DestinationUnreachable.response.chunked")
    serve(httpserver, replay(amt_fault_headers, body=body))
    with client_for(httpserver, password=None) as client, \
            pytest.raises(exc.DestinationUnreachableFault) as caught:
        client.get("CIM_Processor")
    assert caught.value.subcode == "DestinationUnreachable"
    assert caught.value.category == "not-available"


def test_edited_400_ok_capture_surfaces_the_methods_return_value(httpserver, wire) -> None:
    edited = wire.http("AMT_SetupAndConfigurationService.Unprovision.response.2.http")
    serve(httpserver, replay(edited, status="400 OK"))
    with client_for(httpserver, password=None) as client, pytest.raises(exc.AMTReturnError) as caught:
        client.invoke(names.Cls.AMT_SetupAndConfigurationService, "Unprovision", {"ProvisioningMode": 1})
    assert caught.value.return_value == 1


def test_identify_is_sent_without_credentials_and_reads_the_version(httpserver, wire) -> None:
    amt_headers = wire.http(GENERAL_SETTINGS_200)
    serve(httpserver, replay(amt_headers, body=wire.read("Identify.response.xml")))
    with client_for(httpserver) as client:
        result = client.identify()
    assert result.amt_version == "11.8" and result.product_vendor == "Intel(r)"
    assert "Authorization" not in sent(httpserver)[0].headers
    assert b"Identify" in sent(httpserver)[0].get_data()


def test_replayed_answers_carry_only_the_recorded_server_header(httpserver, wire) -> None:
    serve(httpserver, replay(wire.http(AMT_15_401)))
    with client_for(httpserver, password=None) as client:
        reply = client.transport.post(b"<x></x>", idempotent=True, authenticate=False)
    assert reply.headers["Server"] == "Intel(R) Active Management Technology 15.0.23.1706"


def test_amt_html_error_page_is_a_remote_protocol_error(httpserver, wire) -> None:
    serve(httpserver, replay(wire.http("HTTP.400.BadRequest.html.amt15.0.23.1706.http")))
    with client_for(httpserver, password=None) as client, pytest.raises(exc.RemoteProtocolError):
        client.get(names.Cls.AMT_GeneralSettings)


def test_hostile_xml_from_amt_is_a_remote_protocol_error(httpserver, wire) -> None:
    hostile = (b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
               b'<a:Envelope xmlns:a="http://www.w3.org/2003/05/soap-envelope"><a:Body>&x;</a:Body></a:Envelope>')
    serve(httpserver, replay(wire.http(GENERAL_SETTINGS_200), body=hostile))
    with client_for(httpserver, password=None) as client, pytest.raises(exc.RemoteProtocolError) as caught:
        client.get(names.Cls.AMT_GeneralSettings)
    assert "root:" not in str(caught.value)


NOT_AMT = {
    "web page": Response(b"<html><body>It works!</body></html>", status=200,
                         headers=[("Server", "Apache/2.4.57"), ("Content-Type", "text/html")]),
    "not found": Response(b"Not Found", status=404, headers=[("Server", "nginx")]),
    "json api": Response(b'{"error": "no"}', status=500, headers=[("Content-Type", "application/json")]),
    "basic auth 401": Response(b"<html>Authorization Required</html>", status=401,
                               headers=[("WWW-Authenticate", 'Basic realm="router"'), ("Server", "lighttpd")]),
    "401 without challenge": Response(b"denied", status=401, headers=[("Server", "lighttpd")]),
    "digest auth-int only": Response(b"", status=401, headers=[
        ("WWW-Authenticate", 'Digest realm="r", nonce="abc", qop="auth-int"')]),
}


@pytest.mark.parametrize("server", sorted(NOT_AMT))
def test_a_server_that_is_not_amt_raises_not_detected(httpserver, server: str) -> None:
    serve(httpserver, NOT_AMT[server])
    with client_for(httpserver) as client, pytest.raises(exc.NotDetectedError) as caught:
        client.get(names.Cls.AMT_GeneralSettings)
    assert caught.value.category == "not-detected"


def test_identify_against_a_web_server_raises_not_detected(httpserver) -> None:
    serve(httpserver, NOT_AMT["web page"])
    with client_for(httpserver) as client, pytest.raises(exc.NotDetectedError):
        client.identify()


def test_identify_answered_401_without_credentials_is_an_authentication_error(httpserver) -> None:
    # Authored here (no corpus needed): a device configured to want credentials even for Identify.
    challenge = 'Digest realm="Digest:00000000000000000000000000000000", nonce="abc",stale="false",qop="auth"'
    serve(httpserver, Response(b"", status=401, headers={"WWW-Authenticate": challenge,
                                                         "Server": "Intel(R) Active Management Technology 16.1.25"}))
    with pytest.raises(exc.AuthenticationError, match="even for Identify"):
        client_for(httpserver, password=None).identify()


@pytest.mark.parametrize(("return_value", "error"), [
    (4099, exc.PowerChangeInProgress),    # Busy (CIM method return values)
    (6, exc.PowerChangeInProgress),       # In Use
    (1, exc.PowerActionNotSupported),     # Not Supported
    (4097, exc.PowerActionNotSupported),  # Invalid State Transition
    (4, exc.AMTReturnError),              # Failed
])
def test_power_change_return_values_are_read_by_their_cim_numbers(httpserver, wire, return_value: int,
                                                                   error: type[Exception]) -> None:
    recorded = wire.read("CIM_PowerManagementService.RequestPowerStateChange.response.xml")
    assert recorded.count(b"<g:ReturnValue>0</g:ReturnValue>") == 1
    body = recorded.replace(b"<g:ReturnValue>0</g:ReturnValue>", b"<g:ReturnValue>%d</g:ReturnValue>" % return_value)
    serve(httpserver, replay(wire.http(GENERAL_SETTINGS_200), body=body))
    with client_for(httpserver, password=None) as client, pytest.raises(error):
        client.power.request(10, check_offered=False)
