"""Responses are written in AMT's exact style, checked against real AMT captures.

Two kinds of evidence: every verbatim AMT response in the recorded corpus is reproduced byte
for byte by the writer after being parsed; and what the simulator answers (driven here without
sockets: request bytes in, reply bytes out) has AMT's shape - fixed ``a``..``f`` prefixes, no
whitespace, ``<x></x>`` never ``<x/>``, AMT MessageIDs, RelatesTo echoed verbatim, the reversed
fault prefix order, and AMT's placement of EnumerationContext and EndOfSequence.
"""

from __future__ import annotations

import re

import pytest
from lxml import etree

from amtkit.codes import PowerAction
from amtkit.wsman import names
from amtkit.wsman import requests as wr
from amtkit.wsman import responses as rs
from amtkit.wsman.faults import KIND_BY_SUBCODE
from amtkit.wsman.values import CimInstance
from amtsim import DeviceConfig
from amtsim.device import SimulatedDevice
from amtsim.dispatch import Reply, dispatch_wsman
from amtsim.handlers import ClassHandler, register

# The namespaces as real AMT declares them (recorded answers; spelled out, not taken from amtkit).
SOAP_ENV = "http://www.w3.org/2003/05/soap-envelope"
WSA = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
WSMAN = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
TRUST = "http://schemas.xmlsoap.org/ws/2005/02/trust"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
CIMBINDING = "http://schemas.dmtf.org/wbem/wsman/1/cimbinding.xsd"
WSEVT = "http://schemas.xmlsoap.org/ws/2004/08/eventing"
WSXF = "http://schemas.xmlsoap.org/ws/2004/09/transfer"
WSEN = "http://schemas.xmlsoap.org/ws/2004/09/enumeration"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
CIM_COMMON = "http://schemas.dmtf.org/wbem/wscim/1/common"
FIXED_PREFIXES = [("a", SOAP_ENV), ("b", WSA), ("c", WSMAN), ("d", TRUST), ("e", WSSE), ("f", CIMBINDING)]
FAULT_PREFIXES = [("g", CIMBINDING), ("f", WSEVT), ("e", WSMAN), ("d", WSXF), ("c", WSEN), ("b", WSA),
                  ("a", SOAP_ENV), ("h", TRUST), ("i", WSSE), ("xsi", XSI)]
AMT_MESSAGE_ID = re.compile(r"uuid:00000000-8086-8086-8086-[0-9A-F]{12}")


def declarations(data: bytes) -> list[tuple[str, str]]:
    """The ``xmlns:p="uri"`` pairs of the Envelope start tag, in written order."""
    start = data[data.index(b"<a:Envelope"):data.index(b">", data.index(b"<a:Envelope"))]
    return [(p.decode(), u.decode()) for p, u in re.findall(rb'xmlns:(\w+)="([^"]*)"', start)]


def skeleton(data: bytes) -> bytes:
    """The document with all text removed: tags, attributes and order only."""
    return re.sub(rb">[^<]*<", b"><", data)


def header(data: bytes, local: str) -> str:
    element = etree.fromstring(data).find(f".//{{{WSA}}}{local}")
    assert element is not None, local
    return element.text or ""


# --- the writer against verbatim captures -----------------------------------------------------------


def _rewrite(response: rs.Response, operation: str) -> bytes:
    """Write ``response`` again from its parsed, typed content."""
    if response.fault is not None:
        kind = KIND_BY_SUBCODE[response.fault.subcode]
        return rs.fault_response(response.relates_to, response.message_id, kind, response.fault.detail)
    uri = response.resource_uri or ""
    if operation in ("Get", "Put"):
        action = names.Action.PUT if operation == "Put" else names.Action.GET
        return rs.get_response(response.relates_to, response.message_id, response.instance(), action=action)
    if operation == "Delete":
        return rs.delete_response(response.relates_to, response.message_id, uri)
    if operation == "Enumerate":
        return rs.enumerate_response(response.relates_to, response.message_id, uri, response.enumeration().context)
    if operation == "Pull":
        page = response.enumeration()
        return rs.pull_response(response.relates_to, response.message_id, uri, page.items, page.context)
    output = response.method_output()
    method = response.action.rsplit("/", 1)[1].removesuffix("Response")
    return rs.method_response(response.relates_to, response.message_id, names.class_name_of(uri), method,
                              output.return_value, output.outputs)


def test_writer_reproduces_every_real_amt_capture_byte_for_byte(wire, real_capture_envelope: str) -> None:
    original = wire.read(real_capture_envelope)
    operation = real_capture_envelope.split(".")[1]
    assert _rewrite(rs.parse_response(original), operation) == original


# --- the simulator's answers ------------------------------------------------------------------------


@pytest.fixture
def device() -> SimulatedDevice:
    # Hostname and domain empty, as on the AMT 11.8 machine of the GeneralSettings capture.
    return SimulatedDevice(DeviceConfig(amt_version="11.8.50.3425", hostname="", domain=""))


