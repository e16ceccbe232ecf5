"""What a client call puts on the wire, and what the simulator answers, in the specifications' words.

A recording socket sits between the client and a simulated device on loopback and keeps every byte
the client sends. The tests parse those bytes with namespaces, actions, resource URIs, selector names
and code numbers written out here from DSP0226/DSP0227/DSP1027 and the Intel AMT SDK, never taken
from amtkit: if the client and the simulator agreed on a wrong name, these tests would still fail.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from ipaddress import ip_network

import pytest
from lxml import etree

import amtkit
from amtkit import exceptions as exc
from amtkit.defense.model import (
    DefaultAction,
    EthernetFilter,
    FilterDirection,
    FilterProfile,
    IPHeaderFilter,
    IPProtocol,
    Policy,
    PortRange,
)
from amtsim import DeviceConfig

SOAP = "http://www.w3.org/2003/05/soap-envelope"
WSA = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
WSMAN = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
WSEN = "http://schemas.xmlsoap.org/ws/2004/09/enumeration"
ANONYMOUS = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
CIM = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/"
AMT = "http://intel.com/wbem/wscim/1/amt-schema/1/"
PMS = CIM + "CIM_PowerManagementService"
TRANSFER_GET = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get"
TRANSFER_CREATE = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create"
ENUMERATE = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate"
PULL = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Pull"


# -- the recording socket ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SentRequest:
    """One HTTP request as the client wrote it."""

    head: str
    body: bytes

    @property
    def request_line(self) -> str:
        return self.head.split("\r\n", 1)[0]

    def header(self, name: str) -> str | None:
        for line in self.head.split("\r\n")[1:]:
            key, _, value = line.partition(":")
            if key.strip().lower() == name.lower():
                return value.strip()
        return None

    @property
    def envelope(self) -> etree._Element:
        return etree.fromstring(self.body)

    def soap_header(self, namespace: str, name: str) -> str | None:
        return self.envelope.findtext(f"{{{SOAP}}}Header/{{{namespace}}}{name}")

    @property
    def action(self) -> str | None:
        return self.soap_header(WSA, "Action")

    @property
    def resource_uri(self) -> str | None:
        return self.soap_header(WSMAN, "ResourceURI")

    @property
    def selectors(self) -> dict[str, str]:
        found = self.envelope.findall(f"{{{SOAP}}}Header/{{{WSMAN}}}SelectorSet/{{{WSMAN}}}Selector")
        return {s.get("Name") or "": s.text or "" for s in found}

    @property
    def body_element(self) -> etree._Element:
        body = self.envelope.find(f"{{{SOAP}}}Body")
        assert body is not None and len(body), "empty SOAP body"
        return body[0]


def split_requests(data: bytes) -> list[SentRequest]:
    """The HTTP/1.1 requests in a client's byte stream (Content-Length framed, as amtkit writes them)."""
    requests = []
    while data:
        head, _, rest = data.partition(b"\r\n\r\n")
        parsed = SentRequest(head.decode("latin-1"), b"")
        length = int(parsed.header("Content-Length") or 0)
        requests.append(SentRequest(parsed.head, rest[:length]))
        data = rest[length:]
    return requests


