"""amtkit.defense.cbfilters: the CBFilters.xml format, its errors, hostile input and round trips."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amtkit.defense.cbfilters import (
    MAX_DOCUMENT_BYTES,
    CBFiltersError,
    Entry,
    FilterSet,
    Peer,
    PeerAllow,
    PeerRole,
    parse,
    parse_bytes,
    to_bytes,
    write,
)
from amtkit.defense.engine import check_lockout
from amtkit.defense.model import (
    DefaultAction,
    EthernetFilter,
    EtherType,
    FilterDirection,
    FilterProfile,
    IPHeaderFilter,
    IPNetwork,
    IPProtocol,
    LimitError,
    PortRange,
)

TX, RX = FilterDirection.TRANSMIT, FilterDirection.RECEIVE
HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
DEFAULTS = """  <defaults>
    <transmit action="drop" count="true"/>
    <receive action="drop"/>
  </defaults>"""


def doc(body: str = "", *, attrs: str = 'name="t"', head: str = HEAD, defaults: str = DEFAULTS) -> bytes:
    """A CBFilters document; ``body`` starts on line 7, after <defaults>."""
    return f'{head}<filterSet xmlns="urn:amtkit:cbfilters:1" {attrs}>\n{defaults}\n{body}\n</filterSet>\n'.encode()


def error_of(data: bytes, source: str = "filters/x.xml") -> CBFiltersError:
    with pytest.raises(CBFiltersError) as info:
        parse_bytes(data, source)
    return info.value


MANAGER_PEER = """  <peer name="mgmt" role="management" address="10.0.0.5">
    <allow protocol="tcp" remotePorts="443,50120-50124"/>
  </peer>"""


# -- reading ----------------------------------------------------------------------------------------


def test_minimal_document_has_defaults_and_nothing_else() -> None:
    fs = parse_bytes(doc())
    assert fs == FilterSet(
        name="t",
        transmit_default=DefaultAction(drop=True, count=True),
        receive_default=DefaultAction(drop=True),
    )


def test_settings_are_read() -> None:
    body = """  <description>  Repair
     quarantine </description>"""
    settings_ = """  <antiSpoofing enabled="true"/>
  <ping allow="1"/>
  <timeout seconds="3600"/>"""
    data = doc(settings_, attrs='name="q" precedence="90"', defaults=body + "\n" + DEFAULTS)
    fs = parse_bytes(data)
    assert (fs.name, fs.precedence, fs.description, fs.anti_spoofing, fs.ping, fs.timeout) == (
        "q",
        90,
        "Repair quarantine",
        True,
        True,
        3600,
    )


def test_peer_is_read_with_role_address_and_ports() -> None:
    [peer] = parse_bytes(doc(MANAGER_PEER)).entries
    assert peer == Peer(
        name="mgmt",
        role=PeerRole.MANAGEMENT,
        address=ip_network("10.0.0.5/32"),
        allow=(PeerAllow(IPProtocol.TCP, (PortRange(443, 443), PortRange(50120, 50124))),),
    )


def test_peer_role_defaults_to_other() -> None:
    [peer] = parse_bytes(doc('<peer name="p" address="10.1.0.0/16"><allow protocol="any"/></peer>')).entries
    assert isinstance(peer, Peer) and peer.role is PeerRole.OTHER


def test_ip_filter_attributes_are_read() -> None:
    body = (
        '<ipFilter name="no-smb" direction="receive" profile="dropWithStatistics" event="true" '
        'protocol="tcp" srcAddress="10.0.0.0/8" dstPorts="445"/>'
    )
    assert parse_bytes(doc(body)).entries == (
        IPHeaderFilter(
            name="no-smb",
            direction=RX,
            profile=FilterProfile.DROP_WITH_STATISTICS,
            event_on_match=True,
            protocol=IPProtocol.TCP,
            src=ip_network("10.0.0.0/8"),
            dst_ports=PortRange.single(445),
        ),
    )


def test_ip_filter_version_follows_its_address() -> None:
    [f] = parse_bytes(doc('<ipFilter direction="transmit" profile="pass" dstAddress="fd00::/8"/>')).entries
    assert isinstance(f, IPHeaderFilter) and f.ip_version == 6


def test_ip_filter_protocol_may_be_a_number() -> None:
    [f] = parse_bytes(doc('<ipFilter direction="transmit" profile="drop" protocol="47"/>')).entries
    assert isinstance(f, IPHeaderFilter) and f.protocol == 47


def test_rate_limit_filter_is_read() -> None:
    [f] = parse_bytes(doc('<ipFilter direction="receive" profile="rateLimit" rateLimit="100"/>')).entries
    assert isinstance(f, IPHeaderFilter) and (f.profile, f.rate_limit) == (FilterProfile.RATE_LIMIT, 100)


def test_direction_both_expands_to_transmit_then_receive() -> None:
    entries = parse_bytes(doc('<ethernetFilter direction="both" profile="pass" etherType="0x0806"/>')).entries
    assert entries == tuple(
        EthernetFilter(direction=d, profile=FilterProfile.PASS, ethertype=EtherType.ARP) for d in (TX, RX)
    )


def test_comments_are_ignored() -> None:
    assert parse_bytes(doc("<!-- nothing here -->")).entries == ()


# -- errors -----------------------------------------------------------------------------------------


def test_port_out_of_range_names_file_line_and_port() -> None:
    body = (
        '  <peer name="m" address="10.0.0.5">\n    <allow protocol="tcp" remotePorts="443,70000"/>\n  </peer>'
    )
    err = error_of(doc(body))
    assert str(err) == "filters/x.xml line 8: port 70000 out of range (0-65535)"
    assert (err.source, err.line, err.reason) == ("filters/x.xml", 8, "port 70000 out of range (0-65535)")


def test_schema_violation_names_the_line() -> None:
    err = error_of(doc('  <ipFilter direction="inbound" profile="drop"/>'))
    assert err.line == 7
    assert "attribute 'direction'" in err.reason and "inbound" in err.reason and "{urn" not in err.reason


def test_unknown_element_is_refused() -> None:
    err = error_of(doc("  <allowEverything/>"))
    assert (err.line, "allowEverything" in err.reason) == (7, True)


def test_missing_defaults_is_refused() -> None:
    assert "defaults" in error_of(doc(defaults="")).reason


def test_ports_on_icmp_are_refused() -> None:
    err = error_of(doc('\n<peer name="m" address="10.0.0.5"><allow protocol="icmp" remotePorts="7"/></peer>'))
    assert (err.line, err.reason) == (8, "port ranges need protocol tcp or udp, not icmp")


def test_rate_limit_profile_without_rate_is_refused() -> None:
    err = error_of(doc('<ipFilter direction="receive" profile="rateLimit"/>'))
    assert "needs rate_limit" in err.reason


def test_address_with_host_bits_suggests_the_network() -> None:
    err = error_of(doc('<peer name="m" address="10.0.0.5/24"><allow protocol="any"/></peer>'))
    assert err.reason == "address 10.0.0.5/24 has host bits set (did you mean 10.0.0.0/24?)"


def test_invalid_address_is_refused() -> None:
    err = error_of(doc('<peer name="m" address="10.0.0.300"><allow protocol="any"/></peer>'))
    assert err.reason == "address '10.0.0.300' is not an IP address or network"


def test_address_of_the_wrong_version_is_refused() -> None:
    err = error_of(
        doc('<ipFilter direction="receive" profile="drop" ipVersion="6" srcAddress="10.0.0.0/8"/>')
    )
    assert err.reason == "src 10.0.0.0/8 is not an IPv6 network"


def test_missing_namespace_is_explained() -> None:
    err = error_of(b'<filterSet name="t"/>')
    assert err.reason.startswith("root element must be filterSet in namespace urn:amtkit:cbfilters:1")


def test_malformed_xml_names_the_line() -> None:
    err = error_of(b'<?xml version="1.0"?>\n<filterSet xmlns="urn:amtkit:cbfilters:1">\n<oops>\n</filterSet>')
    assert err.line == 4 and "mismatch" in err.reason.lower()


def test_more_than_80_filters_is_refused_at_the_element_that_overflows() -> None:
    rules = "".join(
        f'<ipFilter direction="receive" profile="drop" protocol="tcp" dstPorts="{p}"/>\n' for p in range(81)
    )
    err = error_of(doc(rules))
    assert err.line == 7 + 80
    assert "more than 80 filters" in err.reason


def test_missing_file_is_a_cbfilters_error(tmp_path: Path) -> None:
    with pytest.raises(CBFiltersError, match="cannot read file"):
        parse(tmp_path / "absent.xml")


def test_error_without_line_names_the_source() -> None:
    assert str(CBFiltersError("bad", "f.xml")) == "f.xml: bad"


# -- hostile input ----------------------------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE filterSet [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<filterSet xmlns="urn:amtkit:cbfilters:1" name="t"><description>&lol9;</description></filterSet>
"""


