"""amtkit.defense.engine: lockout check, required flows, manager specs."""

from __future__ import annotations

from ipaddress import ip_address, ip_network

import pytest

from amtkit.defense.engine import (
    DEFAULT_MANAGER_PORTS,
    ManagerSpec,
    ManagerSpecError,
    check_lockout,
    parse_manager_spec,
    peer_flows,
    remediation_flows,
)
from amtkit.defense.model import (
    MAX_FILTERS,
    Action,
    DefaultAction,
    EthernetFilter,
    EtherType,
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
DROP_ALL = DefaultAction(drop=True)


def closed(*filters: IPHeaderFilter | EthernetFilter) -> Policy:
    return Policy(name="q", filters=filters, transmit_default=DROP_ALL, receive_default=DROP_ALL)


def manager_filters(ports: PortRange) -> tuple[IPHeaderFilter, IPHeaderFilter]:
    net = ip_network(MANAGER)
    return (
        IPHeaderFilter(
            direction=TX, profile=FilterProfile.PASS, protocol=IPProtocol.TCP, dst=net, dst_ports=ports
        ),
        IPHeaderFilter(
            direction=RX, profile=FilterProfile.PASS, protocol=IPProtocol.TCP, src=net, src_ports=ports
        ),
    )


def test_policy_that_allows_every_flow_blocks_nothing() -> None:
    flows = list(peer_flows(MANAGER, IPProtocol.TCP, (443,)))
    assert check_lockout(closed(*manager_filters(PortRange.single(443))), flows) == []


def test_blocked_reply_names_the_default_receive_action() -> None:
    tx_only = closed(manager_filters(PortRange.single(443))[0])
    [blocked] = check_lockout(tx_only, peer_flows(MANAGER, IPProtocol.TCP, (443,)))
    assert blocked.flow.direction is RX
    assert blocked.rule == "default receive action drop"
    assert str(blocked) == "receive tcp 10.0.0.5:443 -> any: blocked by default receive action drop"


def test_blocked_flow_names_the_filter_index_and_description() -> None:
    drop_https = IPHeaderFilter(
        direction=TX, profile=FilterProfile.DROP, protocol=IPProtocol.TCP, dst_ports=PortRange.single(443)
    )
    policy = closed(drop_https, *manager_filters(PortRange.single(443)))
    [blocked] = check_lockout(policy, peer_flows(MANAGER, IPProtocol.TCP, (443,)))
    assert (blocked.verdict.filter_index, blocked.verdict.action) == (0, Action.DROP)
    assert blocked.rule == "filters[0] (transmit drop: IPv4 tcp from any to any port 443)"


def test_blocked_flows_come_in_the_order_given() -> None:
    flows = list(peer_flows(MANAGER, IPProtocol.TCP, (443, 80)))
    assert [b.flow for b in check_lockout(closed(), flows)] == flows


def test_rate_limited_flow_is_not_blocked() -> None:
    limited = EthernetFilter(
        direction=TX, profile=FilterProfile.RATE_LIMIT, rate_limit=5, ethertype=EtherType.IPV4
    )
    flow = Packet.ip(TX, IPProtocol.TCP, dst=MANAGER, dst_port=443)
    assert check_lockout(closed(limited), [flow]) == []


def test_anti_spoofing_block_is_explained() -> None:
    policy = Policy(name="p", anti_spoofing=True)
    flow = Packet.ip(TX, IPProtocol.TCP, src=ip_address("10.9.9.9"), dst=MANAGER)
    [blocked] = check_lockout(policy, [flow], host_addresses={ip_address("10.0.0.9")})
    assert blocked.rule == "anti-spoofing (source is not one of the host's addresses)"


def test_peer_flows_give_each_port_both_ways() -> None:
    flows = list(peer_flows(MANAGER, IPProtocol.TCP, (PortRange(50120, 50121),)))
    assert flows == [
        Packet.ip(TX, IPProtocol.TCP, dst=MANAGER, dst_port=50120),
        Packet.ip(RX, IPProtocol.TCP, src=MANAGER, src_port=50120),
        Packet.ip(TX, IPProtocol.TCP, dst=MANAGER, dst_port=50121),
        Packet.ip(RX, IPProtocol.TCP, src=MANAGER, src_port=50121),
    ]


def test_peer_flows_put_local_ports_on_the_host_side() -> None:
    out, back = peer_flows(None, IPProtocol.UDP, (67,), (68,))
    assert (out.src_port, out.dst_port, back.src_port, back.dst_port) == (68, 67, 67, 68)


def test_peer_flows_sample_large_ranges_at_ends_and_middle() -> None:
    flows = list(peer_flows(MANAGER, IPProtocol.TCP, (PortRange(1, 65535),)))
    assert [f.dst_port for f in flows if f.direction is TX] == [1, 32768, 65535]


def test_remediation_flows_default_to_https_and_task_server_ports_with_arp() -> None:
    flows = list(remediation_flows(MANAGER))
    assert sorted({f.dst_port for f in flows if f.direction is TX and f.dst_port}) == [
        443,
        *range(50120, 50125),
    ]
    assert [f for f in flows if f.ethertype == EtherType.ARP] == [
        Packet(TX, EtherType.ARP),
        Packet(RX, EtherType.ARP),
    ]


def test_remediation_flows_include_the_replies() -> None:
    flows = list(remediation_flows(MANAGER, (443,), neighbor_discovery=False))
    assert flows == [
        Packet.ip(TX, IPProtocol.TCP, dst=MANAGER, dst_port=443),
        Packet.ip(RX, IPProtocol.TCP, src=MANAGER, src_port=443),
    ]


def test_remediation_flows_use_the_host_address_when_given() -> None:
    host = ip_address("10.0.0.9")
    out, back = remediation_flows(MANAGER, (443,), host=host, neighbor_discovery=False)
    assert (out.src, back.dst) == (host, host)


def test_remediation_flows_add_manager_initiated_connections() -> None:
    flows = list(remediation_flows(MANAGER, (443,), host_ports=(8080,), neighbor_discovery=False))
    assert Packet.ip(RX, IPProtocol.TCP, src=MANAGER, dst_port=8080) in flows


def dns_flows(flows: list[Packet]) -> list[Packet]:
    return [f for f in flows if 53 in (f.src_port, f.dst_port)]


def test_remediation_flows_add_dhcp() -> None:
    flows = list(remediation_flows(MANAGER, (443,), dhcp=True, neighbor_discovery=False))
    assert [f for f in flows if f.protocol == IPProtocol.UDP] == [
        Packet.ip(TX, IPProtocol.UDP, src_port=68, dst_port=67),
        Packet.ip(RX, IPProtocol.UDP, src_port=67, dst_port=68),
    ]


def test_remediation_flows_add_dns_over_udp_and_tcp() -> None:
    flows = dns_flows(list(remediation_flows(MANAGER, (443,), dns=True)))
    assert [(f.direction, f.protocol) for f in flows] == [(TX, 17), (RX, 17), (TX, 6), (RX, 6)]
    assert [f.dst_port for f in flows if f.direction is TX] == [53, 53]


def test_remediation_flows_add_dns_for_named_servers() -> None:
    server = ip_address("fd00::53")
    flows = dns_flows(list(remediation_flows(MANAGER, (443,), dns=[server])))
    assert {f.dst for f in flows if f.direction is TX} == {server}


def test_remediation_flows_for_ipv6_manager_need_icmpv6() -> None:
    flows = list(remediation_flows(ip_address("fd00::5"), (443,)))
    icmp = [(f.direction, f.ethertype) for f in flows if f.protocol == IPProtocol.ICMPV6]
    assert icmp == [(TX, EtherType.IPV6), (RX, EtherType.IPV6)]


def test_remediation_flows_refuse_host_of_other_ip_version() -> None:
    with pytest.raises(ManagerSpecError, match="different IP versions"):
        list(remediation_flows(MANAGER, host=ip_address("fd00::9")))


def test_manager_spec_with_ports() -> None:
    assert parse_manager_spec("10.0.0.5:443,50120-50124") == ManagerSpec(
        MANAGER, (PortRange(443, 443), PortRange(50120, 50124))
    )


def test_manager_spec_without_ports_gets_the_default_ports() -> None:
    spec = parse_manager_spec("10.0.0.5")
    assert (spec.ports, DEFAULT_MANAGER_PORTS) == ((PortRange(443, 443), PortRange(50120, 50124)),) * 2


def test_manager_spec_bracketed_ipv6_with_ports() -> None:
    assert parse_manager_spec("[fd00::5]:443") == ManagerSpec(ip_address("fd00::5"), (PortRange(443, 443),))


def test_manager_spec_bare_ipv6_without_ports() -> None:
    assert parse_manager_spec("fd00::5") == ManagerSpec(ip_address("fd00::5"))


@pytest.mark.parametrize("spec", ["10.0.0.5:443,50120-50124", "[fd00::5]:443", "192.0.2.1:8080"])
def test_manager_spec_str_reads_back(spec: str) -> None:
    assert str(parse_manager_spec(spec)) == spec


def test_manager_spec_host_name_is_refused() -> None:
    with pytest.raises(ManagerSpecError, match="'mgmt.example' is not an IP address"):
        parse_manager_spec("mgmt.example:443")


def test_manager_spec_port_out_of_range_is_refused() -> None:
    with pytest.raises(ManagerSpecError, match=r"^'10.0.0.5:70000': port 70000 out of range \(0-65535\)$"):
        parse_manager_spec("10.0.0.5:70000")


def test_manager_spec_unclosed_bracket_is_refused() -> None:
    with pytest.raises(ManagerSpecError, match=r"expected \[IPv6\]:PORTS"):
        parse_manager_spec("[fd00::5:443")


def _eighty_filter_policy() -> Policy:
    """78 filters no required flow matches (scanned in full every time), then the manager's pair."""
    decoys = [
        IPHeaderFilter(
            direction=FilterDirection(i % 2),
            profile=FilterProfile.DROP,
            protocol=IPProtocol.TCP,
            src=ip_network(f"172.16.{i}.0/24"),
            dst_ports=PortRange.single(1000 + i),
        )
        for i in range(MAX_FILTERS - 2)
    ]
    return closed(*decoys, *manager_filters(PortRange(0, 65535)))


def test_lockout_check_on_80_filters_scans_past_every_decoy() -> None:
    """The manager's flows pass the pair at the end of 80 filters; what no filter matches (DHCP, DNS,
    ARP) is blamed on the default action, never on a decoy. How fast this is: bench/defense.py."""
    policy = _eighty_filter_policy()
    flows = list(remediation_flows(MANAGER, dhcp=True, dns=True))
    blocked = check_lockout(policy, flows)
    assert len(policy.filters) == MAX_FILTERS
    assert [str(b) for b in blocked] == [
        "transmit udp any:68 -> any:67: blocked by default transmit action drop",
        "receive udp any:67 -> any:68: blocked by default receive action drop",
        "transmit udp any -> any:53: blocked by default transmit action drop",
        "receive udp any:53 -> any: blocked by default receive action drop",
        "transmit tcp any -> any:53: blocked by default transmit action drop",
        "receive tcp any:53 -> any: blocked by default receive action drop",
        "transmit EtherType 0x0806 (ARP): blocked by default transmit action drop",
        "receive EtherType 0x0806 (ARP): blocked by default receive action drop",
    ]
