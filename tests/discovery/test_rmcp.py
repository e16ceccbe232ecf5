"""RMCP presence ping/pong: byte-exact tables both ways, round trips, malformed input, the simulator responder."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from amtkit.discovery.rmcp import (
    INTEL_IANA,
    PONG_LENGTH,
    PongInfo,
    ProvisioningState,
    RmcpError,
    decode_ping,
    decode_pong,
    encode_ping,
    encode_pong,
)
from amtsim.rmcp import RmcpServer

# Our own byte tables (authored from the Intel guide's layout; the same bytes as the recorded files).
PING_TAG_0 = bytes.fromhex("06000006000011be80000000")
PONG_AMT_11_8_TLS = bytes.fromhex("06000006000011be40000010" "00000157" "4261" "b8" "02" "01" "20" "0000" "00000000")
PONG_AMT_12_0_UNPROVISIONED = bytes.fromhex(
    "06000006000011be40000010" "00000157" "0000" "c0" "00" "01" "20" "0000" "00000000"
)
PONG_AMT_16_1_DUAL = bytes.fromhex("06000006000011be40050010" "00000157" "4260" "00" "06" "01" "20" "1001" "00000000")

INFO_11_8_TLS = PongInfo(open_port=16993, version=(11, 8), provisioning_state=ProvisioningState.POST)
INFO_12_0_UNPROVISIONED = PongInfo(open_port=0, version=(12, 0), provisioning_state=ProvisioningState.PRE)
INFO_16_1_DUAL = PongInfo(
    open_port=16992, version=(16, 1), provisioning_state=ProvisioningState.POST, both_ports=True
)

PONG_TABLE = [
    (PONG_AMT_11_8_TLS, 0, INFO_11_8_TLS),
    (PONG_AMT_12_0_UNPROVISIONED, 0, INFO_12_0_UNPROVISIONED),
    (PONG_AMT_16_1_DUAL, 5, INFO_16_1_DUAL),
]
RECORDED_PONGS = [
    ("RMCP.PresencePong.response.amt11.8-provisioned-tls.bin", 0, INFO_11_8_TLS),
    ("RMCP.PresencePong.response.amt12.0-unprovisioned.bin", 0, INFO_12_0_UNPROVISIONED),
    ("RMCP.PresencePong.response.amt16.1-provisioned-dualport.bin", 5, INFO_16_1_DUAL),
]


# ------------------------------------------------------------------------------------- byte tables


def test_ping_with_tag_0_is_the_meshcentral_ping() -> None:
    assert encode_ping(0) == PING_TAG_0


def test_ping_carries_its_tag_in_byte_9() -> None:
    assert encode_ping(0xA7)[9] == 0xA7


def test_ping_matches_the_recorded_file(wire) -> None:
    assert encode_ping(0) == wire.read("RMCP.PresencePing.request.bin")


@pytest.mark.parametrize(("wire", "tag", "info"), PONG_TABLE)
def test_pong_decodes_to_expected_info(wire: bytes, tag: int, info: PongInfo) -> None:
    assert decode_pong(wire) == (tag, info)


@pytest.mark.parametrize(("wire", "tag", "info"), PONG_TABLE)
def test_pong_encodes_to_expected_bytes(wire: bytes, tag: int, info: PongInfo) -> None:
    assert encode_pong(info, tag) == wire


@pytest.mark.parametrize(("name", "tag", "info"), RECORDED_PONGS)
def test_recorded_pong_file_decodes_and_reencodes_byte_exact(wire, name: str, tag: int, info: PongInfo) -> None:
    recorded = wire.read(name)
    assert decode_pong(recorded) == (tag, info)
    assert encode_pong(info, tag) == recorded


def test_decode_ping_returns_tag() -> None:
    assert decode_ping(encode_ping(42)) == 42


# ------------------------------------------------------------------------------------- field meaning


def test_pong_port_16993_means_tls() -> None:
    assert INFO_11_8_TLS.tls and INFO_11_8_TLS.open_ports == (16993,)


def test_pong_port_0_means_present_but_not_set_up() -> None:
    assert not INFO_12_0_UNPROVISIONED.configured and INFO_12_0_UNPROVISIONED.open_ports == ()


def test_pong_dual_port_bit_opens_both_ports_and_tls() -> None:
    assert INFO_16_1_DUAL.open_ports == (16992, 16993) and INFO_16_1_DUAL.tls


def test_pong_version_above_15_uses_extended_bytes() -> None:
    wire = encode_pong(PongInfo(version=(16, 1)))
    assert wire[18] == 0 and wire[22:24] == bytes([16, 1])


def test_pong_version_string_is_major_dot_minor() -> None:
    assert INFO_11_8_TLS.version_string == "11.8"


def test_pong_without_version_bytes_has_no_version() -> None:
    _, info = decode_pong(encode_pong(PongInfo(version=None)))
    assert info.version is None and info.version_string is None


def test_pong_dash_bit_in_interactions_byte_means_dash() -> None:
    assert PongInfo(supported_entities=0x01, supported_interactions=0x20).dash


def test_pong_dash_bit_in_entities_byte_means_dash_on_amt_4() -> None:
    assert PongInfo(supported_entities=0x21, supported_interactions=0x00).dash


def test_pong_without_dash_bits_is_not_dash() -> None:
    assert not PongInfo(supported_entities=0x01, supported_interactions=0x00).dash


def test_pong_with_other_iana_is_not_intel() -> None:
    _, info = decode_pong(encode_pong(PongInfo(iana=4542)))
    assert not info.is_intel


def test_pong_ignores_unknown_state_bits() -> None:
    wire = bytearray(PONG_AMT_11_8_TLS)
    wire[19] |= 0x80
    assert decode_pong(bytes(wire))[1] == INFO_11_8_TLS


# ------------------------------------------------------------------------------------- malformed


@pytest.mark.parametrize(
    ("wire", "message"),
    [
        (PONG_AMT_11_8_TLS[:11], "shorter than"),
        (PONG_AMT_11_8_TLS[:20], "data length field says 16"),
        (PONG_AMT_11_8_TLS + b"\x00", "data length field says 16"),
        (b"\x07" + PONG_AMT_11_8_TLS[1:], "RMCP version"),
        (PONG_AMT_11_8_TLS[:3] + b"\x86" + PONG_AMT_11_8_TLS[4:], "RMCP ACK"),
        (PONG_AMT_11_8_TLS[:3] + b"\x07" + PONG_AMT_11_8_TLS[4:], "RMCP class"),
        (PONG_AMT_11_8_TLS[:4] + b"\x00\x00\x11\xbf" + PONG_AMT_11_8_TLS[8:], "ASF IANA"),
        (encode_ping(0), "message type 0x80"),
    ],
    ids=["short-header", "truncated-data", "trailing-byte", "version", "ack", "class", "asf-iana", "ping"],
)
def test_malformed_pong_raises_rmcp_error(wire: bytes, message: str) -> None:
    with pytest.raises(RmcpError, match=message):
        decode_pong(wire)


def test_pong_with_wrong_data_length_raises() -> None:
    wire = PONG_AMT_11_8_TLS[:11] + b"\x0f" + PONG_AMT_11_8_TLS[12:27]
    with pytest.raises(RmcpError, match="data length 15"):
        decode_pong(wire)


def test_pong_with_provisioning_state_3_raises() -> None:
    wire = bytearray(PONG_AMT_11_8_TLS)
    wire[19] = 0x03
    with pytest.raises(RmcpError, match="state 3"):
        decode_pong(bytes(wire))


def test_ping_with_data_raises() -> None:
    with pytest.raises(RmcpError, match="data length"):
        decode_ping(PING_TAG_0[:11] + b"\x01\x00")


def test_pong_is_not_a_ping() -> None:
    with pytest.raises(RmcpError, match="message type 0x40"):
        decode_ping(PONG_AMT_11_8_TLS)


@pytest.mark.parametrize("tag", [-1, 256])
def test_encode_ping_rejects_tag_outside_a_byte(tag: int) -> None:
    with pytest.raises(RmcpError, match="tag"):
        encode_ping(tag)


@pytest.mark.parametrize("version", [(0, 0), (256, 1), (1, -1)])
def test_encode_pong_rejects_unencodable_version(version: tuple[int, int]) -> None:
    with pytest.raises(RmcpError, match="version"):
        encode_pong(PongInfo(version=version))


def test_encode_pong_rejects_port_above_65535() -> None:
    with pytest.raises(RmcpError, match="port"):
        encode_pong(PongInfo(open_port=70000))


# ------------------------------------------------------------------------------------- properties

pong_infos = st.builds(
    PongInfo,
    iana=st.integers(0, 0xFFFFFFFF),
    open_port=st.integers(0, 0xFFFF),
    version=st.none() | st.tuples(st.integers(0, 255), st.integers(0, 255)).filter(lambda v: v != (0, 0)),
    provisioning_state=st.sampled_from(ProvisioningState),
    both_ports=st.booleans(),
    supported_entities=st.integers(0, 255),
    supported_interactions=st.integers(0, 255),
)


@given(info=pong_infos, tag=st.integers(0, 255))
def test_pong_encode_decode_round_trip(info: PongInfo, tag: int) -> None:
    wire = encode_pong(info, tag)
    assert len(wire) == PONG_LENGTH
    assert decode_pong(wire) == (tag, info)


@given(info=pong_infos, tag=st.integers(0, 255))
def test_pong_decode_encode_round_trip_is_byte_exact(info: PongInfo, tag: int) -> None:
    wire = encode_pong(info, tag)
    assert encode_pong(decode_pong(wire)[1], tag) == wire


@given(tag=st.integers(0, 255))
def test_ping_round_trip(tag: int) -> None:
    assert decode_ping(encode_ping(tag)) == tag


@given(data=st.binary(max_size=64))
def test_decoding_arbitrary_bytes_raises_only_rmcp_error(data: bytes) -> None:
    for decode in (decode_ping, decode_pong):
        try:
            decode(data)
        except RmcpError:
            pass


# ------------------------------------------------------------------------------------- simulator responder


def exchange(address: str, port: int, payload: bytes, timeout: float = 0.5) -> tuple[bytes, str] | None:
    """Send one datagram from a plain blocking socket and wait for one answer."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.sendto(payload, (address, port))
        try:
            data, source = sock.recvfrom(256)
        except TimeoutError:
            return None
        return data, source[0]


