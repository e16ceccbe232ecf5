"""RMCP / ASF presence ping and pong, sans-IO: bytes in, typed values out, and back.

Both sides use this module: the prober encodes pings and decodes pongs, the simulator decodes
pings and encodes pongs. No sockets here.

Wire layout (all multi-byte integers big-endian; "data byte N" counts from 1 as Intel's guide does,
data byte 1 is packet offset 12)::

    offset  0  RMCP version 0x06        (ASF 2.0 / DSP0136)
            1  reserved 0x00
            2  RMCP sequence number     (0xFF would mean "no RMCP ACK wanted"; MeshCentral sends 0x00)
            3  RMCP class 0x06 = ASF    (bit 7 set = an RMCP ACK, not a message)
          4-7  ASF IANA 4542 (0x000011BE)
            8  ASF message type         0x80 Presence Ping, 0x40 Presence Pong
            9  message tag              echoed by the pong; lets a prober match answers
           10  reserved 0x00
           11  data length              0 for a ping, 16 for a pong
    pong data (Intel AMT Implementation and Reference Guide, "Discovery > Detailed Description"):
        1-4    IANA enterprise number of the OEM: 343 = Intel
        5-6    open port: 16992 HTTP, 16993 HTTPS (TLS); 0 = AMT present but not set up (6.1+)
          7    version: major << 4 | minor (6.0 -> 0x60); 0 when it does not fit (or before 6.0)
          8    provisioning state in bits 0-1: 0 pre, 1 in, 2 post. MeshCentral's scanner also reads
               bit 2 as "both 16992 and 16993 are open"; that meaning comes only from MeshCentral.
          9    ASF supported entities (bits 0-3 ASF version, 1 = ASF 1.0); bit 5 = DASH on AMT 4.x-5.0
         10    ASF supported interactions; bit 5 = DASH on AMT 5.1 and later (DSP0232 1.1)
      11-12    major, minor when data byte 7 is 0 (versions that do not fit a nibble, e.g. 16.1)
      13-16    reserved, 0

AMT answers pings from release 4.0; the version and state fields are filled from 6.0. The answer can be
switched off (``AMT_GeneralSettings.RmcpPingResponseEnabled``), so silence does not prove absence.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from amtkit.codes import ProvisioningState
from amtkit.wsman import names

__all__ = [
    "ASF_IANA",
    "HTTPS_PORT",
    "HTTP_PORT",
    "INTEL_IANA",
    "PING_LENGTH",
    "PONG_LENGTH",
    "RMCP_PORT",
    "PongInfo",
    "ProvisioningState",
    "RmcpError",
    "decode_ping",
    "decode_pong",
    "encode_ping",
    "encode_pong",
]

RMCP_PORT = names.PORT_RMCP
"""UDP port of RMCP (ASF "primary RMCP port", 623)."""

ASF_IANA = 4542
"""IANA enterprise number of the Alert Standard Format (DMTF), in every ASF message header."""

INTEL_IANA = 343
"""IANA enterprise number of Intel Corporation, in the first four pong data bytes of Intel AMT."""

HTTP_PORT = names.PORT_HTTP
"""AMT WS-Man over plain HTTP (16992, IANA "amt-soap-http"); a pong names it in its port field."""

HTTPS_PORT = names.PORT_TLS
"""AMT WS-Man over TLS (16993, IANA "amt-soap-https")."""

_RMCP_VERSION = 0x06
_RMCP_CLASS_ASF = 0x06
_RMCP_CLASS_ACK_BIT = 0x80
_TYPE_PING = 0x80
_TYPE_PONG = 0x40
_PONG_DATA_LENGTH = 16
_DASH_BIT = 0x20  # bit 5 of data byte 9 (AMT 4.x-5.0) or 10 (AMT 5.1+)
_STATE_MASK = 0x03
_DUAL_PORTS_BIT = 0x04  # MeshCentral: both 16992 and 16993 open

_HEADER = struct.Struct(">BBBBIBBBB")  # RMCP version, rsvd, seq, class, IANA, type, tag, rsvd, length
_PONG_DATA = struct.Struct(">IHBBBBBB4x")  # IANA, port, version byte, state, entities, interactions, major, minor

PING_LENGTH = _HEADER.size
"""A presence ping is 12 bytes: the RMCP and ASF headers with data length 0."""

PONG_LENGTH = _HEADER.size + _PONG_DATA.size
"""A presence pong is 28 bytes: the headers and 16 data bytes."""


class RmcpError(ValueError):
    """A datagram that is not the RMCP/ASF message expected (truncated, wrong class, type or length).

    Raised by the decoders, and by the encoders for values that do not fit the wire fields.
    """


@dataclass(frozen=True)
class PongInfo:
    """What an AMT presence pong says about the machine.

    ``open_port`` is the port of data bytes 5-6 as sent (0, 16992 or 16993 on real AMT).
    ``version`` is ``(major, minor)`` or ``None`` when the pong carries none (AMT before 6.0).
    ``supported_entities`` and ``supported_interactions`` are the ASF bytes as sent; the DASH flag
    is derived from them.
    """

    iana: int = INTEL_IANA
    open_port: int = HTTP_PORT
    version: tuple[int, int] | None = None
    provisioning_state: ProvisioningState = ProvisioningState.PRE
    both_ports: bool = False
    supported_entities: int = 0x01
    supported_interactions: int = _DASH_BIT

    @property
    def is_intel(self) -> bool:
        """The OEM IANA number is Intel's (343): the answer comes from Intel AMT."""
        return self.iana == INTEL_IANA

    @property
    def dash(self) -> bool:
        """The platform claims DASH support (bit 5 of data byte 10, or of byte 9 on AMT 4.x-5.0)."""
        return bool((self.supported_interactions | self.supported_entities) & _DASH_BIT)

    @property
    def tls(self) -> bool:
        """WS-Man is offered over TLS (open port 16993, or both ports open)."""
        return self.open_port == HTTPS_PORT or self.both_ports

    @property
    def configured(self) -> bool:
        """A port is set: AMT has been set up (a 0 port means present but awaiting setup, 6.1+)."""
        return self.open_port != 0

    @property
    def open_ports(self) -> tuple[int, ...]:
        """The AMT web ports the pong says are open."""
        if self.both_ports:
            return (HTTP_PORT, HTTPS_PORT)
        return (self.open_port,) if self.open_port else ()

    @property
    def version_string(self) -> str | None:
        """``"11.8"`` style version, or ``None``."""
        return None if self.version is None else f"{self.version[0]}.{self.version[1]}"


