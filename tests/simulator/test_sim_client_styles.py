"""The simulator accepts every client style seen against real AMT, byte by byte over raw sockets.

Digest variations (qop quoted or not, ``algorithm=MD5`` or not, spaces or not, full body before the
challenge, old nonces, chunked bodies), connection habits (one request per connection or many on
one), and envelope styles: go-wsman-messages (default SOAP namespace, integer MessageID, no
mustUnderstand), amtc (``s:``/``wsa:``/``wsman:`` prefixes, pretty-printed, absolute To, full
selector sets, uuid MessageID) and MeshCommander (``<Body />``, SelectorSet), plus unknown
headers and mustUnderstand without a prefix.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from lxml import etree

from amtkit.wsman import names

GENERAL = names.resource_uri(names.Cls.AMT_GeneralSettings)
POWER_SERVICE = names.resource_uri(names.Cls.CIM_PowerManagementService)
GET = names.Action.GET


def selector_xml(prefix: str, selectors: dict[str, str] | None) -> str:
    if not selectors:
        return ""
    inner = "".join(f'<{prefix}:Selector Name="{k}">{v}</{prefix}:Selector>' for k, v in selectors.items())
    return f"<{prefix}:SelectorSet>{inner}</{prefix}:SelectorSet>"


def gowsman_envelope(action: str, uri: str, body: str = "", *, message_id: str = "0", to: str = "/wsman",
                     selectors: dict[str, str] | None = None, extra: str = "") -> bytes:
    """go-wsman-messages: default SOAP namespace, ``a:``/``w:``, no mustUnderstand, integer MessageID."""
    return (
        '<?xml version="1.0" encoding="utf-8"?><Envelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xmlns:a="{names.WSA}" xmlns:w="{names.WSMAN}" xmlns="{names.SOAP_ENV}"><Header>'
        f"<a:Action>{action}</a:Action><a:To>{to}</a:To><w:ResourceURI>{uri}</w:ResourceURI>"
        f"<a:MessageID>{message_id}</a:MessageID><a:ReplyTo><a:Address>{names.ANONYMOUS}</a:Address></a:ReplyTo>"
        f"<w:OperationTimeout>PT60S</w:OperationTimeout>{selector_xml('w', selectors)}{extra}</Header>"
        f"<Body>{body}</Body></Envelope>"
    ).encode()


def amtc_envelope(action: str, uri: str, body: str = "", *, message_id: str = "uuid:9a1f-amtc",
                  to: str = "http://192.168.0.100:16992/wsman", selectors: dict[str, str] | None = None,
                  extra: str = "") -> bytes:
    """amtc: ``s:``/``wsa:``/``wsman:``, ``s:mustUnderstand`` everywhere, pretty-printed, absolute To."""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<s:Envelope xmlns:s="{names.SOAP_ENV}" xmlns:wsa="{names.WSA}" '
        f'xmlns:wsman="{names.WSMAN}">\n<s:Header>\n'
        f'  <wsa:Action s:mustUnderstand="true">{action}</wsa:Action>\n'
        f'  <wsa:To s:mustUnderstand="true">{to}</wsa:To>\n'
        f'  <wsman:ResourceURI s:mustUnderstand="true">{uri}</wsman:ResourceURI>\n'
        f'  <wsa:MessageID s:mustUnderstand="true">{message_id}</wsa:MessageID>\n'
        f"  <wsa:ReplyTo><wsa:Address>{names.ANONYMOUS}</wsa:Address></wsa:ReplyTo>\n"
        f"  {selector_xml('wsman', selectors)}\n{extra}</s:Header>\n<s:Body>\n{body}\n</s:Body>\n</s:Envelope>\n"
    ).encode()


def meshcommander_envelope(action: str, uri: str, body: str = "", *, message_id: str = "1", to: str = "/wsman",
                           selectors: dict[str, str] | None = None, extra: str = "") -> bytes:
    """MeshCommander: default namespace, SelectorSet, and a self-closed ``<Body />`` when empty."""
    return (
        f'<?xml version="1.0" encoding="utf-8"?><Envelope xmlns="{names.SOAP_ENV}" xmlns:a="{names.WSA}" '
        f'xmlns:w="{names.WSMAN}"><Header><a:Action>{action}</a:Action><a:To>{to}</a:To>'
        f"<w:ResourceURI>{uri}</w:ResourceURI><a:MessageID>{message_id}</a:MessageID>"
        f"<a:ReplyTo><a:Address>{names.ANONYMOUS}</a:Address></a:ReplyTo><w:OperationTimeout>PT60.000S"
        f"</w:OperationTimeout>{selector_xml('w', selectors)}{extra}</Header>"
        + (f"<Body>{body}</Body>" if body else "<Body />") + "</Envelope>"
    ).encode()


STYLES: dict[str, Callable[..., bytes]] = {
    "go-wsman-messages": gowsman_envelope, "amtc": amtc_envelope, "MeshCommander": meshcommander_envelope,
}
ENUMERATE_BODY = f'<Enumerate xmlns="{names.WSEN}" />'


class Signed:
    """One digest session of a raw client: a challenge, then requests signed with nc 1, 2, ..."""

    def __init__(self, raw, httpkit, **style: object) -> None:  # type: ignore[no-untyped-def]
        self.raw, self.httpkit, self.style = raw, httpkit, style
        self.challenge = raw.challenge()
        self.nc = 0

    def request(self, body: bytes, *, nc: int | None = None, **kwargs: object) -> bytes:
        self.nc = self.nc + 1 if nc is None else nc
        authorization = self.raw.sign(self.challenge, nc=self.nc, **self.style)
        return self.httpkit.http_post(body, authorization=authorization, **kwargs)

    def post(self, body: bytes, connection=None, **kwargs: object):  # type: ignore[no-untyped-def]
        return (connection or self.raw.connection()).exchange(self.request(body, **kwargs))


@pytest.fixture
def signed(raw_device, httpkit) -> Callable[..., Signed]:  # type: ignore[no-untyped-def]
    return lambda **style: Signed(raw_device, httpkit, **style)


def payload(reply) -> etree._Element:  # type: ignore[no-untyped-def]
    body = etree.fromstring(reply.body).find(f"{{{names.SOAP_ENV}}}Body")
    assert body is not None and len(body), reply.body[:300]
    return body[0]


def relates_to(reply) -> str:  # type: ignore[no-untyped-def]
    element = etree.fromstring(reply.body).find(f".//{{{names.WSA}}}RelatesTo")
    assert element is not None
    return element.text or ""


def is_general_settings(reply) -> bool:  # type: ignore[no-untyped-def]
    return reply.status == 200 and payload(reply).tag == f"{{{GENERAL}}}AMT_GeneralSettings"


# --- digest styles -------------------------------------------------------------------------------


@pytest.mark.parametrize(("qop_quoted", "algorithm", "spaces"), list(itertools.product([False, True], repeat=3)))
def test_digest_in_every_header_style_is_accepted(signed, qop_quoted: bool, algorithm: bool, spaces: bool) -> None:
    session = signed(qop_quoted=qop_quoted, algorithm=algorithm, spaces=spaces)
    assert is_general_settings(session.post(gowsman_envelope(GET, GENERAL)))


def test_the_first_unauthenticated_request_may_carry_the_full_body(raw_device) -> None:
    reply = raw_device.post(gowsman_envelope(GET, GENERAL))
    assert reply.status == 401
    assert raw_device.info.control.stats()["wsman_requests"] == 0


def test_one_connection_per_request_works(signed, raw_device) -> None:
    session = signed()
    for _ in range(3):
        assert is_general_settings(session.post(gowsman_envelope(GET, GENERAL)))
    assert raw_device.info.control.stats()["connections"] == 4  # the challenge + 3


def test_many_requests_on_one_kept_alive_connection_work(signed, raw_device) -> None:
    session = signed()
    connection = raw_device.connection()
    for index in range(5):
        reply = session.post(gowsman_envelope(GET, GENERAL, message_id=str(index)), connection)
        assert is_general_settings(reply) and relates_to(reply) == str(index)
    assert raw_device.info.control.stats()["connections"] == 2


def test_connection_close_from_the_client_is_honoured(signed, raw_device) -> None:
    session = signed()
    connection = raw_device.connection()
    reply = session.post(gowsman_envelope(GET, GENERAL), connection,
                         headers=(("Host", "127.0.0.1"), ("Connection", "close")))
    assert is_general_settings(reply)
    assert connection.closed_by_peer()


def test_pipelined_requests_are_answered_in_order(signed, raw_device) -> None:
    session = signed()
    connection = raw_device.connection()
    connection.send(b"".join(session.request(gowsman_envelope(GET, GENERAL, message_id=str(i))) for i in range(3)))
    assert [relates_to(connection.receive()) for _ in range(3)] == ["0", "1", "2"]


def test_requests_without_content_type_or_user_agent_are_served(signed) -> None:
    session = signed()
    reply = session.post(gowsman_envelope(GET, GENERAL), headers=(("Host", "127.0.0.1"),))
    assert is_general_settings(reply)


def test_a_chunked_request_body_is_read(signed) -> None:
    assert is_general_settings(signed().post(amtc_envelope(GET, GENERAL), chunked=True))


def test_nonce_counts_may_arrive_out_of_order(signed) -> None:
    session = signed()
    assert is_general_settings(session.post(gowsman_envelope(GET, GENERAL), nc=3))
    assert is_general_settings(session.post(gowsman_envelope(GET, GENERAL), nc=2))


def test_a_replayed_nonce_count_is_refused(signed) -> None:
    session = signed()
    assert is_general_settings(session.post(gowsman_envelope(GET, GENERAL), nc=1))
    assert session.post(gowsman_envelope(GET, GENERAL), nc=1).status == 401


def test_a_client_retrying_with_its_old_nonce_after_a_401_is_accepted(signed, raw_device) -> None:
    session = signed()
    assert is_general_settings(session.post(gowsman_envelope(GET, GENERAL)))
    assert raw_device.post(gowsman_envelope(GET, GENERAL)).status == 401  # a fresh challenge elsewhere
    assert is_general_settings(session.post(gowsman_envelope(GET, GENERAL)))  # still the old nonce


def test_a_wrong_realm_is_challenged_again(raw_device, httpkit) -> None:
    challenge = {**raw_device.challenge(), "realm": "Digest:00000000000000000000000000000000"}
    reply = raw_device.connection().exchange(
        httpkit.http_post(gowsman_envelope(GET, GENERAL), authorization=raw_device.sign(challenge)))
    assert reply.status == 401


def test_a_wrong_password_is_challenged_again_and_counted(raw_device, httpkit) -> None:
    authorization = raw_device.sign(raw_device.challenge(), password="wrong")
    reply = raw_device.connection().exchange(httpkit.http_post(gowsman_envelope(GET, GENERAL),
                                                               authorization=authorization))
    assert reply.status == 401
    assert raw_device.info.control.stats()["auth_failures"] == 1


def test_a_nonce_the_device_never_issued_is_challenged_again(raw_device, httpkit) -> None:
    challenge = {**raw_device.challenge(), "nonce": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}
    reply = raw_device.connection().exchange(httpkit.http_post(gowsman_envelope(GET, GENERAL),
                                                               authorization=raw_device.sign(challenge)))
    assert reply.status == 401


# --- envelope styles -----------------------------------------------------------------------------


@pytest.mark.parametrize("style", sorted(STYLES))
def test_get_in_each_client_style_is_served(signed, style: str) -> None:
    assert is_general_settings(signed().post(STYLES[style](GET, GENERAL)))


@pytest.mark.parametrize("style", sorted(STYLES))
def test_enumerate_then_pull_in_each_client_style(signed, style: str) -> None:
    session = signed()
    uri = names.resource_uri(names.Cls.CIM_SoftwareIdentity)
    context = payload(session.post(STYLES[style](names.Action.ENUMERATE, uri, ENUMERATE_BODY))).findtext(
        f"{{{names.WSEN}}}EnumerationContext")
    assert context
    pull = (f'<Pull xmlns="{names.WSEN}"><EnumerationContext>{context}</EnumerationContext>'
            "<MaxElements>250</MaxElements></Pull>")
    response = payload(session.post(STYLES[style](names.Action.PULL, uri, pull)))
    assert len(response.find(f"{{{names.WSEN}}}Items")) == 11
    assert response.find(f"{{{names.WSEN}}}EndOfSequence") is not None


def test_amtc_style_power_change_with_full_selectors_and_pretty_printing(signed, raw_device) -> None:
    body = (f'<n1:RequestPowerStateChange_INPUT xmlns:n1="{POWER_SERVICE}">\n  <n1:PowerState>8</n1:PowerState>\n'
            f"  <n1:ManagedElement>\n    <wsa:Address>{names.ANONYMOUS}</wsa:Address>\n"
            f"    <wsa:ReferenceParameters>\n      <wsman:ResourceURI>{names.resource_uri('CIM_ComputerSystem')}"
            f"</wsman:ResourceURI>\n      {selector_xml('wsman', names.MANAGED_SYSTEM_SELECTORS)}\n"
            "    </wsa:ReferenceParameters>\n  </n1:ManagedElement>\n</n1:RequestPowerStateChange_INPUT>")
    reply = signed().post(amtc_envelope(f"{POWER_SERVICE}/RequestPowerStateChange", POWER_SERVICE, body,
                                        selectors=dict(names.POWER_SERVICE_SELECTORS)))
    assert reply.status == 200
    assert payload(reply).findtext(f"{{{POWER_SERVICE}}}ReturnValue") == "0"
    assert [int(a) for a in raw_device.info.control.power_history()] == [8]


@pytest.mark.parametrize("to", ["/wsman", "http://192.168.0.100:16992/wsman", "https://amt.example:16993/wsman",
                                "anything at all", names.ANONYMOUS])
def test_any_to_address_is_accepted(signed, to: str) -> None:
    assert is_general_settings(signed().post(gowsman_envelope(GET, GENERAL, to=to)))


@pytest.mark.parametrize("message_id", ["0", "31", "4294967295", "uuid:fc6f2bc3-498e-45f6-84e0-5f7b2665903e"])
def test_any_message_id_is_echoed_in_relates_to(signed, message_id: str) -> None:
    reply = signed().post(gowsman_envelope(GET, GENERAL, message_id=message_id))
    assert relates_to(reply) == message_id


def test_must_understand_without_a_prefix_is_accepted(signed) -> None:
    body = gowsman_envelope(GET, GENERAL).replace(b"<a:Action>", b'<a:Action mustUnderstand="true">')
    assert is_general_settings(signed().post(body))


def test_unknown_optional_headers_and_a_large_max_envelope_size_are_accepted(signed) -> None:
    extra = ('<w:Locale xml:lang="en-US" mustUnderstand="false"></w:Locale>'
             "<w:MaxEnvelopeSize>153600</w:MaxEnvelopeSize><x:Trace xmlns:x=\"urn:vendor\">42</x:Trace>")
    assert is_general_settings(signed().post(gowsman_envelope(GET, GENERAL, extra=extra)))


@pytest.mark.parametrize("selectors", [None, {"InstanceID": names.GENERAL_SETTINGS_INSTANCE_ID}])
def test_singletons_are_addressed_with_or_without_selectors(signed, selectors: dict[str, str] | None) -> None:
    assert is_general_settings(signed().post(meshcommander_envelope(GET, GENERAL, selectors=selectors)))


def test_power_service_get_with_its_four_key_selectors(signed) -> None:
    reply = signed().post(amtc_envelope(GET, POWER_SERVICE, selectors=dict(names.POWER_SERVICE_SELECTORS)))
    assert payload(reply).tag == f"{{{POWER_SERVICE}}}CIM_PowerManagementService"


def test_recorded_client_requests_are_served(signed, wire) -> None:
    """Requests exactly as go-wsman-messages and amtc send them (corpus), for classes the core serves."""
    session = signed()
    for name in ("AMT_GeneralSettings.Get.request.xml", "AMT_SetupAndConfigurationService.Get.request.xml",
                 "CIM_AssociatedPowerManagementService.Get.request.xml",
                 "CIM_AssociatedPowerManagementService.Enumerate.request.xml",
                 "CIM_AssociatedPowerManagementService.Enumerate.request.2.xml",
                 "CIM_SoftwareIdentity.Enumerate.request.xml",
                 "CIM_PowerManagementService.RequestPowerStateChange.request.2.xml"):
        reply = session.post(wire.read(name))
        assert reply.status == 200, (name, reply.body[:400])
        assert "Fault" not in payload(reply).tag, name