async def _ask(starting: Awaitable[RmcpServer], address: str, payload: bytes) -> tuple[bytes, str] | None:
    server = await starting
    try:
        return await asyncio.to_thread(exchange, address, server.ports[0], payload)
    finally:
        server.close()


def test_simulator_answers_ping_with_pong_from_lookup() -> None:
    lookup = {"127.0.9.1": INFO_11_8_TLS}.get
    reply = asyncio.run(_ask(RmcpServer.bind(["127.0.9.1"], lookup, port=0), "127.0.9.1", encode_ping(77)))
    assert reply == (encode_pong(INFO_11_8_TLS, 77), "127.0.9.1")


def test_simulator_stays_silent_when_lookup_returns_none() -> None:
    reply = asyncio.run(_ask(RmcpServer.bind(["127.0.9.2"], lambda ip: None, port=0), "127.0.9.2", encode_ping(1)))
    assert reply is None


def test_simulator_ignores_datagrams_that_are_not_pings() -> None:
    lookup = {"127.0.9.3": INFO_11_8_TLS}.get
    reply = asyncio.run(_ask(RmcpServer.bind(["127.0.9.3"], lookup, port=0), "127.0.9.3", PONG_AMT_11_8_TLS))
    assert reply is None


@pytest.mark.skipif(not hasattr(socket, "SO_BINDTODEVICE"), reason="Linux IP_PKTINFO responder")
def test_loopback_responder_answers_from_the_pinged_address() -> None:
    seen: list[str] = []

    def lookup(ip: str) -> PongInfo | None:
        seen.append(ip)
        return INFO_16_1_DUAL if ip == "127.0.10.20" else None

    reply = asyncio.run(_ask(RmcpServer.bind_loopback(lookup, port=0), "127.0.10.20", encode_ping(9)))
    assert reply == (encode_pong(INFO_16_1_DUAL, 9), "127.0.10.20") and seen == ["127.0.10.20"]


def test_loopback_responder_refuses_a_network_that_is_not_loopback() -> None:
    async def run() -> None:
        await RmcpServer.bind_loopback(lambda ip: None, port=0, network="10.0.0.0/8")

    with pytest.raises(ValueError, match="not a loopback network"):
        asyncio.run(run())


def test_intel_iana_is_343() -> None:
    assert INTEL_IANA == 343 and PONG_AMT_11_8_TLS[12:16] == (343).to_bytes(4, "big")