def test_billion_laughs_is_refused() -> None:
    err = error_of(BILLION_LAUGHS)
    assert (err.reason, err.line) == ("DOCTYPE and entity declarations are not allowed", 2)


def test_external_entity_is_refused_without_reading_the_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    data = (
        f'<?xml version="1.0"?><!DOCTYPE filterSet [<!ENTITY x SYSTEM "{secret.as_uri()}">]>'
        '<filterSet xmlns="urn:amtkit:cbfilters:1" name="t"><description>&x;</description></filterSet>'
    ).encode()
    err = error_of(data)
    assert "DOCTYPE" in err.reason and "TOPSECRET" not in str(err)


def test_external_dtd_reference_is_refused() -> None:
    data = (
        b'<!DOCTYPE filterSet SYSTEM "http://203.0.113.1/x.dtd">\n<filterSet xmlns="urn:amtkit:cbfilters:1"/>'
    )
    assert error_of(data).reason == "DOCTYPE and entity declarations are not allowed"


def test_utf16_doctype_is_refused_too() -> None:
    data = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE filterSet><filterSet/>'.encode("utf-16")
    assert "DOCTYPE" in error_of(data).reason


def test_undeclared_entity_is_refused() -> None:
    assert "Entity 'x' not defined" in error_of(doc("<!-- --><description>&x;</description>")).reason


