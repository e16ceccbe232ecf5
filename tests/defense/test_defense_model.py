"""amtkit.defense.model: AMT values, field validation, limits."""

from __future__ import annotations

from ipaddress import ip_address, ip_network

import pytest

from amtkit.defense.model import (
    MAX_FILTERS,
    MAX_POLICIES,
    Action,
    DefaultAction,
    EthernetFilter,
    EtherType,
    FilterDirection,
    FilterProfile,
    InvalidFilterError,
    IPHeaderFilter,
    IPProtocol,
    LimitError,
    Packet,
    Policy,
    PortRange,
    format_port_list,
    parse_port_list,
    validate_limits,
)

TX, RX = FilterDirection.TRANSMIT, FilterDirection.RECEIVE


def ip_filter(**fields: object) -> IPHeaderFilter:
    fields.setdefault("direction", RX)
    fields.setdefault("profile", FilterProfile.DROP)
    return IPHeaderFilter(**fields)  # type: ignore[arg-type]


def test_filter_profile_values_are_amts() -> None:
    assert [(p.name, p.value) for p in FilterProfile] == [
        ("PASS_WITH_STATISTICS", 0),
        ("DROP_WITH_STATISTICS", 1),
        ("RATE_LIMIT", 2),
        ("PASS", 3),
        ("DROP", 4),
    ]


@pytest.mark.parametrize(
    ("profile", "action", "counted"),
    [
        (FilterProfile.PASS_WITH_STATISTICS, Action.PASS, True),
        (FilterProfile.DROP_WITH_STATISTICS, Action.DROP, True),
        (FilterProfile.RATE_LIMIT, Action.RATE_LIMIT, False),
        (FilterProfile.PASS, Action.PASS, False),
        (FilterProfile.DROP, Action.DROP, False),
    ],
)
def test_filter_profile_maps_to_action_and_counting(
    profile: FilterProfile, action: Action, counted: bool
) -> None:
    assert (profile.action, profile.counted) == (action, counted)


def test_filter_direction_values_are_amts() -> None:
    assert (FilterDirection.TRANSMIT.value, FilterDirection.RECEIVE.value) == (0, 1)


def test_direction_opposite_flips() -> None:
    assert (TX.opposite, RX.opposite) == (RX, TX)


def test_ip_protocol_numbers_are_ianas() -> None:
    assert (IPProtocol.ICMP, IPProtocol.TCP, IPProtocol.UDP, IPProtocol.ICMPV6) == (1, 6, 17, 58)


def test_ip_protocol_any_is_not_a_protocol_number() -> None:
    assert IPProtocol.ANY > 255


def test_ethertypes_are_ieees() -> None:
    assert (EtherType.IPV4, EtherType.ARP, EtherType.IPV6) == (0x0800, 0x0806, 0x86DD)


def test_parse_port_list_reads_ports_and_ranges_in_order() -> None:
    assert parse_port_list("443, 50120-50124,80") == (
        PortRange(443, 443),
        PortRange(50120, 50124),
        PortRange(80, 80),
    )


def test_format_port_list_inverts_parse() -> None:
    assert format_port_list(parse_port_list("443,50120-50124")) == "443,50120-50124"


def test_port_above_65535_is_refused_with_its_value() -> None:
    with pytest.raises(InvalidFilterError, match=r"^port 70000 out of range \(0-65535\)$"):
        parse_port_list("70000")


def test_reversed_port_range_is_refused() -> None:
    with pytest.raises(InvalidFilterError, match="reversed"):
        PortRange(10, 9)


@pytest.mark.parametrize("text", ["", "44x", "1-", "-5", "1-2-3", "1;2", "123456"])
def test_malformed_port_list_is_refused(text: str) -> None:
    with pytest.raises(InvalidFilterError, match="is not a port or port range"):
        parse_port_list(text)


def test_port_range_contains_its_bounds() -> None:
    r = PortRange(50120, 50124)
    assert (50119 in r, 50120 in r, 50124 in r, 50125 in r, len(r)) == (False, True, True, False, 5)


def test_ports_need_tcp_or_udp() -> None:
    with pytest.raises(InvalidFilterError, match="port ranges need protocol tcp or udp, not icmp"):
        ip_filter(protocol=IPProtocol.ICMP, dst_ports=PortRange.single(7))


def test_address_of_the_other_ip_version_is_refused() -> None:
    with pytest.raises(InvalidFilterError, match="src fd00::/8 is not an IPv4 network"):
        ip_filter(src=ip_network("fd00::/8"))


def test_ip_version_other_than_4_or_6_is_refused() -> None:
    with pytest.raises(InvalidFilterError, match="ip_version must be 4 or 6"):
        ip_filter(ip_version=5)


def test_protocol_number_above_255_is_refused() -> None:
    with pytest.raises(InvalidFilterError, match="protocol 300 out of range"):
        ip_filter(protocol=300)


def test_unnamed_protocol_numbers_are_accepted() -> None:
    assert ip_filter(protocol=47).protocol == 47


def test_rate_limit_profile_needs_a_rate() -> None:
    with pytest.raises(InvalidFilterError, match="needs rate_limit"):
        ip_filter(profile=FilterProfile.RATE_LIMIT)


def test_rate_is_refused_without_rate_limit_profile() -> None:
    with pytest.raises(InvalidFilterError, match="only meaningful with profile RATE_LIMIT"):
        ip_filter(profile=FilterProfile.PASS, rate_limit=10)


def test_plain_int_direction_is_refused() -> None:
    with pytest.raises(InvalidFilterError, match="direction must be a FilterDirection"):
        ip_filter(direction=1)


