"""Circuit Breaker structures <-> amtkit's System Defense model: lossless where both can say it."""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amtkit.defense.model import (
    DefaultAction,
    EthernetFilter,
    FilterDirection,
    FilterProfile,
    InvalidFilterError,
    IPHeaderFilter,
    IPProtocol,
    Policy,
    PortRange,
)
from amtkit.eoi.circuit_breaker import filter_from_cb, filter_to_cb, policy_from_cb, policy_to_cb


@st.composite
def ip_filters(draw: st.DrawFn) -> IPHeaderFilter:
    version = draw(st.sampled_from([4, 6]))
    width = 32 if version == 4 else 128
    network_type = IPv4Network if version == 4 else IPv6Network
    prefix = draw(st.integers(1, width))
    network = network_type((draw(st.integers(0, 2**width - 1)) >> (width - prefix) << (width - prefix), prefix))
    side = draw(st.sampled_from(["src", "dst", None]))
    protocol = draw(st.sampled_from([IPProtocol.TCP, IPProtocol.UDP, IPProtocol.ANY, IPProtocol.ICMP, 47]))
    ports: dict[str, PortRange] = {}
    if protocol in (IPProtocol.TCP, IPProtocol.UDP):
        low = draw(st.integers(0, 65535))
        span = PortRange(low, draw(st.integers(low, 65535)))
        shape = draw(st.sampled_from(["none", "src", "dst", "pair"]))
        if shape == "pair":
            ports = {"src_ports": PortRange.single(low), "dst_ports": PortRange.single(span.end)}
        elif shape != "none":
            ports = {f"{shape}_ports": span}
    profile = draw(st.sampled_from(list(FilterProfile)))
    return IPHeaderFilter(
        direction=draw(st.sampled_from(list(FilterDirection))), profile=profile, ip_version=version,
        protocol=protocol, rate_limit=draw(st.integers(1, 10_000)) if profile is FilterProfile.RATE_LIMIT else None,
        event_on_match=draw(st.booleans()), name=draw(st.text("abc:0123", max_size=16)),
        **({side: network} if side else {}), **ports)  # type: ignore[arg-type]


@settings(max_examples=150)
@given(ip_filters())
def test_ip_filters_with_one_address_round_trip(f: IPHeaderFilter) -> None:
    assert filter_from_cb(filter_to_cb(f)) == f


def test_ethernet_filters_round_trip() -> None:
    arp = EthernetFilter(direction=FilterDirection.TRANSMIT, profile=FilterProfile.PASS, ethertype=0x0806, name="arp")
    assert filter_to_cb(arp)["FilterPacket"] == {"PacketETH": {"EthernetFrameType": 2054}}
    assert filter_from_cb(filter_to_cb(arp)) == arp


def test_both_addresses_or_two_ranges_have_no_circuit_breaker_form() -> None:
    from ipaddress import ip_network

    with pytest.raises(InvalidFilterError, match="one address"):
        filter_to_cb(IPHeaderFilter(direction=FilterDirection.RECEIVE, profile=FilterProfile.DROP,
                                    src=ip_network("10.0.0.0/8"), dst=ip_network("10.1.0.0/16")))
    with pytest.raises(InvalidFilterError, match="one port range"):
        filter_to_cb(IPHeaderFilter(direction=FilterDirection.RECEIVE, profile=FilterProfile.DROP,
                                    protocol=IPProtocol.TCP, src_ports=PortRange(1, 2), dst_ports=PortRange(3, 4)))


def test_tcp_flag_filters_are_refused_as_not_modelled() -> None:
    data = filter_to_cb(IPHeaderFilter(direction=FilterDirection.RECEIVE, profile=FilterProfile.DROP,
                                       protocol=IPProtocol.TCP))
    data["FilterPacket"]["PacketTCP"]["TCPFlags"] = {"TCP_FLAG_SYN": True}  # type: ignore[index]
    with pytest.raises(InvalidFilterError, match="TCP flag"):
        filter_from_cb(data)


def test_policies_round_trip_with_their_handles() -> None:
    policy = Policy(name="lab", precedence=7, transmit_default=DefaultAction(drop=True, count=True),
                    receive_default=DefaultAction(event=True), anti_spoofing=True)
    data = policy_to_cb(policy, [3, 1, 2])
    assert "AntiSpoofingFilter" in data
    assert policy_from_cb(data) == (policy, [3, 1, 2])