class RecordingSocket:
    """A loopback TCP relay to one device that keeps what the client sends, connection by connection."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._streams: list[bytearray] = []
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._open: list[socket.socket] = []
        self._start(self._accept)

    def _start(self, target: object, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        thread.start()
        self._threads.append(thread)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            stream = bytearray()
            with self._lock:
                self._streams.append(stream)
                self._open += [client, upstream]
            self._start(self._pump, client, upstream, stream)
            self._start(self._pump, upstream, client, None)

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket, record: bytearray | None) -> None:
        try:
            while data := source.recv(65536):
                if record is not None:
                    record += data
                sink.sendall(data)
        except OSError:
            pass
        finally:
            try:
                sink.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def requests(self) -> list[SentRequest]:
        with self._lock:
            return [request for stream in self._streams for request in split_requests(bytes(stream))]

    def signed_requests(self) -> list[SentRequest]:
        """The requests that carried credentials (a challenged first try is sent again, signed)."""
        return [r for r in self.requests() if r.header("Authorization")]

    def close(self) -> None:
        with self._lock:
            for sock in (self.listener, *self._open):
                try:
                    sock.shutdown(socket.SHUT_RDWR)  # wakes the threads blocked in accept/recv
                except OSError:
                    pass
                sock.close()
        for thread in self._threads:
            thread.join(timeout=5)


@pytest.fixture
def wire_client(make_device) -> Iterator[tuple[amtkit.Client, RecordingSocket, object]]:  # type: ignore[no-untyped-def]
    """A client whose every byte to a fresh simulated device is recorded."""
    device = make_device()
    recorder = RecordingSocket((device.host, device.port))
    client = amtkit.Client("127.0.0.1", port=recorder.port, username=device.username, password=device.password,
                           timeout=5.0)
    try:
        yield client, recorder, device
    finally:
        client.close()
        recorder.close()


def last(recorder: RecordingSocket, action: str) -> SentRequest:
    sent = [r for r in recorder.signed_requests() if r.action == action]
    assert sent, f"no signed request with action {action}"
    return sent[-1]


# -- HTTP and the WS-Man header -----------------------------------------------------------------------


def test_a_get_is_a_signed_post_to_wsman_with_the_transfer_get_action(wire_client) -> None:  # type: ignore[no-untyped-def]
    client, recorder, device = wire_client
    client.get("AMT_GeneralSettings")
    get = last(recorder, TRANSFER_GET)
    assert get.request_line == "POST /wsman HTTP/1.1"
    assert get.header("Content-Type") == "application/soap+xml;charset=UTF-8"
    assert get.resource_uri == "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_GeneralSettings"
    assert get.soap_header(WSA, "To") is not None
    assert get.envelope.findtext(f"{{{SOAP}}}Header/{{{WSA}}}ReplyTo/{{{WSA}}}Address") == ANONYMOUS


def test_the_digest_answer_uses_qop_auth_a_hex_nonce_count_and_the_request_target(wire_client) -> None:  # type: ignore[no-untyped-def]
    client, recorder, device = wire_client
    client.get("AMT_GeneralSettings")
    client.get("AMT_GeneralSettings")
    first, second = (r.header("Authorization") or "" for r in recorder.signed_requests()[:2])
    for header in (first, second):
        assert header.startswith("Digest ")
        assert f'username="{device.username}"' in header and 'uri="/wsman"' in header
        assert "qop=auth," in header or header.endswith("qop=auth")
    assert "nc=00000001" in first and "nc=00000002" in second


def test_enumerate_then_pull_use_the_ws_enumeration_actions(wire_client) -> None:  # type: ignore[no-untyped-def]
    client, recorder, device = wire_client
    assert len(client.enumerate("CIM_SoftwareIdentity", max_elements=4)) > 4  # more than one page
    enumerate_, pull = last(recorder, ENUMERATE), last(recorder, PULL)
    assert enumerate_.resource_uri == pull.resource_uri == CIM + "CIM_SoftwareIdentity"
    assert enumerate_.body_element.tag == f"{{{WSEN}}}Enumerate"
    assert pull.body_element.tag == f"{{{WSEN}}}Pull"
    assert pull.body_element.findtext(f"{{{WSEN}}}EnumerationContext")


# -- power: DSP1027 numbers on the wire ----------------------------------------------------------------

POWER_SERVICE_SELECTORS = {
    "CreationClassName": "CIM_PowerManagementService", "Name": "Intel(r) AMT Power Management Service",
    "SystemCreationClassName": "CIM_ComputerSystem", "SystemName": "Intel(r) AMT",
}


def power_request(recorder: RecordingSocket) -> SentRequest:
    return last(recorder, PMS + "/RequestPowerStateChange")


def sent_power_state(recorder: RecordingSocket) -> str | None:
    request = power_request(recorder)
    assert request.body_element.tag == f"{{{PMS}}}RequestPowerStateChange_INPUT"
    return request.body_element.findtext(f"{{{PMS}}}PowerState")


# (helper, its arguments, the state the device starts in, the DSP1027 number sent)
OFFERED = [
    ("on", {}, 8, "2"),                         # Power On, from Off - Soft
    ("off", {}, 2, "8"),                        # Power Off - Soft
    ("off", {"graceful": True}, 2, "12"),       # Power Off - Soft Graceful
    ("cycle", {}, 2, "5"),                      # Power Cycle (Off - Soft)
    ("reset", {}, 2, "10"),                     # Master Bus Reset
    ("reset", {"graceful": True}, 2, "14"),     # Master Bus Reset Graceful
]


@pytest.mark.parametrize(("helper", "kwargs", "from_state", "code"), OFFERED,
                         ids=[f"{h}{'-' + '-'.join(k) if k else ''}" for h, k, _, _ in OFFERED])
def test_power_helper_sends_the_dsp1027_code(wire_client, helper: str, kwargs: dict[str, bool],  # type: ignore[no-untyped-def]
                                             from_state: int, code: str) -> None:
    client, recorder, device = wire_client
    device.control.set_power_state(from_state)
    getattr(client.power, helper)(**kwargs)
    assert sent_power_state(recorder) == code


def test_the_power_request_names_the_service_and_the_managed_host(wire_client) -> None:  # type: ignore[no-untyped-def]
    client, recorder, device = wire_client
    client.power.reset()
    request = power_request(recorder)
    assert request.resource_uri == PMS
    assert request.selectors == POWER_SERVICE_SELECTORS
    managed = request.body_element.find(f"{{{PMS}}}ManagedElement")
    assert managed is not None
    assert managed.findtext(f"{{{WSA}}}ReferenceParameters/{{{WSMAN}}}ResourceURI") == CIM + "CIM_ComputerSystem"
    selectors = managed.findall(f"{{{WSA}}}ReferenceParameters/{{{WSMAN}}}SelectorSet/{{{WSMAN}}}Selector")
    assert {s.get("Name"): s.text for s in selectors} == {"CreationClassName": "CIM_ComputerSystem",
                                                          "Name": "ManagedSystem"}


# Real AMT offers 10,8,5,11,4,7,14,12 while on (recorded AvailableRequestedPowerStates): these
# helpers ask for codes it does not offer, so they are refused before anything is sent.
NOT_OFFERED = [("off", {"hard": True}, "off-hard"), ("off", {"graceful": True, "hard": True}, "off-hard-graceful"),
               ("cycle", {"graceful": True}, "cycle-graceful")]


@pytest.mark.parametrize(("helper", "kwargs", "name"), NOT_OFFERED, ids=[n for _, _, n in NOT_OFFERED])
def test_power_helper_for_a_code_amt_does_not_offer_is_refused_unsent(wire_client, helper: str,  # type: ignore[no-untyped-def]
                                                                      kwargs: dict[str, bool], name: str) -> None:
    client, recorder, device = wire_client
    with pytest.raises(exc.PowerActionNotSupported) as refused:
        getattr(client.power, helper)(**kwargs)
    assert f"'{name}'" in str(refused.value)
    assert not [r for r in recorder.requests() if r.action == PMS + "/RequestPowerStateChange"]


@pytest.mark.parametrize(("code", "name"), [(6, "off-hard"), (9, "cycle-hard"), (13, "off-hard-graceful"),
                                            (15, "cycle-graceful"), (16, "cycle-hard-graceful")])
def test_a_raw_code_goes_out_as_that_number(wire_client, code: int, name: str) -> None:  # type: ignore[no-untyped-def]
    client, recorder, device = wire_client
    with pytest.raises(exc.PowerActionNotSupported) as refused:  # the simulator, like AMT, does not offer it
        client.power.request(code, check_offered=False)
    assert sent_power_state(recorder) == str(code)
    assert f"'{name}'" in str(refused.value)


# AvailableRequestedPowerStates by reported PowerState: while on (2), what real AMT was recorded
# offering; off (8 soft, 6 hard) or hibernating (7), only Power On; asleep (4, 3), the simulator's
# model: on, off and reset.
OFFERED_BY_STATE = [(2, [10, 8, 5, 11, 4, 7, 14, 12]), (8, [2]), (6, [2]), (7, [2]), (4, [2, 8, 10]), (3, [2, 8, 10])]


@pytest.mark.parametrize(("state", "offered"), OFFERED_BY_STATE, ids=[str(s) for s, _ in OFFERED_BY_STATE])
def test_the_simulator_offers_these_codes_in_each_state(wire_client, state: int, offered: list[int]) -> None:  # type: ignore[no-untyped-def]
    client, recorder, device = wire_client
    device.control.set_power_state(state)
    status = client.power.status()
    assert (int(status.state), [int(code) for code in status.available]) == (state, offered)


# -- System Defense: the Intel AMT SDK property names and values ---------------------------------------

POLICY = Policy(
    name="wire-check", precedence=7, anti_spoofing=True,
    transmit_default=DefaultAction(drop=True, count=True), receive_default=DefaultAction(event=True),
    filters=(
        IPHeaderFilter(direction=FilterDirection.RECEIVE, profile=FilterProfile.DROP, protocol=IPProtocol.TCP,
                       src=ip_network("192.168.0.10/32"), dst=ip_network("10.0.0.0/8"),
                       src_ports=PortRange(1000, 2000), dst_ports=PortRange(443, 443), event_on_match=True),
        EthernetFilter(direction=FilterDirection.TRANSMIT, profile=FilterProfile.PASS_WITH_STATISTICS,
                       ethertype=0x0806),
    ),
)


def created(recorder: RecordingSocket, class_name: str) -> list[dict[str, list[str]]]:
    """The properties of every Create of ``class_name`` the client sent (text values, repeated ones listed)."""
    found = []
    for request in recorder.signed_requests():
        if request.action == TRANSFER_CREATE and request.resource_uri == AMT + class_name:
            props: dict[str, list[str]] = {}
            for element in request.body_element:
                props.setdefault(etree.QName(element).localname, []).append(element.text or "")
            assert request.body_element.tag == f"{{{AMT + class_name}}}{class_name}"
            found.append(props)
    return found


@pytest.fixture
def applied(make_device) -> Iterator[tuple[RecordingSocket, object]]:  # type: ignore[no-untyped-def]
    device = make_device()
    recorder = RecordingSocket((device.host, device.port))
    with amtkit.Client("127.0.0.1", port=recorder.port, username=device.username, password=device.password,
                       timeout=5.0) as client:
        client.defense.apply(POLICY, force=True)
    yield recorder, device
    recorder.close()


def test_an_ip_filter_is_created_with_the_sdk_properties(applied) -> None:  # type: ignore[no-untyped-def]
    recorder, _ = applied
    (ip_filter,) = created(recorder, "AMT_IPHeadersFilter")
    assert {key: values[0] for key, values in ip_filter.items() if key.startswith(("Hdr", "Filter", "Action"))} == {
        "HdrIPVersion": "4", "HdrProtocolID": "6",
        "HdrSrcAddress": "c0a8000a", "HdrSrcMask": "ffffffff", "HdrDestAddress": "0a000000", "HdrDestMask": "ff000000",
        "HdrSrcPortStart": "1000", "HdrSrcPortEnd": "2000", "HdrDestPortStart": "443", "HdrDestPortEnd": "443",
        "FilterProfile": "4", "FilterDirection": "1", "ActionEventOnMatch": "true",
    }
    assert (ip_filter["CreationClassName"], ip_filter["SystemCreationClassName"], ip_filter["SystemName"]) == (
        ["AMT_IPHeadersFilter"], ["CIM_ComputerSystem"], ["Intel(r) AMT"])
    assert ip_filter["InstanceID"] == ["0"]


def test_an_ethernet_filter_is_created_with_its_ethertype(applied) -> None:  # type: ignore[no-untyped-def]
    recorder, _ = applied
    (ethernet,) = created(recorder, "AMT_Hdr8021Filter")
    assert (ethernet["HdrProtocolID8021"], ethernet["FilterProfile"], ethernet["FilterDirection"],
            ethernet["ActionEventOnMatch"], ethernet["CreationClassName"]) == (
        ["2054"], ["0"], ["0"], ["false"], ["AMT_Hdr8021Filter"])


def test_the_policy_is_created_with_its_defaults_precedence_and_filter_handles(applied) -> None:  # type: ignore[no-untyped-def]
    recorder, _ = applied
    (policy,) = created(recorder, "AMT_SystemDefensePolicy")
    assert {key: values for key, values in policy.items() if key != "FilterCreationHandles"} == {
        "InstanceID": ["0"], "PolicyName": ["amtkit:wire-chec"], "PolicyPrecedence": ["7"],
        "AntiSpoofingSupport": ["1"],
        "TxDefaultCount": ["true"], "TxDefaultDrop": ["true"], "TxDefaultMatchEvent": ["false"],
        "RxDefaultCount": ["false"], "RxDefaultDrop": ["false"], "RxDefaultMatchEvent": ["true"],
    }
    assert len(policy["FilterCreationHandles"]) == 2


def test_the_activation_ties_ethernet_port_0_to_the_policy(applied) -> None:  # type: ignore[no-untyped-def]
    recorder, _ = applied
    request = [r for r in recorder.signed_requests() if r.action == TRANSFER_CREATE
               and r.resource_uri == AMT + "AMT_NetworkPortSystemDefensePolicy"][-1]
    body = request.body_element
    namespace = AMT + "AMT_NetworkPortSystemDefensePolicy"
    antecedent, dependent = body.find(f"{{{namespace}}}Antecedent"), body.find(f"{{{namespace}}}Dependent")
    assert antecedent is not None and dependent is not None

    def reference(element: etree._Element) -> tuple[str | None, dict[str | None, str | None]]:
        parameters = f"{{{WSA}}}ReferenceParameters"
        selectors = element.findall(f"{parameters}/{{{WSMAN}}}SelectorSet/{{{WSMAN}}}Selector")
        return element.findtext(f"{parameters}/{{{WSMAN}}}ResourceURI"), {s.get("Name"): s.text for s in selectors}

    assert reference(antecedent) == (CIM + "CIM_EthernetPort", {
        "CreationClassName": "CIM_EthernetPort", "DeviceID": "Intel(r) AMT Ethernet Port 0",
        "SystemCreationClassName": "CIM_ComputerSystem", "SystemName": "Intel(r) AMT"})
    uri, selectors = reference(dependent)
    assert uri == AMT + "AMT_SystemDefensePolicy" and list(selectors) == ["InstanceID"]


def test_the_simulator_refuses_system_defense_in_client_control_mode_with_pt_status_3(make_device) -> None:  # type: ignore[no-untyped-def]
    from amtkit.codes import ControlMode

    device = make_device(control_mode=ControlMode.CLIENT)
    with amtkit.Client(device.host, port=device.port, username=device.username, password=device.password) as client:
        with pytest.raises(exc.FeatureUnavailableError):
            client.defense.apply(POLICY, force=True)


def test_device_config_defaults_are_admin_control_mode_and_provisioned() -> None:
    config = DeviceConfig()
    assert (int(config.control_mode), int(config.provisioning_state)) == (1, 2)


# -- the simulator, driven by requests other consoles send ---------------------------------------------

APMS = CIM + "CIM_AssociatedPowerManagementService"


def signed_post(raw, body: bytes) -> etree._Element:  # type: ignore[no-untyped-def]
    """POST ``body`` signed with the device's credentials; the reply envelope."""
    reply = raw.post(body, authorization=raw.sign(raw.challenge()))
    assert reply.status == 200, reply.status_line
    return etree.fromstring(reply.body)