def test_ethertype_above_16_bits_is_refused() -> None:
    with pytest.raises(InvalidFilterError, match="out of range"):
        EthernetFilter(direction=TX, profile=FilterProfile.PASS, ethertype=0x10000)


def test_ip_filter_describes_itself() -> None:
    f = ip_filter(
        protocol=IPProtocol.TCP, src=ip_network("10.0.0.5/32"), src_ports=PortRange(443, 443), name="mgmt"
    )
    assert f.describe() == "receive drop: IPv4 tcp from 10.0.0.5 port 443 to any [mgmt]"


def test_rate_limited_filter_describes_its_rate() -> None:
    f = ip_filter(
        profile=FilterProfile.RATE_LIMIT, rate_limit=100, dst=ip_network("10.0.0.0/8"), event_on_match=True
    )
    assert f.describe() == "receive rate-limit 100 pkt/s: IPv4 from any to 10.0.0.0/8 (event)"


def test_ethernet_filter_describes_itself() -> None:
    f = EthernetFilter(direction=TX, profile=FilterProfile.PASS_WITH_STATISTICS, ethertype=EtherType.ARP)
    assert f.describe() == "transmit pass+count: EtherType 0x0806 (ARP)"


def test_default_action_maps_drop_flag_to_action() -> None:
    assert (DefaultAction(drop=True).action, DefaultAction().action) == (Action.DROP, Action.PASS)


def test_policy_stores_a_filter_list_as_tuple() -> None:
    f = ip_filter()
    assert Policy(name="p", filters=[f]).filters == (f,)  # type: ignore[arg-type]


def test_policy_needs_a_name() -> None:
    with pytest.raises(InvalidFilterError, match="needs a name"):
        Policy(name="")


def test_policy_timeout_below_one_second_is_refused() -> None:
    with pytest.raises(InvalidFilterError, match="timeout 0 s out of range"):
        Policy(name="p", timeout=0)


def test_policy_precedence_above_32_bits_is_refused() -> None:
    with pytest.raises(InvalidFilterError, match="precedence"):
        Policy(name="p", precedence=2**32)


def test_policy_default_for_picks_the_direction() -> None:
    p = Policy(name="p", transmit_default=DefaultAction(drop=True), receive_default=DefaultAction(count=True))
    assert (p.default_for(TX), p.default_for(RX)) == (DefaultAction(drop=True), DefaultAction(count=True))


def test_amt_limits() -> None:
    assert (MAX_POLICIES, MAX_FILTERS) == (8, 80)


def _distinct_filters(n: int) -> tuple[IPHeaderFilter, ...]:
    return tuple(ip_filter(protocol=IPProtocol.TCP, dst_ports=PortRange.single(i)) for i in range(n))


def test_validate_limits_accepts_exactly_the_limits() -> None:
    filters = _distinct_filters(MAX_FILTERS)
    validate_limits([Policy(name=f"p{i}", filters=filters) for i in range(MAX_POLICIES)])


def test_validate_limits_refuses_a_ninth_policy() -> None:
    with pytest.raises(LimitError) as info:
        validate_limits([Policy(name=f"p{i}") for i in range(MAX_POLICIES + 1)])
    assert (info.value.what, info.value.limit, info.value.actual) == ("policies", 8, 9)
    assert str(info.value) == "9 policies; AMT holds at most 8"


def test_validate_limits_refuses_81_filters_in_one_policy() -> None:
    with pytest.raises(LimitError, match=r"81 filters in policy 'big'; AMT holds at most 80"):
        validate_limits([Policy(name="big", filters=_distinct_filters(81))])


def test_validate_limits_counts_distinct_filters_over_all_policies() -> None:
    filters = _distinct_filters(81)
    with pytest.raises(LimitError, match=r"^81 filters; AMT holds at most 80$"):
        validate_limits([Policy(name="a", filters=filters[:41]), Policy(name="b", filters=filters[41:])])


def test_packet_ip_version_follows_ethertype() -> None:
    assert (
        Packet(TX).ip_version,
        Packet(TX, EtherType.IPV6).ip_version,
        Packet(TX, EtherType.ARP).ip_version,
    ) == (
        4,
        6,
        None,
    )


def test_packet_ip_takes_version_from_addresses() -> None:
    assert Packet.ip(TX, IPProtocol.TCP, dst=ip_address("fd00::1")).ethertype == EtherType.IPV6


def test_non_ip_packet_with_ports_is_refused() -> None:
    with pytest.raises(InvalidFilterError, match="is not IP"):
        Packet(TX, EtherType.ARP, dst_port=80)


def test_packet_address_of_the_other_version_is_refused() -> None:
    with pytest.raises(InvalidFilterError, match="dst fd00::1 is not an IPv4 address"):
        Packet(TX, EtherType.IPV4, IPProtocol.TCP, dst=ip_address("fd00::1"))


def test_packet_reply_swaps_direction_addresses_and_ports() -> None:
    out = Packet.ip(
        TX,
        IPProtocol.TCP,
        src=ip_address("10.0.0.9"),
        dst=ip_address("10.0.0.5"),
        src_port=40000,
        dst_port=443,
    )
    assert out.reply() == Packet.ip(
        RX,
        IPProtocol.TCP,
        src=ip_address("10.0.0.5"),
        dst=ip_address("10.0.0.9"),
        src_port=443,
        dst_port=40000,
    )


def test_packet_describes_itself() -> None:
    p = Packet.ip(TX, IPProtocol.TCP, dst=ip_address("fd00::5"), dst_port=443)
    assert p.describe() == "transmit tcp any -> [fd00::5]:443"
