"""Power as MeshCentral and Intel's consoles read and change it, over raw sockets.

MeshCentral (``amtmanager.js``) and Intel's libraries enumerate ``CIM_ServiceAvailableToElement``
and expect ``CIM_AssociatedPowerManagementService`` items carrying ``PowerState`` and
``AvailableRequestedPowerStates``; the expectations are the recorded Pull responses in
``tests/data/amt-wire`` (see its PROVENANCE.md). Back-to-back changes: the second waits for the
first instead of being refused.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from lxml import etree

WIRE = Path(__file__).parents[1] / "data" / "amt-wire"

SOAP = "http://www.w3.org/2003/05/soap-envelope"
WSA = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
WSMAN = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
WSEN = "http://schemas.xmlsoap.org/ws/2004/09/enumeration"
CIM = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/"
SERVICE_AVAILABLE = CIM + "CIM_ServiceAvailableToElement"
ASSOCIATED_POWER = CIM + "CIM_AssociatedPowerManagementService"
POWER_SERVICE = CIM + "CIM_PowerManagementService"


def recorded(name: str) -> bytes:
    path = WIRE / name
    if not path.exists():
        raise FileNotFoundError(f"recorded AMT message {name} missing from tests/data/amt-wire")
    return path.read_bytes()


def meshcommander(action: str, uri: str, body: str = "", message_id: int = 1) -> bytes:
    """The envelope shape of MeshCentral's amt-wsman.js: default SOAP namespace, ``<Body />`` when empty."""
    return (
        f'<?xml version="1.0" encoding="utf-8"?><Envelope xmlns="{SOAP}" xmlns:a="{WSA}" xmlns:w="{WSMAN}">'
        f"<Header><a:Action>{action}</a:Action><a:To>/wsman</a:To><w:ResourceURI>{uri}</w:ResourceURI>"
        f"<a:MessageID>{message_id}</a:MessageID><a:ReplyTo><a:Address>{WSA}/role/anonymous</a:Address>"
        f"</a:ReplyTo><w:OperationTimeout>PT60.000S</w:OperationTimeout></Header>"
        + (f"<Body>{body}</Body>" if body else "<Body />") + "</Envelope>"
    ).encode()


def power_change(code: int, message_id: int) -> bytes:
    body = (
        f'<r:RequestPowerStateChange_INPUT xmlns:r="{POWER_SERVICE}"><r:PowerState>{code}</r:PowerState>'
        f"<r:ManagedElement><Address xmlns=\"{WSA}\">{WSA}</Address><ReferenceParameters xmlns=\"{WSA}\">"
        f'<ResourceURI xmlns="{WSMAN}">{CIM}CIM_ComputerSystem</ResourceURI><SelectorSet xmlns="{WSMAN}">'
        '<Selector Name="CreationClassName">CIM_ComputerSystem</Selector><Selector Name="Name">ManagedSystem'
        "</Selector></SelectorSet></ReferenceParameters></r:ManagedElement></r:RequestPowerStateChange_INPUT>"
    )
    return meshcommander(f"{POWER_SERVICE}/RequestPowerStateChange", POWER_SERVICE, body, message_id)


class Session:
    """One digest session of a raw client on one kept-alive connection (nonce count 1, 2, ...)."""

    def __init__(self, raw, httpkit) -> None:  # type: ignore[no-untyped-def]
        self.raw, self.httpkit = raw, httpkit
        self.challenge = raw.challenge()
        self.connection = raw.connection()
        self.nc = 0

    def post(self, body: bytes):  # type: ignore[no-untyped-def]
        self.nc += 1
        authorization = self.raw.sign(self.challenge, nc=self.nc)
        return self.connection.exchange(self.httpkit.http_post(body, authorization=authorization))


def canonical(element: etree._Element) -> list[tuple[str, str]]:
    """Every element under ``element`` as (qualified tag, text), whitespace between tags dropped."""
    return [(str(e.tag), (e.text or "").strip()) for e in element.iter() if isinstance(e.tag, str)]


def body_of(data: bytes) -> etree._Element:
    body = etree.fromstring(data).find(f"{{{SOAP}}}Body")
    assert body is not None and len(body)
    return body[0]


def declared(data: bytes) -> dict[str, str]:
    return dict(etree.fromstring(data).nsmap)  # type: ignore[arg-type]


def enumerate_and_pull(session: Session, uri: str):  # type: ignore[no-untyped-def]
    enumerated = session.post(meshcommander(f"{WSEN}/Enumerate", uri, f'<Enumerate xmlns="{WSEN}" />'))
    assert enumerated.status == 200, enumerated.body[:400]
    context = body_of(enumerated.body).findtext(f"{{{WSEN}}}EnumerationContext")
    pull_body = (f'<Pull xmlns="{WSEN}"><EnumerationContext>{context}</EnumerationContext>'
                 "<MaxElements>999</MaxElements><MaxCharacters>99999</MaxCharacters></Pull>")
    return session.post(meshcommander(f"{WSEN}/Pull", uri, pull_body, message_id=2))