def test_oversized_document_is_refused_before_parsing() -> None:
    data = doc("<!--" + "x" * MAX_DOCUMENT_BYTES + "-->")
    assert error_of(data).reason == f"document is larger than {MAX_DOCUMENT_BYTES} bytes"


def test_oversized_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.xml"
    path.write_bytes(doc("<!--" + "x" * MAX_DOCUMENT_BYTES + "-->"))
    with pytest.raises(CBFiltersError, match="larger than"):
        parse(path)


def test_binary_garbage_is_refused() -> None:
    assert error_of(b"\x00\xff\xfe garbage").line is not None


# -- compiling --------------------------------------------------------------------------------------


def test_peer_compiles_to_pass_filters_both_ways_per_range() -> None:
    policy = parse_bytes(doc(MANAGER_PEER)).to_policy()
    mgr = ip_network("10.0.0.5/32")
    tcp = IPProtocol.TCP
    assert policy.filters == (
        IPHeaderFilter(direction=TX, profile=FilterProfile.PASS, protocol=tcp, dst=mgr, dst_ports=PortRange(443, 443), name="mgmt"),
        IPHeaderFilter(direction=RX, profile=FilterProfile.PASS, protocol=tcp, src=mgr, src_ports=PortRange(443, 443), name="mgmt"),
        IPHeaderFilter(direction=TX, profile=FilterProfile.PASS, protocol=tcp, dst=mgr, dst_ports=PortRange(50120, 50124), name="mgmt"),
        IPHeaderFilter(direction=RX, profile=FilterProfile.PASS, protocol=tcp, src=mgr, src_ports=PortRange(50120, 50124), name="mgmt"),
    )  # fmt: skip


def test_peer_local_ports_constrain_the_host_side() -> None:
    body = '<peer name="dhcp" address="0.0.0.0/0"><allow protocol="udp" remotePorts="67" localPorts="68"/></peer>'
    tx, rx = parse_bytes(doc(body)).to_policy().filters
    assert isinstance(tx, IPHeaderFilter) and isinstance(rx, IPHeaderFilter)
    assert (tx.src_ports, tx.dst_ports, rx.src_ports, rx.dst_ports) == (
        PortRange.single(68),
        PortRange.single(67),
        PortRange.single(67),
        PortRange.single(68),
    )


def test_peer_for_anyone_compiles_without_address_constraint() -> None:
    body = '<peer name="dns" address="0.0.0.0/0"><allow protocol="udp" remotePorts="53"/></peer>'
    assert all(f.src is None and f.dst is None for f in parse_bytes(doc(body)).to_policy().filters)  # type: ignore[union-attr]