def get(device: SimulatedDevice, class_name: str, message_id: str = "1", **selectors: str) -> Reply:
    return dispatch_wsman(device, wr.build_get(names.resource_uri(class_name), selectors or None,
                                               message_id=message_id))


def test_general_settings_get_has_the_structure_of_the_real_amt_answer(wire, device: SimulatedDevice) -> None:
    captured = wire.read("AMT_GeneralSettings.Get.response.xml")
    ours = get(device, names.Cls.AMT_GeneralSettings).body
    assert skeleton(ours) == skeleton(captured)


def test_general_settings_get_declares_fixed_prefixes_then_the_class_then_xsi(device: SimulatedDevice) -> None:
    assert declarations(get(device, names.Cls.AMT_GeneralSettings).body) == [
        *FIXED_PREFIXES, ("g", "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_GeneralSettings"), ("xsi", XSI)]


def test_class_with_datetime_properties_declares_the_common_namespace_as_amt_does(
        device: SimulatedDevice) -> None:
    # AMT declares wscim/common for CIM_EnabledLogicalElement descendants even with no datetime sent.
    body = get(device, names.Cls.AMT_SetupAndConfigurationService).body
    assert declarations(body)[6:] == [
        ("g", "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_SetupAndConfigurationService"),
        ("h", CIM_COMMON), ("xsi", XSI)]


SAMPLE_REQUESTS = {
    "get": lambda: wr.build_get(names.resource_uri(names.Cls.AMT_GeneralSettings), message_id="0"),
    "get-several": lambda: wr.build_get(names.resource_uri(names.Cls.CIM_ComputerSystem),
                                        names.MANAGED_SYSTEM_SELECTORS, message_id="31"),
    "enumerate": lambda: wr.build_enumerate(names.resource_uri(names.Cls.CIM_SoftwareIdentity), message_id="7"),
    "enumerate-optimized": lambda: wr.build_enumerate(
        names.resource_uri(names.Cls.CIM_SoftwareIdentity), wr.EnumerateOptions(optimize=True, max_elements=3)),
    "enumerate-epr": lambda: wr.build_enumerate(
        names.resource_uri(names.Cls.CIM_ComputerSystem),
        wr.EnumerateOptions(optimize=True, max_elements=5, mode=names.ENUM_MODE_EPR)),
    "method": lambda: wr.build_invoke(names.Cls.CIM_PowerManagementService, "RequestPowerStateChange",
                                      {"PowerState": int(PowerAction.NMI)}, names.POWER_SERVICE_SELECTORS),
    "fault-unknown-class": lambda: wr.build_get(names.resource_uri("AMT_NoSuchClass")),
    "fault-selectors": lambda: wr.build_get(names.resource_uri(names.Cls.AMT_GeneralSettings),
                                            {"InstanceID": "nope"}),
}


@pytest.mark.parametrize("kind", sorted(SAMPLE_REQUESTS))
def test_simulator_output_has_no_whitespace_and_never_self_closes(device: SimulatedDevice, kind: str) -> None:
    body = dispatch_wsman(device, SAMPLE_REQUESTS[kind]()).body
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?><a:Envelope ')
    assert re.search(rb">\s+<", body) is None
    assert b"\n" not in body
    assert b"/>" not in body


@pytest.mark.parametrize("kind", sorted(SAMPLE_REQUESTS))
def test_simulator_message_ids_have_amts_shape(device: SimulatedDevice, kind: str) -> None:
    assert AMT_MESSAGE_ID.fullmatch(header(dispatch_wsman(device, SAMPLE_REQUESTS[kind]()).body, "MessageID"))


def test_simulator_message_ids_count_up_per_device(device: SimulatedDevice) -> None:
    first, second = (int(header(get(device, names.Cls.AMT_GeneralSettings).body, "MessageID")[-12:], 16)
                     for _ in range(2))
    assert second == first + 1


@pytest.mark.parametrize("message_id", ["0", "31", "uuid:fc6f2bc3-498e-45f6-84e0-5f7b2665903e", "a&b<c>"])
def test_relates_to_echoes_the_request_message_id_verbatim(device: SimulatedDevice, message_id: str) -> None:
    assert header(get(device, names.Cls.AMT_GeneralSettings, message_id).body, "RelatesTo") == message_id


def test_relates_to_of_a_fault_echoes_the_request_message_id(device: SimulatedDevice) -> None:
    reply = get(device, "AMT_NoSuchClass", "17")
    assert header(reply.body, "RelatesTo") == "17"


def test_fault_envelope_uses_amts_reversed_prefix_order(device: SimulatedDevice) -> None:
    assert declarations(get(device, "AMT_NoSuchClass").body) == FAULT_PREFIXES


class _NoInstances(ClassHandler):
    """A served class with nothing in it (like a feature absent on this SKU)."""

    class_name = "AMT_SpineStyleEmptyClass"


register(_NoInstances())


