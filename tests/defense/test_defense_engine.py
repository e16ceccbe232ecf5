"""amtkit.defense.engine: the matching rule, one behaviour per test, plus hypothesis properties."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network

import pytest
from hypothesis import given
from hypothesis import strategies as st

from amtkit.defense.engine import CompiledPolicy, compile_policy, evaluate, matches
from amtkit.defense.model import (
    Action,
    DefaultAction,
    EthernetFilter,
    EtherType,
    Filter,
    FilterDirection,
    FilterProfile,
    IPHeaderFilter,
    IPProtocol,
    Packet,
    Policy,
    PortRange,
)

TX, RX = FilterDirection.TRANSMIT, FilterDirection.RECEIVE
MANAGER = ip_address("10.0.0.5")
HOST = ip_address("10.0.0.9")
DROP_ALL = DefaultAction(drop=True)


def policy(
    *filters: Filter, tx: DefaultAction = DROP_ALL, rx: DefaultAction = DROP_ALL, **kw: object
) -> Policy:
    return Policy(name="t", filters=filters, transmit_default=tx, receive_default=rx, **kw)  # type: ignore[arg-type]


def tcp_in(port: int | None = 443, src: IPv4Address | IPv6Address | None = MANAGER) -> Packet:
    """A TCP packet arriving at the host from ``src``."""
    return Packet.ip(RX, IPProtocol.TCP, src=src, dst=HOST, src_port=port, dst_port=40000)


def rx_filter(profile: FilterProfile = FilterProfile.PASS, **fields: object) -> IPHeaderFilter:
    return IPHeaderFilter(direction=RX, profile=profile, **fields)  # type: ignore[arg-type]


def test_first_matching_filter_decides_pass_before_drop() -> None:
    v = evaluate(policy(rx_filter(FilterProfile.PASS), rx_filter(FilterProfile.DROP)), tcp_in())
    assert (v.action, v.filter_index) == (Action.PASS, 0)


def test_first_matching_filter_decides_drop_before_pass() -> None:
    v = evaluate(policy(rx_filter(FilterProfile.DROP), rx_filter(FilterProfile.PASS)), tcp_in())
    assert (v.action, v.filter_index) == (Action.DROP, 0)


def test_filters_of_the_other_direction_take_no_part() -> None:
    tx_pass = IPHeaderFilter(direction=TX, profile=FilterProfile.PASS)
    v = evaluate(policy(tx_pass), tcp_in())
    assert (v.action, v.filter_index) == (Action.DROP, None)


def test_filter_index_counts_filters_of_both_directions() -> None:
    tx_pass = IPHeaderFilter(direction=TX, profile=FilterProfile.PASS)
    assert evaluate(policy(tx_pass, tx_pass, rx_filter()), tcp_in()).filter_index == 2


def test_unmatched_packet_gets_the_receive_default_with_its_flags() -> None:
    v = evaluate(policy(rx=DefaultAction(drop=True, count=True, event=True)), tcp_in())
    assert (v.action, v.filter_index, v.counted, v.event) == (Action.DROP, None, True, True)


def test_unmatched_transmitted_packet_gets_the_transmit_default() -> None:
    v = evaluate(policy(tx=DefaultAction(), rx=DROP_ALL), tcp_in().reply())
    assert (v.action, v.filter_index, v.counted) == (Action.PASS, None, False)


@pytest.mark.parametrize(
    ("profile", "action", "counted"),
    [
        (FilterProfile.PASS_WITH_STATISTICS, Action.PASS, True),
        (FilterProfile.DROP_WITH_STATISTICS, Action.DROP, True),
        (FilterProfile.PASS, Action.PASS, False),
        (FilterProfile.DROP, Action.DROP, False),
    ],
)
def test_matching_filter_profile_sets_action_and_counting(
    profile: FilterProfile, action: Action, counted: bool
) -> None:
    v = evaluate(policy(rx_filter(profile)), tcp_in())
    assert (v.action, v.counted) == (action, counted)


def test_rate_limit_filter_passes_packets() -> None:
    v = evaluate(policy(rx_filter(FilterProfile.RATE_LIMIT, rate_limit=10)), tcp_in())
    assert (v.action, v.passes) == (Action.RATE_LIMIT, True)


def test_event_on_match_is_reported() -> None:
    assert evaluate(policy(rx_filter(event_on_match=True)), tcp_in()).event is True


def test_source_network_matches_addresses_inside_it() -> None:
    f = rx_filter(src=ip_network("10.0.0.0/24"))
    assert (
        matches(f, tcp_in(src=ip_address("10.0.0.200"))),
        matches(f, tcp_in(src=ip_address("10.0.1.1"))),
    ) == (
        True,
        False,
    )


def test_destination_network_matches_addresses_inside_it() -> None:
    f = IPHeaderFilter(direction=TX, profile=FilterProfile.PASS, dst=ip_network("10.0.0.5/32"))
    assert (matches(f, tcp_in().reply()), matches(f, Packet.ip(TX, 6, dst=ip_address("10.0.0.6")))) == (
        True,
        False,
    )


def test_port_range_is_inclusive_at_both_ends() -> None:
    f = rx_filter(protocol=IPProtocol.TCP, src_ports=PortRange(50120, 50124))
    assert [matches(f, tcp_in(p)) for p in (50119, 50120, 50124, 50125)] == [False, True, True, False]


def test_unknown_port_does_not_match_a_port_range() -> None:
    assert matches(rx_filter(protocol=IPProtocol.TCP, src_ports=PortRange(0, 65535)), tcp_in(None)) is False


def test_unknown_address_does_not_match_a_network() -> None:
    assert matches(rx_filter(src=ip_network("10.0.0.0/8")), tcp_in(src=None)) is False


def test_all_ones_network_does_not_match_an_unknown_address() -> None:
    assert matches(rx_filter(src=ip_network("255.255.255.255/32")), tcp_in(src=None)) is False


def test_zero_prefix_network_matches_an_unknown_address() -> None:
    assert matches(rx_filter(src=ip_network("0.0.0.0/0")), tcp_in(src=None)) is True


def test_unconstrained_filter_matches_unknown_fields() -> None:
    assert matches(rx_filter(), Packet(RX)) is True


def test_protocol_any_matches_every_protocol() -> None:
    f = rx_filter(protocol=IPProtocol.ANY)
    assert all(matches(f, Packet.ip(RX, p)) for p in (1, 6, 17, 47))


def test_specific_protocol_does_not_match_another() -> None:
    assert matches(rx_filter(protocol=IPProtocol.UDP), tcp_in()) is False


def test_ipv4_filter_does_not_match_ipv6_packets() -> None:
    assert matches(rx_filter(), Packet.ip(RX, IPProtocol.TCP, src=ip_address("fd00::5"))) is False


def test_ipv6_filter_matches_ipv6_packets() -> None:
    f = rx_filter(ip_version=6, src=ip_network("fd00::/8"))
    assert matches(f, Packet.ip(RX, IPProtocol.TCP, src=ip_address("fd00::5"))) is True


def test_ethernet_filter_matches_its_ethertype() -> None:
    arp = EthernetFilter(direction=RX, profile=FilterProfile.PASS, ethertype=EtherType.ARP)
    assert (matches(arp, Packet(RX, EtherType.ARP)), matches(arp, tcp_in())) == (True, False)


def test_ethernet_filter_for_ipv4_matches_ip_packets() -> None:
    ipv4 = EthernetFilter(direction=RX, profile=FilterProfile.DROP, ethertype=EtherType.IPV4)
    assert matches(ipv4, tcp_in()) is True


def test_ip_filter_does_not_match_arp() -> None:
    assert matches(rx_filter(), Packet(RX, EtherType.ARP)) is False


def test_anti_spoofing_drops_transmitted_packets_from_foreign_sources() -> None:
    spoofed = Packet.ip(TX, IPProtocol.TCP, src=ip_address("10.9.9.9"), dst=MANAGER)
    v = evaluate(policy(tx=DefaultAction(), anti_spoofing=True), spoofed, host_addresses={HOST})
    assert (v.action, v.anti_spoofing, v.filter_index) == (Action.DROP, True, None)


def test_anti_spoofing_passes_the_hosts_own_source() -> None:
    own = Packet.ip(TX, IPProtocol.TCP, src=HOST, dst=MANAGER)
    assert evaluate(policy(tx=DefaultAction(), anti_spoofing=True), own, host_addresses={HOST}).passes


def test_anti_spoofing_needs_the_host_addresses() -> None:
    spoofed = Packet.ip(TX, IPProtocol.TCP, src=ip_address("10.9.9.9"), dst=MANAGER)
    assert evaluate(policy(tx=DefaultAction(), anti_spoofing=True), spoofed).passes


def test_anti_spoofing_is_off_unless_the_policy_enables_it() -> None:
    spoofed = Packet.ip(TX, IPProtocol.TCP, src=ip_address("10.9.9.9"), dst=MANAGER)
    assert evaluate(policy(tx=DefaultAction()), spoofed, host_addresses={HOST}).passes


def test_anti_spoofing_ignores_received_packets() -> None:
    assert evaluate(policy(rx=DefaultAction(), anti_spoofing=True), tcp_in(), host_addresses={HOST}).passes


def test_compiled_policy_explains_a_filter_verdict() -> None:
    compiled = compile_policy(policy(rx_filter(FilterProfile.DROP, protocol=IPProtocol.TCP)))
    assert (
        compiled.explain(compiled.evaluate(tcp_in()), RX)
        == "filters[0] (receive drop: IPv4 tcp from any to any)"
    )


def test_compiled_policy_explains_the_default() -> None:
    compiled = compile_policy(policy())
    assert compiled.explain(compiled.evaluate(tcp_in()), RX) == "default receive action drop"


# -- properties -------------------------------------------------------------------------------------

directions = st.sampled_from(FilterDirection)
ports = st.none() | st.integers(0, 65535)
v4 = st.none() | st.integers(0, 2**32 - 1).map(IPv4Address)
v6 = st.none() | st.integers(0, 2**128 - 1).map(IPv6Address)
protocols = st.sampled_from([1, 6, 17, 58, 47])


@st.composite
def packets(draw: st.DrawFn) -> Packet:
    kind = draw(st.sampled_from(["v4", "v6", "arp"]))
    if kind == "arp":
        return Packet(draw(directions), EtherType.ARP)
    addrs = v4 if kind == "v4" else v6
    return Packet.ip(
        draw(directions),
        draw(protocols),
        src=draw(addrs),
        dst=draw(addrs),
        src_port=draw(ports),
        dst_port=draw(ports),
        version=4 if kind == "v4" else 6,
    )


@st.composite
def filters(draw: st.DrawFn) -> Filter:
    direction, profile = draw(directions), draw(st.sampled_from([p for p in FilterProfile if p != 2]))
    if draw(st.booleans()):
        return EthernetFilter(
            direction=direction, profile=profile, ethertype=draw(st.sampled_from(list(EtherType)))
        )
    version = draw(st.sampled_from([4, 6]))
    bits = 32 if version == 4 else 128
    address = IPv4Address if version == 4 else IPv6Address
    net = st.none() | st.builds(
        lambda a, p: ip_network((address(a), p), strict=False),
        st.integers(0, 2**bits - 1),
        st.integers(0, bits),
    )
    protocol = draw(st.sampled_from([IPProtocol.ANY, 1, 6, 17, 58]))
    ranges = st.none() | st.tuples(st.integers(0, 65535), st.integers(0, 65535)).map(
        lambda t: PortRange(*sorted(t))
    )
    tcp_udp = protocol in (6, 17)
    return IPHeaderFilter(
        direction=direction,
        profile=profile,
        ip_version=version,
        protocol=protocol,
        src=draw(net),
        dst=draw(net),
        src_ports=draw(ranges) if tcp_udp else None,
        dst_ports=draw(ranges) if tcp_udp else None,
    )


@given(packets())
def test_policy_without_filters_and_default_pass_passes_everything(packet: Packet) -> None:
    v = evaluate(Policy(name="open"), packet)
    assert (v.action, v.filter_index) == (Action.PASS, None)


@given(packets())
def test_policy_without_filters_and_default_drop_drops_everything(packet: Packet) -> None:
    assert evaluate(policy(), packet).action is Action.DROP


@given(st.lists(filters(), max_size=12), packets())
def test_verdict_names_the_first_filter_that_matches(fs: list[Filter], packet: Packet) -> None:
    expected = next((i for i, f in enumerate(fs) if matches(f, packet)), None)
    assert evaluate(policy(*fs), packet).filter_index == expected


@given(st.lists(filters(), max_size=12), packets())
def test_a_matching_filter_put_first_decides(fs: list[Filter], packet: Packet) -> None:
    first = EthernetFilter(
        direction=packet.direction, profile=FilterProfile.DROP_WITH_STATISTICS, ethertype=packet.ethertype
    )
    v = evaluate(policy(first, *fs, tx=DefaultAction(), rx=DefaultAction()), packet)
    assert (v.action, v.filter_index, v.counted) == (Action.DROP, 0, True)


@given(st.lists(filters(), max_size=12), packets())
def test_filters_of_the_other_direction_never_change_a_verdict(fs: list[Filter], packet: Packet) -> None:
    same = [f for f in fs if f.direction is packet.direction]
    before = evaluate(policy(*same), packet)
    after = evaluate(policy(*fs), packet)
    assert (before.action, before.counted, before.event) == (after.action, after.counted, after.event)


@given(st.lists(filters(), max_size=12), st.lists(packets(), max_size=5))
def test_compiled_policy_agrees_with_evaluate(fs: list[Filter], pkts: list[Packet]) -> None:
    compiled = CompiledPolicy(policy(*fs))
    assert [compiled.evaluate(p) for p in pkts] == [evaluate(policy(*fs), p) for p in pkts]
