"""The WS-Man shape of System Defense objects: what the client sends, how a read-back decodes."""

from __future__ import annotations

from ipaddress import ip_network

import pytest

from amtkit.defense import wsman
from amtkit.defense.model import (
    DefaultAction,
    EthernetFilter,
    EtherType,
    FilterDirection,
    FilterProfile,
    InvalidFilterError,
    IPHeaderFilter,
    IPProtocol,
    Policy,
    PortRange,
)
from amtkit.wsman.names import Cls
from amtkit.wsman.requests import build_create, parse_request

TX, RX = FilterDirection.TRANSMIT, FilterDirection.RECEIVE


def ip_filter(**fields: object) -> IPHeaderFilter:
    base: dict[str, object] = {"direction": RX, "profile": FilterProfile.PASS}
    return IPHeaderFilter(**{**base, **fields})  # type: ignore[arg-type]


def sent(props: dict[str, object], class_name: str = Cls.AMT_IPHeadersFilter) -> dict[str, object]:
    """The properties as the device parses them from a Create body (types per the schema)."""
    body = build_create(class_name, props)  # type: ignore[arg-type]
    return dict(parse_request(body).body_instance().properties)


def test_ipv4_addresses_and_masks_are_written_as_hex_octet_strings() -> None:
    f = ip_filter(src=ip_network("192.168.0.10/32"), dst=ip_network("10.1.0.0/16"))
    _, props = wsman.filter_properties(f, 0)
    assert (props["HdrSrcAddress"], props["HdrSrcMask"]) == ("c0a8000a", "ffffffff")
    assert (props["HdrDestAddress"], props["HdrDestMask"]) == ("0a010000", "ffff0000")


def test_ipv6_addresses_are_sixteen_octets() -> None:
    f = ip_filter(ip_version=6, dst=ip_network("fd00::/8"))
    _, props = wsman.filter_properties(f, 0)
    assert props["HdrDestAddress"] == "fd" + "0" * 30
    assert props["HdrDestMask"] == "ff" + "0" * 30
    assert props["HdrIPVersion"] == 6


def test_any_address_and_any_protocol_are_left_out() -> None:
    _, props = wsman.filter_properties(ip_filter(src=ip_network("0.0.0.0/0")), 0)
    assert not {"HdrSrcAddress", "HdrSrcMask", "HdrDestAddress", "HdrProtocolID"} & set(props)


def test_port_ranges_become_start_and_end() -> None:
    f = ip_filter(protocol=IPProtocol.TCP, dst_ports=PortRange(50120, 50124), src_ports=PortRange.single(443))
    _, props = wsman.filter_properties(f, 0)
    assert [props[k] for k in ("HdrSrcPortStart", "HdrSrcPortEnd", "HdrDestPortStart", "HdrDestPortEnd")] == [
        443, 443, 50120, 50124]
    assert props["HdrProtocolID"] == 6


def test_profile_direction_event_and_rate_are_the_common_properties() -> None:
    f = ip_filter(direction=TX, profile=FilterProfile.RATE_LIMIT, rate_limit=50, event_on_match=True)
    _, props = wsman.filter_properties(f, 0)
    assert (props["FilterProfile"], props["FilterDirection"], props["ActionEventOnMatch"],
            props["FilterProfileData"]) == (2, 0, True, 50)


def test_an_ethernet_filter_is_an_8021_filter_by_ethertype() -> None:
    cls, props = wsman.filter_properties(EthernetFilter(direction=TX, profile=FilterProfile.PASS,
                                                        ethertype=EtherType.ARP), 3)
    assert cls == Cls.AMT_Hdr8021Filter
    assert props["HdrProtocolID8021"] == 2054