def test_ping_filters_come_after_the_entries() -> None:
    policy = parse_bytes(doc('  <ping allow="true"/>\n' + MANAGER_PEER)).to_policy()
    assert [f.protocol for f in policy.filters[-4:]] == [IPProtocol.ICMP] * 2 + [IPProtocol.ICMPV6] * 2  # type: ignore[union-attr]
    assert [f.direction for f in policy.filters[-4:]] == [TX, RX, TX, RX]


def test_policy_takes_settings_from_the_set() -> None:
    data = doc('<antiSpoofing enabled="true"/><timeout seconds="60"/>', attrs='name="q" precedence="7"')
    policy = parse_bytes(data).to_policy()
    assert (policy.name, policy.precedence, policy.anti_spoofing, policy.timeout) == ("q", 7, True, 60)
    assert (policy.transmit_default, policy.receive_default) == (
        DefaultAction(drop=True, count=True),
        DefaultAction(drop=True),
    )


def test_to_policy_refuses_sets_over_the_filter_limit() -> None:
    wide = PeerAllow(IPProtocol.TCP, tuple(PortRange.single(p) for p in range(41)))
    fs = FilterSet(
        name="big", transmit_default=DefaultAction(), receive_default=DefaultAction(),
        entries=(Peer(name="p", address=ip_network("10.0.0.5/32"), allow=(wide,)),),
    )  # fmt: skip
    with pytest.raises(LimitError, match="82 filters"):
        fs.to_policy()


def test_required_flows_pass_the_sets_own_policy() -> None:
    fs = parse_bytes(doc('<ping allow="true"/>' + MANAGER_PEER))
    assert check_lockout(fs.to_policy(), fs.required_flows()) == []


def test_raw_drop_before_a_peer_is_caught_by_the_lockout_check() -> None:
    drop = '<ipFilter direction="receive" profile="drop" protocol="tcp" srcPorts="443"/>'
    fs = parse_bytes(doc(drop + MANAGER_PEER))
    [blocked] = check_lockout(fs.to_policy(), fs.required_flows())
    assert (blocked.flow.src_port, blocked.verdict.filter_index) == (443, 0)


def test_with_manager_replaces_the_management_address() -> None:
    fs = parse_bytes(doc(MANAGER_PEER)).with_manager(ip_address("198.51.100.7"))
    [peer] = fs.peers
    assert (peer.address, peer.allow[0].remote_ports[0]) == (
        ip_network("198.51.100.7/32"),
        PortRange(443, 443),
    )


def test_with_manager_ports_replace_the_allowed_ports() -> None:
    fs = parse_bytes(doc(MANAGER_PEER)).with_manager(ip_address("198.51.100.7"), [PortRange.single(8443)])
    assert fs.peers[0].allow == (PeerAllow(IPProtocol.TCP, (PortRange.single(8443),)),)


def test_with_manager_needs_a_management_peer() -> None:
    with pytest.raises(CBFiltersError, match="no peer with role 'management'"):
        parse_bytes(doc()).with_manager(ip_address("198.51.100.7"))


# -- writing ----------------------------------------------------------------------------------------


def test_written_document_is_pretty_printed_with_declaration() -> None:
    data = to_bytes(parse_bytes(doc(MANAGER_PEER)))
    assert data.startswith(
        b'<?xml version="1.0" encoding="UTF-8"?>\n<filterSet xmlns="urn:amtkit:cbfilters:1"'
    )
    assert b'\n  <peer name="mgmt" role="management" address="10.0.0.5">\n    <allow ' in data


def test_transmit_receive_pair_is_written_as_both() -> None:
    data = to_bytes(parse_bytes(doc('<ethernetFilter direction="both" profile="pass" etherType="0x0806"/>')))
    assert b'<ethernetFilter direction="both" profile="pass" etherType="0x0806"/>' in data


def test_write_then_parse_gives_the_same_set(tmp_path: Path) -> None:
    fs = parse_bytes(doc(MANAGER_PEER))
    write(fs, tmp_path / "out.xml")
    assert parse(tmp_path / "out.xml") == fs


def test_write_refuses_a_name_the_format_cannot_hold() -> None:
    fs = FilterSet(name="has space", transmit_default=DefaultAction(), receive_default=DefaultAction())
    with pytest.raises(CBFiltersError, match="has space"):
        to_bytes(fs)


