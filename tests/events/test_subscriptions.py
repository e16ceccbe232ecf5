"""Alert subscriptions as AMT takes them: Subscribe on a CIM_FilterCollection, listed through
CIM_FilterCollectionSubscription and CIM_ListenerDestinationWSManagement, Unsubscribe and Renew
addressed by Filter and Handler. The wire literals are MeshCommander's and Intel's SDK's."""

from __future__ import annotations

import pytest
from lxml import etree

from amtkit import exceptions as exc
from amtkit.events.audit import AuditEvent
from amtkit.events.subscriptions import AlertFilter, DeliveryMode, build_subscribe, build_unsubscribe

WSEVT = "http://schemas.xmlsoap.org/ws/2004/08/eventing"
WSA = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
WSMAN = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"


def test_subscribe_is_sent_to_the_filter_collection_with_push_delivery_and_credentials() -> None:
    request = etree.fromstring(build_subscribe("Intel(r) AMT:All", "http://10.0.0.9:16990/events",
                                               reference={"Device": "pc-17"}, credentials=("amt", "s3cret")))
    header = request[0]
    assert header.findtext(f"{{{WSA}}}Action") == "http://schemas.xmlsoap.org/ws/2004/08/eventing/Subscribe"
    assert header.findtext(f"{{{WSMAN}}}ResourceURI") == \
        "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_FilterCollection"
    selector = header.find(f"{{{WSMAN}}}SelectorSet/{{{WSMAN}}}Selector")
    assert (selector.get("Name"), selector.text) == ("InstanceID", "Intel(r) AMT:All")
    token = header.find("{http://schemas.xmlsoap.org/ws/2005/02/trust}IssuedTokens")
    assert token is not None
    assert [e.text for e in token.iter() if str(e.tag).endswith(("Username", "Password"))] == ["amt", "s3cret"]
    delivery = request.find(f".//{{{WSEVT}}}Delivery")
    assert delivery.get("Mode") == "http://schemas.xmlsoap.org/ws/2004/08/eventing/DeliveryModes/Push"
    assert delivery.findtext(f"{{{WSEVT}}}NotifyTo/{{{WSA}}}Address") == "http://10.0.0.9:16990/events"
    assert delivery.find(f"{{{WSMAN}}}Auth").get("Profile") == \
        "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/http/digest"
    assert request.find(f".//{{{WSEVT}}}Expires") is None


def test_unsubscribe_addresses_the_subscription_by_filter_and_handler() -> None:
    request = etree.fromstring(build_unsubscribe("Intel(r) AMT:All", "Intel(r) AMT:Listener 3"))
    header = request[0]
    assert header.findtext(f"{{{WSA}}}Action") == "http://schemas.xmlsoap.org/ws/2004/08/eventing/Unsubscribe"
    names = [s.get("Name") for s in header.find(f"{{{WSMAN}}}SelectorSet")]
    assert names == ["Filter", "Handler"]
    text = etree.tostring(header).decode()
    assert "CIM_ListenerDestinationWSManagement" in text and "CIM_ListenerDestinationWSMAN<" in text


def test_the_limits_amt_documents_are_checked_before_sending() -> None:
    with pytest.raises(ValueError, match="253"):
        build_subscribe("Intel(r) AMT:All", "http://x/" + "a" * 250)
    with pytest.raises(ValueError, match="256"):
        build_subscribe("Intel(r) AMT:All", "http://x/", reference={"Device": "d" * 250})
    with pytest.raises(ValueError, match="32"):
        build_subscribe("Intel(r) AMT:All", "http://x/", credentials=("u", "p" * 33))


def test_subscribe_list_and_unsubscribe_on_the_device(make_device, connect) -> None:
    client = connect(make_device())
    first = client.events.subscribe("http://127.0.0.1:9/a", credentials=("amt", "pw"))
    second = client.events.subscribe("http://127.0.0.1:9/b", alert_filter="features",
                                     mode=DeliveryMode.PUSH_WITH_ACK)
    listed = {s.destination: s for s in client.events.subscriptions()}
    assert listed["http://127.0.0.1:9/a"].filter == "Intel(r) AMT:All"
    assert listed["http://127.0.0.1:9/b"].filter == "Intel(r) AMT:Features"
    assert listed["http://127.0.0.1:9/b"].mode is DeliveryMode.PUSH_WITH_ACK
    assert first.handler != second.handler
    client.events.unsubscribe(first)
    assert [s.destination for s in client.events.subscriptions()] == ["http://127.0.0.1:9/b"]
    audited = [r.event for r in client.audit.records()]
    assert audited == [AuditEvent.ALERT_SUBSCRIBED, AuditEvent.ALERT_SUBSCRIBED, AuditEvent.ALERT_UNSUBSCRIBED]


def test_the_same_listener_twice_is_refused_and_nine_subscribers_are_the_most(make_device, connect) -> None:
    client = connect(make_device())
    client.events.subscribe("http://127.0.0.1:9/0")
    with pytest.raises(exc.WSManFault) as twice:
        client.events.subscribe("http://127.0.0.1:9/0")
    assert twice.value.subcode == "AlreadyExists"
    for number in range(1, 9):
        client.events.subscribe(f"http://127.0.0.1:9/{number}")
    with pytest.raises(exc.AMTError):
        client.events.subscribe("http://127.0.0.1:9/10")
    assert len(client.events.subscriptions()) == 9


def test_a_subscription_with_expires_ends_unless_renewed(make_device, connect) -> None:
    device = make_device()
    client = connect(device)
    sub = client.events.subscribe("http://127.0.0.1:9/x", expires=60)
    assert sub.expires is not None
    renewed = client.events.renew(sub, 3600)
    assert renewed.expires is not None and renewed.expires > sub.expires
    backend = device.device.extensions["eventing"]
    with device.device.lock:
        backend.listeners[sub.handler].expires_at = backend.clock() - 1
    assert client.events.subscriptions() == []


def test_unknown_filters_and_authentication_are_usage_errors(make_device, connect) -> None:
    client = connect(make_device())
    with pytest.raises(exc.UsageError, match="unknown alert filter"):
        client.events.subscribe("http://127.0.0.1:9/x", alert_filter="fans")
    with pytest.raises(exc.UsageError):
        client.events.subscribe("http://127.0.0.1:9/x", auth="kerberos")
    assert AlertFilter.named("ALL") == "Intel(r) AMT:All"