def _header(message_type: int, tag: int, data_length: int, sequence: int) -> bytes:
    if not 0 <= tag <= 0xFF:
        raise RmcpError(f"message tag {tag} does not fit one byte")
    if not 0 <= sequence <= 0xFF:
        raise RmcpError(f"RMCP sequence number {sequence} does not fit one byte")
    return _HEADER.pack(_RMCP_VERSION, 0, sequence, _RMCP_CLASS_ASF, ASF_IANA, message_type, tag, 0, data_length)


def encode_ping(tag: int = 0, *, sequence: int = 0) -> bytes:
    """Build a 12-byte ASF Presence Ping carrying ``tag`` (0-255).

    ``sequence`` is the RMCP sequence number; 0 is what MeshCentral sends and AMT answers.
    Raises :class:`RmcpError` if a value does not fit a byte.
    """
    return _header(_TYPE_PING, tag, 0, sequence)


def _parse_header(data: bytes, expected_type: int, what: str) -> tuple[int, int]:
    """Check the RMCP/ASF header; return ``(tag, data_length)``."""
    if len(data) < _HEADER.size:
        raise RmcpError(f"{what}: {len(data)} bytes, shorter than the {_HEADER.size}-byte RMCP/ASF header")
    version, _, _, rmcp_class, iana, message_type, tag, _, length = _HEADER.unpack_from(data)
    if version != _RMCP_VERSION:
        raise RmcpError(f"{what}: RMCP version 0x{version:02x}, expected 0x06")
    if rmcp_class & _RMCP_CLASS_ACK_BIT:
        raise RmcpError(f"{what}: an RMCP ACK (class 0x{rmcp_class:02x}), not a message")
    if rmcp_class != _RMCP_CLASS_ASF:
        raise RmcpError(f"{what}: RMCP class 0x{rmcp_class:02x}, expected 0x06 (ASF)")
    if iana != ASF_IANA:
        raise RmcpError(f"{what}: ASF IANA {iana}, expected {ASF_IANA}")
    if message_type != expected_type:
        raise RmcpError(f"{what}: ASF message type 0x{message_type:02x}, expected 0x{expected_type:02x}")
    if len(data) != _HEADER.size + length:
        raise RmcpError(f"{what}: data length field says {length} but {len(data) - _HEADER.size} bytes follow")
    return tag, length