def reported_power(raw, wire) -> tuple[str | None, list[str]]:  # type: ignore[no-untyped-def]
    """PowerState and AvailableRequestedPowerStates from a Get as go-wsman-messages sends it."""
    reply = signed_post(raw, wire.read("CIM_AssociatedPowerManagementService.Get.request.xml"))
    assert reply.findtext(f"{{{SOAP}}}Header/{{{WSA}}}Action") == TRANSFER_GET + "Response"
    instance = reply.find(f"{{{SOAP}}}Body/{{{APMS}}}CIM_AssociatedPowerManagementService")
    assert instance is not None
    return (instance.findtext(f"{{{APMS}}}PowerState"),
            [e.text or "" for e in instance.findall(f"{{{APMS}}}AvailableRequestedPowerStates")])


def test_the_simulator_reports_on_and_offers_what_real_amt_offers(make_raw_device, wire) -> None:  # type: ignore[no-untyped-def]
    # Recorded from real AMT while on: PowerState 2, AvailableRequestedPowerStates 10,8,5,11,4,7,14,12.
    assert reported_power(make_raw_device(), wire) == ("2", ["10", "8", "5", "11", "4", "7", "14", "12"])


def test_the_go_wsman_power_off_request_leaves_the_host_in_off_soft(make_raw_device, wire) -> None:  # type: ignore[no-untyped-def]
    raw = make_raw_device()
    reply = signed_post(raw, wire.read("CIM_PowerManagementService.RequestPowerStateChange.request.xml"))
    assert reply.findtext(f"{{{SOAP}}}Header/{{{WSA}}}Action") == PMS + "/RequestPowerStateChangeResponse"
    assert reply.findtext(f"{{{SOAP}}}Body/{{{PMS}}}RequestPowerStateChange_OUTPUT/{{{PMS}}}ReturnValue") == "0"
    assert reported_power(raw, wire) == ("8", ["2"])  # Off - Soft; only Power On is offered