def test_filters_carry_the_amt_keys_with_a_placeholder_instance_id() -> None:
    _, props = wsman.filter_properties(ip_filter(name="dns"), 7)
    assert props["InstanceID"] == "0"
    assert props["CreationClassName"] == Cls.AMT_IPHeadersFilter
    assert (props["SystemCreationClassName"], props["SystemName"]) == ("CIM_ComputerSystem", "Intel(r) AMT")
    assert props["Name"] == "amtkit:7:dns"


@pytest.mark.parametrize("name", ["management-server", "x" * 64, ""])
def test_filter_names_are_unique_marked_ours_and_at_most_16_characters(name: str) -> None:
    wire = wsman.filter_wire_name(61, name)
    assert wire.startswith("amtkit:61:")
    assert len(wire) <= wsman.MAX_NAME_LENGTH
    assert wsman.is_ours(wire)


@pytest.mark.parametrize(("name", "wire"), [
    ("amtkit-default", "amtkit:default"),
    ("quarantine-strict", "amtkit:quarantin"),
    ("x", "amtkit:x"),
])
def test_policy_names_fit_amt_16_characters(name: str, wire: str) -> None:
    assert wsman.policy_wire_name(name) == wire


def test_foreign_names_are_not_ours() -> None:
    assert not wsman.is_ours("Quarantine")
    assert not wsman.is_ours(None)


def test_a_filter_survives_the_wire_with_its_meaning() -> None:
    f = ip_filter(direction=TX, protocol=IPProtocol.UDP, src=ip_network("10.0.0.0/8"), dst_ports=PortRange(53, 53),
                  event_on_match=True, name="dns")
    class_name, props = wsman.filter_properties(f, 4)
    decoded = wsman.filter_from_properties(class_name, sent(props))
    assert decoded == IPHeaderFilter(direction=TX, profile=FilterProfile.PASS, protocol=IPProtocol.UDP,
                                     src=ip_network("10.0.0.0/8"), dst_ports=PortRange(53, 53),
                                     event_on_match=True, name="amtkit:4:dns")


def test_an_address_without_mask_matches_that_host_only() -> None:
    decoded = wsman.filter_from_properties(Cls.AMT_IPHeadersFilter, {
        "HdrIPVersion": 4, "HdrSrcAddress": "C0A8000A", "FilterProfile": 3, "FilterDirection": 1})
    assert isinstance(decoded, IPHeaderFilter)
    assert decoded.src == ip_network("192.168.0.10/32")


@pytest.mark.parametrize(("props", "why"), [
    ({"HdrSrcAddress": "c0a8000a", "HdrSrcMask": "ff00ff00"}, "contiguous"),
    ({"HdrDSCP": [10]}, "does not model"),
    ({"IsNegated": True}, "IsNegated"),
    ({"HdrIPVersion": None}, "HdrIPVersion is required"),
    ({"FilterProfile": 9}, "FilterProfile"),
])
def test_filters_amtkit_cannot_model_are_refused_by_name(props: dict[str, object], why: str) -> None:
    base = {"HdrIPVersion": 4, "FilterProfile": 3, "FilterDirection": 1}
    with pytest.raises(InvalidFilterError, match=why):
        wsman.filter_from_properties(Cls.AMT_IPHeadersFilter, {**base, **props})  # type: ignore[dict-item]


def test_a_policy_names_its_filters_by_handle_with_all_six_default_flags() -> None:
    policy = Policy(name="amtkit-default", precedence=50, transmit_default=DefaultAction(drop=True, count=True),
                    receive_default=DefaultAction(drop=True, event=True), anti_spoofing=True)
    props = wsman.policy_properties(policy, [4, 5, 6])
    assert props["FilterCreationHandles"] == [4, 5, 6]
    assert (props["TxDefaultDrop"], props["TxDefaultCount"], props["TxDefaultMatchEvent"]) == (True, True, False)
    assert (props["RxDefaultDrop"], props["RxDefaultCount"], props["RxDefaultMatchEvent"]) == (True, False, True)
    assert props["AntiSpoofingSupport"] == wsman.ANTI_SPOOFING_ON
    assert props["PolicyName"] == "amtkit:default"