def decode_ping(data: bytes) -> int:
    """Check that ``data`` is an ASF Presence Ping and return its message tag.

    Raises :class:`RmcpError` for anything else.
    """
    tag, length = _parse_header(data, _TYPE_PING, "presence ping")
    if length != 0:
        raise RmcpError(f"presence ping: data length {length}, expected 0")
    return tag


def encode_pong(info: PongInfo, tag: int = 0, *, sequence: int = 0) -> bytes:
    """Build the 28-byte Presence Pong answering a ping with ``tag``.

    The version goes into the nibble byte when major and minor are both below 16, otherwise that
    byte is 0 and major/minor go into data bytes 11-12, as AMT does.
    Raises :class:`RmcpError` if a value does not fit its field.
    """
    version_byte = major = minor = 0
    if info.version is not None:
        major, minor = info.version
        if not (0 <= major <= 0xFF and 0 <= minor <= 0xFF) or (major, minor) == (0, 0):
            raise RmcpError(f"AMT version {major}.{minor} cannot be encoded (0.0 or a part above 255)")
        if major < 16 and minor < 16:
            version_byte, major, minor = major << 4 | minor, 0, 0
    if not 0 <= info.open_port <= 0xFFFF:
        raise RmcpError(f"open port {info.open_port} does not fit two bytes")
    if not 0 <= info.iana <= 0xFFFFFFFF:
        raise RmcpError(f"IANA number {info.iana} does not fit four bytes")
    for name in ("supported_entities", "supported_interactions"):
        if not 0 <= getattr(info, name) <= 0xFF:
            raise RmcpError(f"{name} {getattr(info, name)} does not fit one byte")
    state = int(info.provisioning_state) | (_DUAL_PORTS_BIT if info.both_ports else 0)
    data = _PONG_DATA.pack(
        info.iana, info.open_port, version_byte, state,
        info.supported_entities, info.supported_interactions, major, minor,
    )
    return _header(_TYPE_PONG, tag, len(data), sequence) + data


def decode_pong(data: bytes) -> tuple[int, PongInfo]:
    """Parse an ASF Presence Pong; return ``(tag, info)``.

    Bits of the state byte other than the provisioning state and the dual-port bit are ignored,
    as are the reserved data bytes. Raises :class:`RmcpError` if ``data`` is not a well-formed pong,
    or if the provisioning state is 3 (undefined).
    """
    tag, length = _parse_header(data, _TYPE_PONG, "presence pong")
    if length != _PONG_DATA_LENGTH:
        raise RmcpError(f"presence pong: data length {length}, expected {_PONG_DATA_LENGTH}")
    iana, port, version_byte, state, entities, interactions, major, minor = _PONG_DATA.unpack_from(
        data, _HEADER.size
    )
    if state & _STATE_MASK == 3:
        raise RmcpError("presence pong: provisioning state 3 is undefined (0 pre, 1 in, 2 post)")
    version: tuple[int, int] | None
    if version_byte:
        version = (version_byte >> 4, version_byte & 0x0F)
    elif major or minor:
        version = (major, minor)
    else:
        version = None
    info = PongInfo(
        iana=iana,
        open_port=port,
        version=version,
        provisioning_state=ProvisioningState(state & _STATE_MASK),
        both_ports=bool(state & _DUAL_PORTS_BIT),
        supported_entities=entities,
        supported_interactions=interactions,
    )
    return tag, info