def test_write_refuses_control_characters() -> None:
    fs = FilterSet(
        name="t", description="bell\x07", transmit_default=DefaultAction(), receive_default=DefaultAction()
    )
    with pytest.raises(CBFiltersError, match="XML compatible"):
        to_bytes(fs)


# -- round trips ------------------------------------------------------------------------------------

names = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,15}", fullmatch=True)
port_ranges = st.tuples(st.integers(0, 65535), st.integers(0, 65535)).map(lambda t: PortRange(*sorted(t)))
words = st.text(st.characters(codec="utf-8", categories=["L", "N", "P", "S"]), min_size=1, max_size=8)
descriptions = st.lists(words, max_size=5).map(" ".join)
flags = st.booleans()
defaults = st.builds(DefaultAction, flags, flags, flags)
tcp_udp = st.sampled_from([IPProtocol.TCP, IPProtocol.UDP])
portless = st.sampled_from([IPProtocol.ICMP, IPProtocol.ICMPV6, IPProtocol.ANY, 47, 0, 255])


def networks(version: int) -> st.SearchStrategy[IPNetwork]:
    bits, address = (32, IPv4Address) if version == 4 else (128, IPv6Address)
    return st.builds(
        lambda a, p: ip_network((address(a), p), strict=False),
        st.integers(0, 2**bits - 1),
        st.integers(0, bits),
    )


allows = st.one_of(
    st.builds(
        PeerAllow,
        tcp_udp,
        st.lists(port_ranges, max_size=2).map(tuple),
        st.lists(port_ranges, max_size=1).map(tuple),
    ),
    st.builds(PeerAllow, portless),
)
peers = st.builds(
    Peer,
    name=names,
    address=networks(4) | networks(6),
    allow=st.lists(allows, min_size=1, max_size=2).map(tuple),
    role=st.sampled_from(PeerRole),
)
profiles = st.sampled_from(FilterProfile)


@st.composite
def raw_filters(draw: st.DrawFn) -> IPHeaderFilter | EthernetFilter:
    profile = draw(profiles)
    common: dict[str, Any] = {
        "direction": draw(st.sampled_from(FilterDirection)),
        "profile": profile,
        "rate_limit": draw(st.integers(1, 2**32 - 1)) if profile is FilterProfile.RATE_LIMIT else None,
        "event_on_match": draw(flags),
        "name": draw(st.just("") | names),
    }
    if draw(st.booleans()):
        return EthernetFilter(ethertype=draw(st.integers(0, 0xFFFF)), **common)
    version = draw(st.sampled_from([4, 6]))
    protocol = draw(tcp_udp | portless)
    with_ports = protocol in (IPProtocol.TCP, IPProtocol.UDP)
    return IPHeaderFilter(
        ip_version=version,
        protocol=protocol,
        src=draw(st.none() | networks(version)),
        dst=draw(st.none() | networks(version)),
        src_ports=draw(st.none() | port_ranges) if with_ports else None,
        dst_ports=draw(st.none() | port_ranges) if with_ports else None,
        **common,
    )


entries: st.SearchStrategy[Entry] = peers | raw_filters()
filter_sets = st.builds(
    FilterSet,
    name=names,
    transmit_default=defaults,
    receive_default=defaults,
    precedence=st.integers(0, 2**32 - 1),
    description=descriptions,
    anti_spoofing=flags,
    ping=flags,
    timeout=st.none() | st.integers(1, 2**32 - 1),
    entries=st.lists(entries, max_size=5).map(tuple),
)


@settings(max_examples=200)
@given(filter_sets)
def test_write_then_parse_round_trips(fs: FilterSet) -> None:
    assert parse_bytes(to_bytes(fs)) == fs


@given(filter_sets)
def test_parse_write_parse_is_stable(fs: FilterSet) -> None:
    once = parse_bytes(to_bytes(fs))
    assert to_bytes(once) == to_bytes(fs)


@given(filter_sets)
def test_every_set_keeps_its_own_peers_reachable_unless_raw_filters_intervene(fs: FilterSet) -> None:
    plain = FilterSet(
        name=fs.name, transmit_default=DefaultAction(drop=True), receive_default=DefaultAction(drop=True),
        ping=fs.ping, entries=fs.peers,
    )  # fmt: skip
    assert check_lockout(plain.to_policy(), plain.required_flows()) == []
