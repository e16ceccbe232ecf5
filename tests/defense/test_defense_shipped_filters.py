"""The filter sets shipped in filters/: valid, self-consistent, and they quarantine without locking out."""

from __future__ import annotations

from ipaddress import IPv4Address, ip_address, ip_network
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from amtkit.defense.cbfilters import SCHEMA_PATH, FilterSet, PeerRole, parse, parse_bytes, to_bytes
from amtkit.defense.engine import (
    DEFAULT_MANAGER_PORTS,
    check_lockout,
    evaluate,
    parse_manager_spec,
    remediation_flows,
)
from amtkit.defense.model import MAX_FILTERS, FilterDirection, IPProtocol, Packet

FILTERS = Path(__file__).resolve().parents[2] / "filters"
SHIPPED = sorted(FILTERS.glob("*.xml"))
PLACEHOLDERS = ip_network("192.0.2.0/24")  # TEST-NET-1, RFC 5737
MANAGER = ip_address("10.20.30.40")
TX, RX = FilterDirection.TRANSMIT, FilterDirection.RECEIVE


def test_the_expected_files_ship() -> None:
    assert {p.name for p in SHIPPED} == {
        "CBFilters.xml",
        "ping.xml",
        "quarantine-strict.xml",
        "quarantine-with-packages.xml",
    }


def test_the_parser_uses_the_schema_published_in_filters() -> None:
    assert SCHEMA_PATH == (FILTERS / "CBFilters.xsd").resolve()


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_file_parses_within_amt_limits(path: Path) -> None:
    assert 0 < len(parse(path).to_policy().filters) <= MAX_FILTERS


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_file_keeps_its_own_peers_reachable(path: Path) -> None:
    fs = parse(path)
    assert check_lockout(fs.to_policy(), fs.required_flows()) == []


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_file_with_manager_override_keeps_the_manager_reachable(path: Path) -> None:
    spec = parse_manager_spec("10.20.30.40")
    fs = parse(path).with_manager(spec.address, spec.ports)
    assert check_lockout(fs.to_policy(), remediation_flows(spec.address, spec.ports)) == []


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_file_manager_is_a_documentation_placeholder(path: Path) -> None:
    managers = [p for p in parse(path).peers if p.role is PeerRole.MANAGEMENT]
    assert managers and all(p.address.subnet_of(PLACEHOLDERS) for p in managers)  # type: ignore[arg-type]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_file_drops_everything_else_by_default(path: Path) -> None:
    fs = parse(path)
    assert fs.transmit_default.drop and fs.receive_default.drop


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_file_round_trips(path: Path) -> None:
    fs = parse(path)
    assert parse_bytes(to_bytes(fs)) == fs


def default_set() -> FilterSet:
    return parse(FILTERS / "CBFilters.xml").with_manager(MANAGER)


def test_default_file_gives_a_quarantined_machine_dhcp_dns_and_its_manager() -> None:
    flows = remediation_flows(MANAGER, DEFAULT_MANAGER_PORTS, dhcp=True, dns=True)
    assert check_lockout(default_set().to_policy(), flows) == []


def test_default_file_blocks_the_web() -> None:
    web = Packet.ip(TX, IPProtocol.TCP, dst=ip_address("203.0.113.80"), dst_port=443)
    assert not evaluate(default_set().to_policy(), web).passes


def test_default_file_blocks_inbound_smb() -> None:
    smb = Packet.ip(RX, IPProtocol.TCP, src=ip_address("203.0.113.9"), src_port=50000, dst_port=445)
    assert not evaluate(default_set().to_policy(), smb).passes


def test_strict_file_blocks_dns() -> None:
    fs = parse(FILTERS / "quarantine-strict.xml").with_manager(MANAGER)
    assert check_lockout(
        fs.to_policy(), remediation_flows(MANAGER, (443,), dns=True, neighbor_discovery=False)
    )


def test_ping_file_lets_ping_through_and_nothing_else() -> None:
    policy = parse(FILTERS / "ping.xml").with_manager(MANAGER).to_policy()
    echo = Packet.ip(RX, IPProtocol.ICMP, src=ip_address("203.0.113.9"))
    dns = Packet.ip(TX, IPProtocol.UDP, dst=ip_address("203.0.113.53"), dst_port=53)
    assert (evaluate(policy, echo).passes, evaluate(policy, dns).passes) == (True, False)


def test_packages_file_lifts_itself_after_four_hours() -> None:
    assert parse(FILTERS / "quarantine-with-packages.xml").to_policy().timeout == 4 * 3600


manager_ports = st.sampled_from([443, *range(50120, 50125)])
host_ports = st.none() | st.integers(0, 65535)
hosts = st.none() | st.integers(0, 2**32 - 1).map(IPv4Address)


@given(manager_ports, host_ports, hosts, st.sampled_from(FilterDirection))
def test_any_packet_to_or_from_a_manager_port_passes_the_default_file(
    port: int, ephemeral: int | None, host: IPv4Address | None, direction: FilterDirection
) -> None:
    out = Packet.ip(TX, IPProtocol.TCP, src=host, dst=MANAGER, src_port=ephemeral, dst_port=port)
    packet = out if direction is TX else out.reply()
    own = {host} if host is not None else set()
    assert evaluate(default_set().to_policy(), packet, host_addresses=own).passes


@given(st.integers(0, 2**32 - 1).map(IPv4Address), st.integers(0, 65535))
def test_any_tcp_to_another_machine_off_port_53_is_dropped_by_the_default_file(
    dst: IPv4Address, port: int
) -> None:
    packet = Packet.ip(TX, IPProtocol.TCP, dst=dst, dst_port=port)
    allowed = dst == MANAGER and port in (443, *range(50120, 50125))
    assert evaluate(default_set().to_policy(), packet).passes is (allowed or port == 53)