def test_a_policy_read_back_decodes_to_what_was_sent() -> None:
    policy = Policy(name="amtkit-ping", precedence=7, transmit_default=DefaultAction(drop=True))
    props = sent(wsman.policy_properties(policy, [1]), Cls.AMT_SystemDefensePolicy)
    assert wsman.policy_from_properties(props) == wsman.expected_policy(policy)
    assert wsman.filter_handles(props) == [1]


@pytest.mark.parametrize(("seconds", "minutes"), [(None, 0), (0, 0), (1, 1), (60, 1), (61, 2), (14400, 240)])
def test_timeouts_are_whole_minutes_rounded_up(seconds: int | None, minutes: int) -> None:
    assert wsman.timeout_minutes(seconds) == minutes


def test_a_timeout_beyond_65535_minutes_is_refused() -> None:
    with pytest.raises(InvalidFilterError, match="65535"):
        wsman.timeout_minutes(65536 * 60)


@pytest.mark.parametrize(("instance_id", "handle"), [("Intel(r) AMT:Handle: 2", 2), ("7", 7)])
def test_the_handle_is_the_number_ending_the_instance_id(instance_id: str, handle: int) -> None:
    assert wsman.handle_of(instance_id) == handle


def test_port_zero_is_the_wired_ethernet_port() -> None:
    epr = wsman.ethernet_port_epr(0)
    assert epr.selectors["DeviceID"] == "Intel(r) AMT Ethernet Port 0"
    assert wsman.port_of("Intel(r) AMT Ethernet Port 1") == 1
    assert wsman.port_of("something else") is None


# -- against the requests other consoles send (vendored in tests/data/amt-wire) -------------------


def fixture_request(wire, name: str) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return dict(parse_request(wire.read(name)).body_instance().properties)


def test_the_ip_filter_properties_match_meshcommander_create(wire) -> None:
    theirs = fixture_request(wire, "AMT_IPHeadersFilter.Create.request.xml")
    _, ours = wsman.filter_properties(ip_filter(profile=FilterProfile.DROP, event_on_match=True,
                                                src=ip_network("192.168.0.10/32")), 0)
    keys = ("HdrIPVersion", "FilterProfile", "FilterDirection", "ActionEventOnMatch", "HdrSrcAddress", "HdrSrcMask")
    assert {k: sent(ours)[k] for k in keys} == {k: theirs[k] for k in keys}


def test_the_8021_filter_properties_match_meshcommander_create(wire) -> None:
    theirs = fixture_request(wire, "AMT_Hdr8021Filter.Create.request.xml")
    _, ours = wsman.filter_properties(EthernetFilter(direction=RX, profile=FilterProfile.DROP_WITH_STATISTICS,
                                                     ethertype=EtherType.IPV4), 0)
    keys = ("HdrProtocolID8021", "FilterProfile", "FilterDirection", "ActionEventOnMatch")
    assert {k: sent(ours, Cls.AMT_Hdr8021Filter)[k] for k in keys} == {k: theirs[k] for k in keys}


def test_the_activation_references_match_meshcommander_create(wire) -> None:
    theirs = fixture_request(wire, "AMT_NetworkPortSystemDefensePolicy.Create.request.xml")
    ours = sent({"Antecedent": wsman.ethernet_port_epr(0), "Dependent": wsman.policy_epr("Intel(r) AMT:Handle: 2")},
                Cls.AMT_NetworkPortSystemDefensePolicy)
    for key in ("Antecedent", "Dependent"):
        assert ours[key].resource_uri == theirs[key].resource_uri  # type: ignore[attr-defined]
    assert ours["Antecedent"].selectors["DeviceID"] == theirs["Antecedent"].selectors["DeviceID"]  # type: ignore[attr-defined]
    assert ours["Dependent"].selectors == theirs["Dependent"].selectors  # type: ignore[attr-defined]