def test_the_amtc_power_on_request_turns_an_off_host_on(make_raw_device, wire) -> None:  # type: ignore[no-untyped-def]
    raw = make_raw_device()
    raw.info.control.set_power_state(8)
    reply = signed_post(raw, wire.read("CIM_PowerManagementService.RequestPowerStateChange.request.2.xml"))
    assert reply.findtext(f"{{{SOAP}}}Body/{{{PMS}}}RequestPowerStateChange_OUTPUT/{{{PMS}}}ReturnValue") == "0"
    assert reported_power(raw, wire)[0] == "2"


@pytest.mark.parametrize(("code", "return_value"), [("6", "2"), ("9", "2"), ("99", "5")])
def test_the_simulator_answers_unoffered_and_unknown_codes_with_cim_return_values(  # type: ignore[no-untyped-def]
        make_raw_device, wire, code: str, return_value: str) -> None:
    # DSP1027 8.1.1: 2 (Unknown or Unspecified Error) for a code not offered now; 5 Invalid Parameter
    # for a number DSP1027 lacks.
    raw = make_raw_device()
    body = wire.read("CIM_PowerManagementService.RequestPowerStateChange.request.xml").replace(
        b"<h:PowerState>8</h:PowerState>", f"<h:PowerState>{code}</h:PowerState>".encode())
    reply = signed_post(raw, body)
    assert reply.findtext(f"{{{SOAP}}}Body/{{{PMS}}}RequestPowerStateChange_OUTPUT/{{{PMS}}}ReturnValue") == (
        return_value)
    assert reported_power(raw, wire)[0] == "2"