@pytest.fixture
def session(make_raw_device, httpkit) -> Session:  # type: ignore[no-untyped-def]
    return Session(make_raw_device(), httpkit)


def test_service_available_to_element_pull_matches_the_recorded_amt_answer(session: Session) -> None:
    pulled = enumerate_and_pull(session, SERVICE_AVAILABLE)
    expected = recorded("CIM_ServiceAvailableToElement.Pull.response.2.xml")
    assert pulled.status == 200
    assert canonical(body_of(pulled.body)) == canonical(body_of(expected))


def test_service_available_to_element_items_are_in_the_subclass_namespace_as_recorded(session: Session) -> None:
    pulled = enumerate_and_pull(session, SERVICE_AVAILABLE)
    expected = recorded("CIM_ServiceAvailableToElement.Pull.response.2.xml")
    assert declared(pulled.body) == declared(expected)
    header_uri = etree.fromstring(pulled.body).findtext(f".//{{{WSMAN}}}ResourceURI")
    assert header_uri == SERVICE_AVAILABLE


def test_power_state_read_the_meshcentral_way_follows_the_host(session: Session, make_raw_device, httpkit) -> None:
    from amtkit.codes import PowerState

    raw = make_raw_device(power_state=PowerState.OFF_SOFT)
    item = body_of(enumerate_and_pull(Session(raw, httpkit), SERVICE_AVAILABLE).body)
    power_state = item.findtext(f".//{{{ASSOCIATED_POWER}}}PowerState")
    offered = [e.text for e in item.iter(f"{{{ASSOCIATED_POWER}}}AvailableRequestedPowerStates")]
    assert (power_state, offered) == ("8", ["2"])


def test_get_of_the_association_answers_the_subclass_under_the_requested_uri(session: Session) -> None:
    reply = session.post(meshcommander("http://schemas.xmlsoap.org/ws/2004/09/transfer/Get", SERVICE_AVAILABLE))
    assert reply.status == 200
    assert body_of(reply.body).tag == f"{{{ASSOCIATED_POWER}}}CIM_AssociatedPowerManagementService"
    assert etree.fromstring(reply.body).findtext(f".//{{{WSMAN}}}ResourceURI") == SERVICE_AVAILABLE


def return_value(reply) -> str:  # type: ignore[no-untyped-def]
    assert reply.status == 200, reply.body[:400]
    return body_of(reply.body).findtext(f"{{{POWER_SERVICE}}}ReturnValue") or ""


def test_power_off_then_on_back_to_back_both_complete(make_raw_device, httpkit) -> None:
    from amtsim import Timing

    raw = make_raw_device(timing=Timing(power_transition=0.4, power_off_phase=0))
    session = Session(raw, httpkit)
    started = time.monotonic()
    assert return_value(session.post(power_change(8, 1))) == "0"
    assert return_value(session.post(power_change(2, 2))) == "0"  # held until the off completed
    assert time.monotonic() - started >= 0.3
    assert [int(a) for a in raw.info.control.power_history()] == [8, 2]


def test_a_change_not_offered_once_the_first_completes_is_refused_with_2(make_raw_device, httpkit) -> None:
    from amtsim import Timing

    raw = make_raw_device(timing=Timing(power_transition=0.2, power_off_phase=0))
    session = Session(raw, httpkit)
    assert return_value(session.post(power_change(8, 1))) == "0"
    assert return_value(session.post(power_change(5, 2))) == "2"  # cycle while off: DSP1027's 2, not 4099
    assert [int(a) for a in raw.info.control.power_history()] == [8]


def test_other_connections_are_answered_while_a_change_waits(make_raw_device, httpkit) -> None:
    from amtsim import Timing

    raw = make_raw_device(timing=Timing(power_transition=1.5, power_off_phase=0))
    first, second = Session(raw, httpkit), Session(raw, httpkit)
    assert return_value(first.post(power_change(8, 1))) == "0"
    first.nc += 1
    first.connection.send(httpkit.http_post(power_change(2, 2),
                                            authorization=raw.sign(first.challenge, nc=first.nc)))
    started = time.monotonic()
    reading = enumerate_and_pull(second, SERVICE_AVAILABLE)  # not stuck behind the held power-on
    assert time.monotonic() - started < 1.0
    assert body_of(reading.body).findtext(f".//{{{ASSOCIATED_POWER}}}PowerState") == "8"
    assert return_value(first.connection.receive()) == "0"


def test_a_wait_longer_than_the_operation_timeout_is_timed_out(make_raw_device, httpkit) -> None:
    from amtsim import Timing

    raw = make_raw_device(timing=Timing(power_transition=40, power_off_phase=0))
    session = Session(raw, httpkit)
    assert return_value(session.post(power_change(8, 1))) == "0"
    late = power_change(2, 2).replace(b"PT60.000S", b"PT30S")
    reply = session.post(late)
    assert reply.status == 500
    assert b"TimedOut" in reply.body
