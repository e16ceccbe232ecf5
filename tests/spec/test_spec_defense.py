"""System Defense objects as the Intel AMT SDK class reference describes them, spelled out.

Property names, value encodings and limits of ``AMT_IPHeadersFilter``, ``AMT_Hdr8021Filter`` and
``AMT_SystemDefensePolicy`` are written here from the SDK, not taken from :mod:`amtkit.defense.wsman`:
what AMT stores is decoded to the right filter, and properties amtkit does not model are refused by
their SDK names.
"""

from __future__ import annotations

from ipaddress import ip_network

import pytest

from amtkit.defense import wsman
from amtkit.defense.model import (
    MAX_FILTERS,
    MAX_POLICIES,
    EthernetFilter,
    FilterDirection,
    FilterProfile,
    InvalidFilterError,
    IPHeaderFilter,
    IPProtocol,
    LimitError,
    Policy,
    PortRange,
)
from amtkit.defense.plan import prepare

COMMON = {"Name": "x", "FilterProfile": 4, "FilterDirection": 1, "ActionEventOnMatch": False}


def test_an_ip_filter_as_amt_stores_it_decodes_to_its_addresses_ports_and_protocol() -> None:
    stored = {**COMMON, "HdrIPVersion": 4, "HdrProtocolID": 17,
              "HdrSrcAddress": "c0a80000", "HdrSrcMask": "ffff0000",       # 192.168.0.0/16, hex OctetString
              "HdrDestAddress": "0a000005", "HdrDestMask": "ffffffff",     # 10.0.0.5
              "HdrSrcPortStart": 1024, "HdrSrcPortEnd": 2047, "HdrDestPortStart": 53, "HdrDestPortEnd": 53}
    decoded = wsman.filter_from_properties("AMT_IPHeadersFilter", stored)
    assert decoded == IPHeaderFilter(
        name="x", direction=FilterDirection.RECEIVE, profile=FilterProfile.DROP, protocol=17,
        src=ip_network("192.168.0.0/16"), dst=ip_network("10.0.0.5/32"),
        src_ports=PortRange(1024, 2047), dst_ports=PortRange(53, 53))


def test_an_ipv6_filter_address_is_32_hex_digits() -> None:
    _, props = wsman.filter_properties(IPHeaderFilter(
        direction=FilterDirection.TRANSMIT, profile=FilterProfile.PASS, ip_version=6, dst=ip_network("fd00::/8")), 0)
    assert (props["HdrIPVersion"], props["HdrDestAddress"], props["HdrDestMask"]) == (
        6, "fd000000000000000000000000000000", "ff000000000000000000000000000000")


def test_a_rate_limit_filter_keeps_its_packets_per_second_in_filter_profile_data() -> None:
    stored = {**COMMON, "FilterProfile": 2, "FilterProfileData": 50, "HdrProtocolID8021": 0x0806}
    decoded = wsman.filter_from_properties("AMT_Hdr8021Filter", stored)
    assert decoded == EthernetFilter(name="x", direction=FilterDirection.RECEIVE, profile=FilterProfile.RATE_LIMIT,
                                     rate_limit=50, ethertype=0x0806)


# AMT_IPHeadersFilter and AMT_Hdr8021Filter properties amtkit does not model (SDK class reference):
# a filter using one must be refused, never read as a broader filter than it is.
UNMODELLED = [
    ("AMT_IPHeadersFilter", "HdrSrcAddressEndOfRange", "c0a800ff"),
    ("AMT_IPHeadersFilter", "HdrDestAddressEndOfRange", "c0a800ff"),
    ("AMT_IPHeadersFilter", "HdrDSCP", 46),
    ("AMT_IPHeadersFilter", "HdrFlowLabel", "00001"),
    ("AMT_IPHeadersFilter", "TCPFlagsOn", 2),
    ("AMT_IPHeadersFilter", "TCPFlagsOff", 16),
    ("AMT_Hdr8021Filter", "HdrSrcMACAddr8021", "001122334455"),
    ("AMT_Hdr8021Filter", "HdrSrcMACMask8021", "ffffffffffff"),
    ("AMT_Hdr8021Filter", "HdrDestMACAddr8021", "001122334455"),
    ("AMT_Hdr8021Filter", "HdrDestMACMask8021", "ffffffffffff"),
    ("AMT_Hdr8021Filter", "HdrPriorityValue8021", 5),
    ("AMT_Hdr8021Filter", "HdrVLANID8021", 100),
    ("AMT_IPHeadersFilter", "IsNegated", True),
]


@pytest.mark.parametrize(("class_name", "name", "value"), UNMODELLED, ids=[n for _, n, _ in UNMODELLED])
def test_a_filter_using_an_unmodelled_sdk_property_is_refused_by_name(class_name: str, name: str,
                                                                       value: object) -> None:
    base = {"HdrIPVersion": 4} if class_name == "AMT_IPHeadersFilter" else {"HdrProtocolID8021": 0x0800}
    with pytest.raises(InvalidFilterError, match=name):
        wsman.filter_from_properties(class_name, {**COMMON, **base, name: value})


def test_amts_limits_are_the_sdks_numbers() -> None:
    # SDK: 8 policies and 80 filters per device; FilterCreationHandles is uint32[62]; PolicyName at most
    # 16 characters; SetTimeout takes 0-65535 minutes.
    assert (MAX_POLICIES, MAX_FILTERS, wsman.MAX_FILTERS_PER_POLICY, wsman.MAX_NAME_LENGTH,
            wsman.MAX_TIMEOUT_MINUTES) == (8, 80, 62, 16, 65535)


def _drops(n: int) -> Policy:
    return Policy(name="many", filters=tuple(
        IPHeaderFilter(direction=FilterDirection.RECEIVE, profile=FilterProfile.DROP, protocol=IPProtocol.TCP,
                       dst_ports=PortRange.single(1000 + i))
        for i in range(n)))


def test_a_policy_of_62_filters_fits_and_63_do_not() -> None:
    prepare(_drops(62), ["10.0.0.5"], anti_spoofing=False)
    with pytest.raises(LimitError) as refused:
        prepare(_drops(63), ["10.0.0.5"])
    assert (refused.value.limit, refused.value.actual) == (62, 63)


def test_a_policy_name_is_cut_to_16_characters_with_amtkits_prefix() -> None:
    assert wsman.policy_wire_name("a-rather-long-policy-name") == "amtkit:a-rather-"
    assert wsman.filter_wire_name(3, "dns-resolvers") == "amtkit:3:dns-res"