def test_get_of_a_class_without_instances_matches_the_real_fault_except_ids(wire, device: SimulatedDevice) -> None:
    captured = wire.read("Fault.DestinationUnreachable.response.xml")
    ours = get(device, _NoInstances.class_name, message_id=header(captured, "RelatesTo")).body
    ours = ours.replace(header(ours, "MessageID").encode(), header(captured, "MessageID").encode())
    assert ours == captured


def test_fault_replies_are_400_and_close_the_connection(device: SimulatedDevice) -> None:
    reply = get(device, "AMT_NoSuchClass")
    assert (reply.status, reply.close) == (400, True)


def test_internal_error_fault_is_a_500_with_the_amt_status_detail(device: SimulatedDevice) -> None:
    device.faults.internal_error_classes = [names.Cls.AMT_GeneralSettings]
    reply = get(device, names.Cls.AMT_GeneralSettings)
    assert reply.status == 500
    assert b"<a:Value>e:InternalError</a:Value>" in reply.body
    assert b'<a:Detail><a:Text xml:lang="en-US">AMT-STATUS 1</a:Text></a:Detail>' in reply.body


def test_plain_enumerate_answers_only_a_context_like_amt(device: SimulatedDevice) -> None:
    body = dispatch_wsman(device, SAMPLE_REQUESTS["enumerate"]()).body
    assert declarations(body) == [*FIXED_PREFIXES, ("g", WSEN), ("xsi", XSI)]
    assert re.search(rb"<a:Body><g:EnumerateResponse><g:EnumerationContext>[0-9A-F]{8}-0000-0000-0000-000000000000"
                     rb"</g:EnumerationContext></g:EnumerateResponse></a:Body>", body)


def _pull(device: SimulatedDevice, context: str, max_elements: int) -> bytes:
    uri = names.resource_uri(names.Cls.CIM_SoftwareIdentity)
    return dispatch_wsman(device, wr.build_pull(uri, context, max_elements)).body


def _context(body: bytes) -> str:
    element = etree.fromstring(body).find(f".//{{{WSEN}}}EnumerationContext")
    assert element is not None
    return element.text or ""


def test_non_final_pull_puts_the_context_before_items_and_no_end_of_sequence(device: SimulatedDevice) -> None:
    context = _context(dispatch_wsman(device, SAMPLE_REQUESTS["enumerate"]()).body)
    body = _pull(device, context, 2)
    assert re.search(rb"<g:PullResponse><g:EnumerationContext>[^<]+</g:EnumerationContext><g:Items><h:", body)
    assert b"EndOfSequence" not in body


def test_final_pull_ends_with_end_of_sequence_after_items_and_no_context(device: SimulatedDevice) -> None:
    context = _context(dispatch_wsman(device, SAMPLE_REQUESTS["enumerate"]()).body)
    body = _pull(device, context, 100)
    assert re.search(rb"<g:PullResponse><g:Items><h:.*</g:Items><g:EndOfSequence></g:EndOfSequence>"
                     rb"</g:PullResponse>", body)
    assert b"EnumerationContext" not in body


def test_empty_pull_matches_the_real_capture_except_ids(wire) -> None:
    captured = wire.read("AMT_PublicKeyCertificate.Pull.response.xml")
    ours = rs.pull_response(header(captured, "RelatesTo"), header(captured, "MessageID"),
                            names.resource_uri("AMT_PublicKeyCertificate"), [], None)
    assert ours == captured


def test_epr_mode_pages_carry_references_without_declaring_the_class_namespace(device: SimulatedDevice) -> None:
    body = dispatch_wsman(device, SAMPLE_REQUESTS["enumerate-epr"]()).body
    assert ("h", "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ComputerSystem") not in declarations(body)
    assert body.count(b"<b:EndpointReference><b:Address>") == 2


def test_put_answer_is_a_put_response_with_the_stored_object(device: SimulatedDevice) -> None:
    current = rs.parse_response(get(device, names.Cls.AMT_GeneralSettings).body).instance()
    changed = CimInstance(current.class_name, {**current.properties, "HostName": "host-7"})
    body = dispatch_wsman(device, wr.build_put(changed, message_id="9")).body
    response = rs.parse_response(body)
    assert response.action == WSXF + "/PutResponse"
    assert response.instance()["HostName"] == "host-7"
    assert b"<g:HostName>host-7</g:HostName>" in body


def test_empty_strings_are_written_as_open_and_close_tags(device: SimulatedDevice) -> None:
    body = get(device, names.Cls.AMT_GeneralSettings).body
    assert b"<g:DomainName></g:DomainName>" in body
    assert b"<g:HostName></g:HostName>" in body


def test_method_answer_puts_return_value_last_in_the_output(device: SimulatedDevice) -> None:
    body = dispatch_wsman(device, SAMPLE_REQUESTS["method"]()).body
    assert re.search(rb"<a:Body><g:RequestPowerStateChange_OUTPUT><g:ReturnValue>\d+</g:ReturnValue>"
                     rb"</g:RequestPowerStateChange_OUTPUT></a:Body>", body)
    assert header(body, "Action") == ("http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_PowerManagementService"
                                      "/RequestPowerStateChangeResponse")
