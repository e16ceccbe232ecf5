"""The Intel AMT redirection protocol (TCP 16994 plain, 16995 TLS) as a sans-IO codec.

One module for both ends of the wire: the console (amtkit's client side) and the firmware
(the simulator) build and parse every message with the classes below, so a field can never
have two layouts in the project.  Nothing here touches a socket, a clock or a thread.

Framing
-------
All integers are little-endian.  Byte 0 is the message type (:class:`MessageType`) and
decides the length of the message:

* session messages (``0x10``-``0x14``) have their own small layouts;
* SOL (``0x20``-``0x2B``) and IDE-R (``0x40``-``0x54``) messages open with an 8-byte header
  ``type, 00, 00, attributes, LE32 sequence`` (byte 1 is a status in the ``*Reply`` messages);
* variable parts are announced by a length field: an 8-bit OEM length (``0x11``, ``0x41``),
  a 32-bit length (``0x13``, ``0x14``) or a 16-bit length (``0x28``, ``0x2A``, ``0x53``,
  ``0x54``); ``0x48`` carries a 32-bit value only for sub-command 3.

Because the length of an unknown type cannot be known, an unknown type byte is fatal for the
stream: :class:`RedirectionDecoder` raises :class:`RedirectionProtocolError` and stays broken.
KVM sessions switch to raw RFB after authentication; this codec covers them only up to there.

Authentication (``0x13``/``0x14``)
----------------------------------
The console may first query the methods (type 0); AMT lists them (1 basic, 2 Kerberos,
3 digest RFC 2069, 4 digest RFC 2617 with qop).  Digest is a two-step exchange: the console
sends its user name and the URI ``/RedirectionService`` with every other field empty, AMT
answers status 1 with realm, nonce (and qop for type 4), and the console sends all eight
fields with ``response = MD5(HA1:nonce:nc:cnonce:qop:MD5("POST:/RedirectionService"))``.
The arithmetic is :func:`amtkit.http.digest.compute_response`, shared with WS-Man.

Sources: MeshCommander ``amt-redir-ws``/``amt-ider-ws``, MeshCentral ``amt-redir-mesh``,
amtterm ``RedirectionConstants.h``/``redir.h``/``redir.c`` (see ``docs/ider.md``).
"""

from __future__ import annotations

import functools
import hmac
import os
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import Enum, IntEnum, IntFlag
from typing import Any, ClassVar, TypeVar

from amtkit.exceptions import LocalProtocolError, RemoteProtocolError
from amtkit.http.digest import Credentials, compute_response
from amtkit.wsman import names

__all__ = [
    "REDIRECTION_PORT",
    "REDIRECTION_TLS_PORT",
    "REDIRECTION_AUTH_URI",
    "REDIRECTION_AUTH_METHOD",
    "STATUS_SUCCESS",
    "AUTH_STATUS_CHALLENGE",
    "IANA_INTEL",
    "MAX_MESSAGE_SIZE",
    "AtaRegisters",
    "AtaStatus",
    "AuthType",
    "AuthenticateSession",
    "AuthenticateSessionReply",
    "DescribedIntEnum",
    "Device",
    "DigestAuthFields",
    "DigestChallenge",
    "Direction",
    "EndIDERRedirection",
    "EndIDERRedirectionReply",
    "EndRedirectionSession",
    "EndSOLRedirection",
    "EndSOLRedirectionReply",
    "IDERAttributes",
    "IDERCommandEndResponse",
    "IDERCommandWritten",
    "IDERDataFromHost",
    "IDERDataToHost",
    "IDERDisableEnableFeatures",
    "IDERDisableEnableFeaturesReply",
    "IDERErrorOccurred",
    "IDERFeatureRequest",
    "IDERGetDataFromHost",
    "IDERHeartbeat",
    "IDERKeepAlivePing",
    "IDERKeepAlivePong",
    "IDERResetOccurred",
    "IDERResetOccurredResponse",
    "IDERStartMode",
    "IDER_FEATURE_ENABLE",
    "IDER_FEATURES_ENABLED",
    "IDER_FEATURES_TOGGLE_SUPPORTED",
    "IDER_START_MODE_MASK",
    "MessageType",
    "RedirectionDecoder",
    "RedirectionMessage",
    "RedirectionProtocolError",
    "SOLControlLines",
    "SOLControlsFromHost",
    "SOLDataFromHost",
    "SOLDataToHost",
    "SOLHeartbeat",
    "SOLKeepAlivePing",
    "SOLKeepAlivePong",
    "SOLSerialSettings",
    "SOLStatus",
    "SequenceCounter",
    "SequencedMessage",
    "SessionType",
    "StartIDERRedirection",
    "StartIDERRedirectionReply",
    "StartRedirectionSession",
    "StartRedirectionSessionReply",
    "StartSOLRedirection",
    "StartSOLRedirectionReply",
    "decode_message",
    "message_class",
]

REDIRECTION_PORT = names.PORT_REDIRECTION
"""Redirection over plain TCP."""
REDIRECTION_TLS_PORT = names.PORT_REDIRECTION_TLS
"""Redirection over TLS."""
REDIRECTION_AUTH_URI = "/RedirectionService"
"""The digest URI every known console uses for redirection authentication."""
REDIRECTION_AUTH_METHOD = "POST"
"""The method in HA2 = MD5(method:uri) for redirection digest."""
STATUS_SUCCESS = 0x00
"""Byte 1 of a ``*Reply`` message when the request succeeded."""
AUTH_STATUS_CHALLENGE = 0x01
"""AuthenticateSessionReply status: digest challenge follows, answer it."""
IANA_INTEL = 343
"""Intel's IANA enterprise number, as sent in StartIDERRedirectionReply."""
MAX_MESSAGE_SIZE = 34 + 0xFFFF
"""Default cap on one message: the largest message with a 16-bit length (IDE-R data to host).

Only the 32-bit length of the authentication messages can announce more; a peer that does is
treated as hostile rather than buffered.
"""


class RedirectionProtocolError(RemoteProtocolError):
    """Bytes from the peer that break the redirection protocol: unknown type, impossible
    length, bad field, message out of sequence or out of place.

    ``message_type`` is byte 0 of the offending message when it is known.  (A message amtkit
    is asked to *build* with out-of-range fields raises
    :class:`~amtkit.exceptions.LocalProtocolError` instead.)
    """

    def __init__(self, message: str, *, message_type: int | None = None, host: str | None = None) -> None:
        super().__init__(message, host=host)
        self.message_type = message_type


_E = TypeVar("_E", bound="DescribedIntEnum")


class DescribedIntEnum(IntEnum):
    """An ``IntEnum`` whose members carry a one-line ``meaning`` (for logs, CLI and docs)."""

    meaning: str

    def __new__(cls: type[_E], value: int, meaning: str = "") -> _E:
        member = int.__new__(cls, value)
        member._value_ = value
        member.meaning = meaning
        return member

    @classmethod
    def describe(cls, value: int) -> str:
        """``NAME (0xNN): meaning`` for a known value, ``unknown 0xNN`` otherwise."""
        try:
            member = cls(value)
        except ValueError:
            return f"unknown {cls.__name__} {value:#04x}"
        return f"{member.name} ({value:#04x}): {member.meaning}"


class Direction(Enum):
    """Who sends a message type."""

    TO_FIRMWARE = "console->firmware"
    TO_CONSOLE = "firmware->console"
    BOTH = "either way"


# Short names for the table below.
_TO_FIRMWARE = Direction.TO_FIRMWARE
_TO_CONSOLE = Direction.TO_CONSOLE
_BOTH = Direction.BOTH
_SENDER = {Direction.TO_FIRMWARE: "console->AMT: ", Direction.TO_CONSOLE: "AMT->console: ", Direction.BOTH: ""}


class MessageType(DescribedIntEnum):
    """Byte 0 of every redirection message [amtterm RedirectionConstants.h, MeshCommander], with who
    sends it: the one table of directions (each message class takes its ``DIRECTION`` from here)."""

    direction: Direction

    def __new__(cls, value: int, direction: Direction = Direction.BOTH, meaning: str = "") -> MessageType:
        member = int.__new__(cls, value)
        member._value_ = value
        member.direction = direction
        member.meaning = _SENDER[direction] + meaning
        return member

    START_REDIRECTION_SESSION = 0x10, _TO_FIRMWARE, "open a session of a type (SOL, IDER, KVMR)"
    START_REDIRECTION_SESSION_REPLY = 0x11, _TO_CONSOLE, "status of the session start"
    END_REDIRECTION_SESSION = 0x12, _TO_FIRMWARE, "close the session"
    AUTHENTICATE_SESSION = 0x13, _TO_FIRMWARE, "query auth methods or authenticate"
    AUTHENTICATE_SESSION_REPLY = 0x14, _TO_CONSOLE, "methods, digest challenge or result"
    START_SOL_REDIRECTION = 0x20, _TO_FIRMWARE, "start serial-over-LAN with buffer/timeouts"
    START_SOL_REDIRECTION_REPLY = 0x21, _TO_CONSOLE, "SOL started"
    END_SOL_REDIRECTION = 0x22, _TO_FIRMWARE, "stop SOL"
    END_SOL_REDIRECTION_REPLY = 0x23, _TO_CONSOLE, "SOL stopped"
    SOL_KEEP_ALIVE_PING = 0x24, _BOTH, "SOL keep-alive ping"
    SOL_KEEP_ALIVE_PONG = 0x25, _BOTH, "SOL keep-alive pong"
    SOL_SERIAL_SETTINGS = 0x27, _TO_FIRMWARE, "serial settings MeshCommander sends after the SOL start reply"
    SOL_DATA_TO_HOST = 0x28, _TO_FIRMWARE, "keyboard bytes for the host serial port"
    SOL_CONTROLS_FROM_HOST = 0x29, _TO_CONSOLE, "serial control lines and host status bits"
    SOL_DATA_FROM_HOST = 0x2A, _TO_CONSOLE, "bytes the host wrote to its serial port"
    SOL_HEARTBEAT = 0x2B, _BOTH, "SOL heartbeat"
    START_IDER_REDIRECTION = 0x40, _TO_FIRMWARE, "open IDE-R with timeouts and version"
    START_IDER_REDIRECTION_REPLY = 0x41, _TO_CONSOLE, "IDE-R open; versions and buffer sizes"
    END_IDER_REDIRECTION = 0x42, _TO_FIRMWARE, "close IDE-R"
    END_IDER_REDIRECTION_REPLY = 0x43, _TO_CONSOLE, "IDE-R closed"
    IDER_KEEP_ALIVE_PING = 0x44, _BOTH, "IDE-R keep-alive ping"
    IDER_KEEP_ALIVE_PONG = 0x45, _BOTH, "IDE-R keep-alive pong"
    IDER_RESET_OCCURRED = 0x46, _TO_CONSOLE, "the host reset the IDE channel"
    IDER_RESET_OCCURRED_RESPONSE = 0x47, _TO_FIRMWARE, "reset acknowledged"
    IDER_DISABLE_ENABLE_FEATURES = 0x48, _TO_FIRMWARE, "get/set the IDE-R register state"
    IDER_DISABLE_ENABLE_FEATURES_REPLY = 0x49, _TO_CONSOLE, "feature query/toggle result"
    IDER_ERROR_OCCURRED = 0x4A, _TO_CONSOLE, "IDE-R error, session aborted"
    IDER_HEARTBEAT = 0x4B, _BOTH, "IDE-R heartbeat"
    IDER_COMMAND_WRITTEN = 0x50, _TO_CONSOLE, "the host wrote an ATA command (PACKET + SCSI CDB)"
    IDER_COMMAND_END_RESPONSE = 0x51, _TO_FIRMWARE, "command finished; ATA registers and sense"
    IDER_GET_DATA_FROM_HOST = 0x52, _TO_FIRMWARE, "send me the host's write data"
    IDER_DATA_FROM_HOST = 0x53, _TO_CONSOLE, "write data from the host"
    IDER_DATA_TO_HOST = 0x54, _TO_FIRMWARE, "read data for the host (may end the command)"


class SessionType(Enum):
    """The 4-byte tag of StartRedirectionSession."""

    SOL = b"SOL "
    IDER = b"IDER"
    KVM = b"KVMR"


class AuthType(DescribedIntEnum):
    """Byte 4 of AuthenticateSession(+Reply) [MeshCommander amt-redir-ws, amtterm auth.c]."""

    QUERY = 0, "ask which methods AMT supports"
    BASIC = 1, "user name and password in clear (old firmware)"
    KERBEROS = 2, "Kerberos ticket"
    DIGEST = 3, "HTTP digest, RFC 2069 form (no qop, no cnonce in the hash)"
    DIGEST_QOP = 4, "HTTP digest, RFC 2617 with qop=auth (what current clients use)"


class Device(DescribedIntEnum):
    """The IDE-R drives, as their ATA drive-select value.

    AMT tells them apart by bit 4 of the drive-select register of a command written (0x50).
    """

    FLOPPY = 0xA0, "IDE-R floppy (master; 512-byte sectors)"
    CD = 0xB0, "IDE-R CD/DVD-ROM (slave; 2048-byte sectors)"

    @classmethod
    def from_drive_select(cls, drive_select: int) -> Device:
        return cls.CD if drive_select & 0x10 else cls.FLOPPY


class IDERAttributes(IntFlag):
    """Byte 3 of IDE-R data messages [MeshCommander amt-ider-ws SendCommand]."""

    NONE = 0
    DMA = 0x01
    """The transfer uses DMA (feature register bit 0 of the command)."""
    COMPLETED = 0x02
    """This message ends the command: its output registers carry the final status."""


class AtaStatus(IntFlag):
    """ATA status register bits, as reported in the output registers of 0x51/0x54."""

    NONE = 0
    ERR = 0x01
    """Error: the error register holds the sense key in bits 7-4 (ATAPI CHECK CONDITION)."""
    CORR = 0x04
    DRQ = 0x08
    """Data request: data transfer in progress."""
    DSC = 0x10
    """Device seek complete."""
    DF = 0x20
    DRDY = 0x40
    """Device ready."""
    BSY = 0x80


class IDERFeatureRequest(DescribedIntEnum):
    """Sub-command of IDER_DISABLE_ENABLE_FEATURES (0x48) and of its reply."""

    GET_SUPPORTED = 1, "which register features the firmware supports (reply bit 0 = toggle)"
    GET_REGISTER_STATE = 2, "current state (reply bit 1 = IDE-R enabled)"
    SET_REGISTER_STATE = 3, "enable/disable the IDE-R device; reply value 1 = done"


IDER_FEATURE_ENABLE = 0x01
"""SET_REGISTER_STATE value bit: enable the IDE-R devices on the host."""
IDER_START_MODE_MASK = 0x18
"""SET_REGISTER_STATE value bits 3-4: an :class:`IDERStartMode`."""
IDER_FEATURES_TOGGLE_SUPPORTED = 0x01
"""GET_SUPPORTED reply value bit 0: the firmware can switch the IDE-R devices (SET_REGISTER_STATE works)."""
IDER_FEATURES_ENABLED = 0x02
"""GET_REGISTER_STATE reply value bit 1: the IDE-R devices are enabled."""


class IDERStartMode(DescribedIntEnum):
    """SET_REGISTER_STATE value bits 3-4: when the host sees the IDE-R devices appear."""

    ON_REBOOT = 0x08, "at the next host reboot"
    GRACEFUL = 0x10, "when the host's IDE channel is idle"
    IMMEDIATE = 0x18, "now, even mid-transfer"


# --------------------------------------------------------------------------------------------
# base classes


class RedirectionMessage:
    """Base of every message. Subclasses are frozen, keyword-only dataclasses.

    ``encode()`` gives the wire bytes; :func:`decode_message` or :class:`RedirectionDecoder`
    turn bytes back into the subclass instance.
    """

    TYPE: ClassVar[MessageType]
    DIRECTION: ClassVar[Direction]
    """Who sends it: ``TYPE.direction``, set for each class that names its ``TYPE``."""
    SIZE: ClassVar[int]
    """Length of the fixed part (the whole message for fixed-size types)."""

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "TYPE" in cls.__dict__:
            cls.DIRECTION = cls.TYPE.direction

    @classmethod
    def frame_length(cls, prefix: bytes | bytearray | memoryview) -> int | None:
        """Total length of the message that starts ``prefix``, or ``None`` if it cannot tell yet."""
        return cls.SIZE

    def encode(self) -> bytes:
        """The wire bytes. Raises :class:`~amtkit.exceptions.LocalProtocolError` if a field
        does not fit its wire width."""
        try:
            return self._encode()
        except struct.error as exc:
            raise LocalProtocolError(f"{type(self).__name__}: field out of range ({exc})") from exc

    def _encode(self) -> bytes:
        raise NotImplementedError

    @classmethod
    def _decode(cls, data: bytes) -> RedirectionMessage:
        """Build the message from exactly ``frame_length`` bytes."""
        raise NotImplementedError


def _length_at(prefix: bytes | bytearray | memoryview, offset: int, fmt: str, base: int) -> int | None:
    """``base`` + the length field ``fmt`` at ``offset``, or ``None`` while the field is not in yet."""
    if len(prefix) < offset + struct.calcsize(fmt):
        return None
    return base + int(struct.unpack_from(fmt, prefix, offset)[0])


@dataclass(frozen=True, kw_only=True)
class SequencedMessage(RedirectionMessage):
    """A SOL or IDE-R message: 8-byte header ``type, 00, 00, attributes, LE32 seq``.

    ``seq`` counts the messages one side sent in the SOL/IDE-R phase; :class:`SequenceCounter`
    stamps it so that builders (like the IDE-R drive set) can leave it at 0.
    """

    seq: int = 0

    def _header(self, byte1: int = 0, attributes: int = 0) -> bytes:
        return struct.pack("<BBBBI", self.TYPE, byte1, 0, attributes, self.seq)

    @staticmethod
    def _unpack_header(data: bytes) -> tuple[int, int, int]:
        """(byte1, attributes, seq)."""
        _, byte1, _, attributes, seq = struct.unpack_from("<BBBBI", data)
        return byte1, attributes, seq


@dataclass(frozen=True, kw_only=True)
class _HeaderOnly(SequencedMessage):
    """Messages that are just the 8-byte header (pings, heartbeats, end/close)."""

    SIZE: ClassVar[int] = 8

    def _encode(self) -> bytes:
        return self._header()

    @classmethod
    def _decode(cls, data: bytes) -> RedirectionMessage:
        return cls(seq=cls._unpack_header(data)[2])


# --------------------------------------------------------------------------------------------
# session manager messages (0x10-0x14)


@dataclass(frozen=True, kw_only=True)
class StartRedirectionSession(RedirectionMessage):
    """``10 vv 00 00`` + 4-byte session tag; the first bytes a console sends.

    ``version`` is byte 1: 0 for SOL and IDE-R, 1 for KVM as MeshCommander sends it; use
    :meth:`for_session` to get the usual value.
    """

    TYPE: ClassVar[MessageType] = MessageType.START_REDIRECTION_SESSION
    SIZE: ClassVar[int] = 8

    session: SessionType
    version: int = 0

    @classmethod
    def for_session(cls, session: SessionType) -> StartRedirectionSession:
        return cls(session=session, version=1 if session is SessionType.KVM else 0)

    def _encode(self) -> bytes:
        return struct.pack("<BBBB", self.TYPE, self.version, 0, 0) + self.session.value

    @classmethod
    def _decode(cls, data: bytes) -> RedirectionMessage:
        try:
            session = SessionType(bytes(data[4:8]))
        except ValueError as error:
            raise RedirectionProtocolError(
                f"unknown redirection session type {bytes(data[4:8])!r}", message_type=cls.TYPE
            ) from error
        return cls(session=session, version=data[1])


@dataclass(frozen=True, kw_only=True)
class StartRedirectionSessionReply(RedirectionMessage):
    """``11 status`` + 10 bytes (not interpreted by any public client) + OEM length + OEM data."""

    TYPE: ClassVar[MessageType] = MessageType.START_REDIRECTION_SESSION_REPLY
    SIZE: ClassVar[int] = 13

    status: int = STATUS_SUCCESS
    oem_data: bytes = b""

    @property
    def ok(self) -> bool:
        return self.status == STATUS_SUCCESS

    @classmethod
    def frame_length(cls, prefix: bytes | bytearray | memoryview) -> int | None:
        return _length_at(prefix, 12, "<B", 13)

    def _encode(self) -> bytes:
        return struct.pack("<BB10xB", self.TYPE, self.status, len(self.oem_data)) + self.oem_data

    @classmethod
    def _decode(cls, data: bytes) -> RedirectionMessage:
        return cls(status=data[1], oem_data=bytes(data[13:]))


@dataclass(frozen=True, kw_only=True)
class EndRedirectionSession(RedirectionMessage):
    """``12 00 00 00``: the console closes the whole session."""

    TYPE: ClassVar[MessageType] = MessageType.END_REDIRECTION_SESSION
    SIZE: ClassVar[int] = 4

    def _encode(self) -> bytes:
        return bytes((self.TYPE, 0, 0, 0))

    @classmethod
    def _decode(cls, data: bytes) -> RedirectionMessage:
        return cls()


def _pack_strings(values: Iterable[str]) -> bytes:
    out = bytearray()
    for value in values:
        raw = value.encode("utf-8")
        if len(raw) > 0xFF:
            raise LocalProtocolError(f"authentication field longer than 255 bytes: {value[:20]!r}...")
        out.append(len(raw))
        out += raw
    return bytes(out)


def _unpack_strings(data: bytes, count: int, what: str) -> list[str]:
    """``count`` length-prefixed strings that must fill ``data`` exactly."""
    values: list[str] = []
    pos = 0
    for _ in range(count):
        if pos >= len(data):
            raise RedirectionProtocolError(f"{what}: {count} fields expected, data ends after {len(values)}")
        length = data[pos]
        end = pos + 1 + length
        if end > len(data):
            raise RedirectionProtocolError(f"{what}: field {len(values) + 1} runs past the data")
        try:
            values.append(data[pos + 1 : end].decode("utf-8"))
        except UnicodeDecodeError as error:
            raise RedirectionProtocolError(f"{what}: field {len(values) + 1} is not UTF-8") from error
        pos = end
    if pos != len(data):
        raise RedirectionProtocolError(f"{what}: {len(data) - pos} bytes after the last field")
    return values


@dataclass(frozen=True)
class DigestChallenge:
    """Data of AuthenticateSessionReply status 1: ``[len]realm [len]nonce [len]qop``.

    ``qop`` is ``None`` for the RFC 2069 form (type 3), which has no qop field.
    """

    realm: str
    nonce: str
    qop: str | None = "auth"

    def to_bytes(self) -> bytes:
        return _pack_strings([self.realm, self.nonce] + ([] if self.qop is None else [self.qop]))

    @classmethod
    def from_bytes(cls, data: bytes, auth_type: int = AuthType.DIGEST_QOP) -> DigestChallenge:
        if auth_type == AuthType.DIGEST_QOP:
            realm, nonce, qop = _unpack_strings(data, 3, "digest challenge")
            return cls(realm, nonce, qop)
        realm, nonce = _unpack_strings(data, 2, "digest challenge")
        return cls(realm, nonce, None)


@dataclass(frozen=True, kw_only=True)
class DigestAuthFields:
    """Data of AuthenticateSession type 3/4: ``[len]user [len]realm [len]nonce [len]uri [len]cnonce
    [len]nc [len]response`` (+ ``[len]qop`` for type 4).

    The first message of the exchange has only ``username`` and ``uri`` set.  ``repr`` shows
    no secrets because none are here: the response is a hash.
    """

    username: str
    realm: str = ""
    nonce: str = ""
    uri: str = REDIRECTION_AUTH_URI
    cnonce: str = ""
    nc: str = ""
    response: str = ""
    qop: str = ""

    @property
    def is_initial(self) -> bool:
        """True for the first message (asks AMT for a challenge)."""
        return not (self.realm or self.nonce or self.response)

    def to_bytes(self, auth_type: int = AuthType.DIGEST_QOP) -> bytes:
        values = [self.username, self.realm, self.nonce, self.uri, self.cnonce, self.nc, self.response]
        if auth_type == AuthType.DIGEST_QOP:
            values.append(self.qop)
        return _pack_strings(values)

    @classmethod
    def from_bytes(cls, data: bytes, auth_type: int = AuthType.DIGEST_QOP) -> DigestAuthFields:
        count = 8 if auth_type == AuthType.DIGEST_QOP else 7
        values = _unpack_strings(data, count, "digest authentication")
        username, realm, nonce, uri, cnonce, nc, response = values[:7]
        return cls(
            username=username, realm=realm, nonce=nonce, uri=uri, cnonce=cnonce, nc=nc,
            response=response, qop=values[7] if count == 8 else "",
        )

    def expected_response(self, credentials: Credentials) -> str:
        """The response a console holding ``credentials`` must send for these fields."""
        return compute_response(
            credentials.ha1(self.realm), self.nonce, self.nc, self.cnonce, self.qop or None,
            REDIRECTION_AUTH_METHOD, self.uri,
        )

    def verify(self, credentials: Credentials) -> bool:
        """Firmware side: does ``response`` prove knowledge of ``credentials``' password?

        The caller must also check that ``realm`` and ``nonce`` are the ones it issued.
        """
        if self.is_initial or self.username != credentials.username:
            return False
        expected = self.expected_response(credentials).encode("ascii")
        return hmac.compare_digest(expected, self.response.lower().encode("utf-8"))


@dataclass(frozen=True, kw_only=True)
class AuthenticateSession(RedirectionMessage):
    """``13 00 00 00 <type> <LE32 len> <data>``; see the module docstring for the exchange.

    Build with :meth:`query`, :meth:`basic`, :meth:`digest_start`, :meth:`digest_answer`;
    read the data with :meth:`digest_fields` / :meth:`basic_fields`.
    """

    TYPE: ClassVar[MessageType] = MessageType.AUTHENTICATE_SESSION
    SIZE: ClassVar[int] = 9

    auth_type: AuthType
    data: bytes = b""

    @classmethod
    def frame_length(cls, prefix: bytes | bytearray | memoryview) -> int | None:
        return _length_at(prefix, 5, "<I", 9)

    def _encode(self) -> bytes:
        return struct.pack("<BxxxBI", self.TYPE, self.auth_type, len(self.data)) + self.data

    @classmethod
    def _decode(cls, data: bytes) -> RedirectionMessage:
        return cls(auth_type=_auth_type(data[4], cls.TYPE), data=bytes(data[9:]))

    @classmethod
    def query(cls) -> AuthenticateSession:
        """Ask which authentication methods the firmware supports."""
        return cls(auth_type=AuthType.QUERY)

    @classmethod
    def basic(cls, username: str, password: str) -> AuthenticateSession:
        """Type 1 (old firmware): ``[len]user [len]password`` in clear."""
        return cls(auth_type=AuthType.BASIC, data=_pack_strings([username, password]))

    @classmethod
    def digest_start(
        cls, username: str, *, auth_type: AuthType = AuthType.DIGEST_QOP, uri: str = REDIRECTION_AUTH_URI
    ) -> AuthenticateSession:
        """First digest message: user name and URI, every other field empty."""
        return cls(auth_type=auth_type, data=DigestAuthFields(username=username, uri=uri).to_bytes(auth_type))

    @classmethod
    def digest_answer(
        cls,
        credentials: Credentials,
        challenge: DigestChallenge,
        *,
        cnonce: str | None = None,
        nc: str = "00000002",
        uri: str = REDIRECTION_AUTH_URI,
    ) -> AuthenticateSession:
        """Answer a challenge. ``nc`` defaults to ``00000002`` like MeshCommander; ``cnonce`` to
        32 random hex digits. Type 4 when the challenge has a qop, else type 3."""
        auth_type = AuthType.DIGEST if challenge.qop is None else AuthType.DIGEST_QOP
        fields = DigestAuthFields(
            username=credentials.username, realm=challenge.realm, nonce=challenge.nonce, uri=uri,
            cnonce=os.urandom(16).hex() if cnonce is None else cnonce, nc=nc, qop=challenge.qop or "",
        )
        fields = replace(fields, response=fields.expected_response(credentials))
        return cls(auth_type=auth_type, data=fields.to_bytes(auth_type))

    def digest_fields(self) -> DigestAuthFields:
        """Parse the data of a digest message. Raises :class:`RedirectionProtocolError`."""
        if self.auth_type not in (AuthType.DIGEST, AuthType.DIGEST_QOP):
            raise RedirectionProtocolError(f"not a digest message: {self.auth_type.name}", message_type=self.TYPE)
        return DigestAuthFields.from_bytes(self.data, self.auth_type)

    def basic_fields(self) -> tuple[str, str]:
        """(user, password) of a type-1 message. Raises :class:`RedirectionProtocolError`."""
        if self.auth_type is not AuthType.BASIC:
            raise RedirectionProtocolError(f"not a basic message: {self.auth_type.name}", message_type=self.TYPE)
        username, password = _unpack_strings(self.data, 2, "basic authentication")
        return username, password

    def __repr__(self) -> str:  # never show a basic-auth password
        shown = "<redacted>" if self.auth_type is AuthType.BASIC else repr(self.data)
        return f"AuthenticateSession(auth_type={self.auth_type.name}, data={shown})"


def _auth_type(value: int, message_type: int) -> AuthType:
    try:
        return AuthType(value)
    except ValueError as error:
        raise RedirectionProtocolError(f"unknown authentication type {value}", message_type=message_type) from error


@dataclass(frozen=True, kw_only=True)
class AuthenticateSessionReply(RedirectionMessage):
    """``14 <status> 00 00 <type> <LE32 len> <data>``.

    To a query: status 0, type 0, data = list of method bytes.  To a digest start: status
    :data:`AUTH_STATUS_CHALLENGE` with a :class:`DigestChallenge`.  Final: status 0 = success,
    anything else = refused.
    """

    TYPE: ClassVar[MessageType] = MessageType.AUTHENTICATE_SESSION_REPLY
    SIZE: ClassVar[int] = 9

    status: int = STATUS_SUCCESS
    auth_type: AuthType = AuthType.QUERY
    data: bytes = b""

    @property
    def ok(self) -> bool:
        return self.status == STATUS_SUCCESS

    @property
    def is_challenge(self) -> bool:
        return self.status == AUTH_STATUS_CHALLENGE

    @classmethod
    def frame_length(cls, prefix: bytes | bytearray | memoryview) -> int | None:
        return _length_at(prefix, 5, "<I", 9)

    def _encode(self) -> bytes:
        return struct.pack("<BBxxBI", self.TYPE, self.status, self.auth_type, len(self.data)) + self.data

    @classmethod
    def _decode(cls, data: bytes) -> RedirectionMessage:
        return cls(status=data[1], auth_type=_auth_type(data[4], cls.TYPE), data=bytes(data[9:]))

    @classmethod
    def methods_reply(cls, methods: Iterable[int]) -> AuthenticateSessionReply:
        """Answer to a query: the supported method codes, in order."""
        return cls(status=STATUS_SUCCESS, auth_type=AuthType.QUERY, data=bytes(methods))

    @classmethod
    def challenge_reply(cls, challenge: DigestChallenge) -> AuthenticateSessionReply:
        auth_type = AuthType.DIGEST if challenge.qop is None else AuthType.DIGEST_QOP
        return cls(status=AUTH_STATUS_CHALLENGE, auth_type=auth_type, data=challenge.to_bytes())

    def methods(self) -> tuple[int, ...]:
        """Method codes listed in a query reply (compare with :class:`AuthType` members)."""
        return tuple(self.data)

    def challenge(self) -> DigestChallenge:
        """Parse a digest challenge. Raises :class:`RedirectionProtocolError`."""
        if not self.is_challenge or self.auth_type not in (AuthType.DIGEST, AuthType.DIGEST_QOP):
            raise RedirectionProtocolError(
                f"not a digest challenge (status {self.status}, type {self.auth_type.name})", message_type=self.TYPE
            )
        return DigestChallenge.from_bytes(self.data, self.auth_type)


# --------------------------------------------------------------------------------------------
# serial over LAN (0x20-0x2B)


@dataclass(frozen=True, kw_only=True)
class StartSOLRedirection(SequencedMessage):
    """0x20, 24 bytes: header, then LE16 MaxTxBuffer, TxTimeout, TxOverflowTimeout, RxTimeout,
    RxFlushTimeout, Heartbeat (ms) and LE32 0. Defaults are MeshCommander's."""

    TYPE: ClassVar[MessageType] = MessageType.START_SOL_REDIRECTION
    SIZE: ClassVar[int] = 24

    max_tx_buffer: int = 10000
    tx_timeout: int = 100
    tx_overflow_timeout: int = 0
    rx_timeout: int = 10000
    rx_flush_timeout: int = 100
    heartbeat: int = 0

    def _encode(self) -> bytes:
        return self._header() + struct.pack(
            "<6H4x", self.max_tx_buffer, self.tx_timeout, self.tx_overflow_timeout,
            self.rx_timeout, self.rx_flush_timeout, self.heartbeat,
        )

    @classmethod
    def _decode(cls, data: bytes) -> RedirectionMessage:
        values = struct.unpack_from("<6H", data, 8)
        return cls(
            seq=cls._unpack_header(data)[2], max_tx_buffer=values[0], tx_timeout=values[1],
            tx_overflow_timeout=values[2], rx_timeout=values[3], rx_flush_timeout=values[4], heartbeat=values[5],
        )


@dataclass(frozen=True, kw_only=True)
class StartSOLRedirectionReply(SequencedMessage):
    """0x21, 23 bytes (assuming no OEM data); only the status byte is interpreted."""

    TYPE: ClassVar[MessageType] = MessageType.START_SOL_REDIRECTION_REPLY
    SIZE: ClassVar[int] = 23

    status: int = STATUS_SUCCESS

    @property
    def ok(self) -> bool:
        return self.status == STATUS_SUCCESS

    def _encode(self) -> bytes:
        return self._header(byte1=self.status) + bytes(15)

    @classmethod
    def _decode(cls, data: bytes) -> RedirectionMessage:
        status, _, seq = cls._unpack_header(data)
        return cls(seq=seq, status=status)


@dataclass(frozen=True, kw_only=True)
class EndSOLRedirection(_HeaderOnly):
    TYPE: ClassVar[MessageType] = MessageType.END_SOL_REDIRECTION


@dataclass(frozen=True, kw_only=True)
class EndSOLRedirectionReply(_HeaderOnly):
    TYPE: ClassVar[MessageType] = MessageType.END_SOL_REDIRECTION_REPLY


@dataclass(frozen=True, kw_only=True)
class SOLKeepAlivePing(_HeaderOnly):
    TYPE: ClassVar[MessageType] = MessageType.SOL_KEEP_ALIVE_PING


@dataclass(frozen=True, kw_only=True)
class SOLKeepAlivePong(_HeaderOnly):
    TYPE: ClassVar[MessageType] = MessageType.SOL_KEEP_ALIVE_PONG


@dataclass(frozen=True, kw_only=True)
class SOLHeartbeat(_HeaderOnly):
    TYPE: ClassVar[MessageType] = MessageType.SOL_HEARTBEAT


@dataclass(frozen=True, kw_only=True)
class _SOLData(SequencedMessage):
    """Header, LE16 length, bytes."""

    SIZE: ClassVar[int] = 10

    data: bytes = b""

    @classmethod
    def frame_length(cls, prefix: bytes | bytearray | memoryview) -> int | None:
        return _length_at(prefix, 8, "<H", 10)

    def _encode(self) -> bytes:
        return self._header() + struct.pack("<H", len(self.data)) + self.data

    @classmethod
    def _decode(cls, data: bytes) -> RedirectionMessage:
        return cls(seq=cls._unpack_header(data)[2], data=bytes(data[10:]))


@dataclass(frozen=True, kw_only=True)
class SOLDataToHost(_SOLData):
    """0x28: console keystrokes for the host's serial port."""

    TYPE: ClassVar[MessageType] = MessageType.SOL_DATA_TO_HOST


@dataclass(frozen=True, kw_only=True)
class SOLDataFromHost(_SOLData):
    """0x2A: what the host wrote to its serial port."""

    TYPE: ClassVar[MessageType] = MessageType.SOL_DATA_FROM_HOST


class SOLControlLines(IntFlag):
    """Byte 8 of SOL_CONTROLS_FROM_HOST: the host's COM port control lines [amtterm]."""

    NONE = 0
    RTS = 0x01
    DTR = 0x02
    BREAK = 0x04


class SOLStatus(IntFlag):
    """Byte 9 of SOL_CONTROLS_FROM_HOST: SOL and host status [amtterm RedirectionConstants.h]."""

    NONE = 0
    TX_OVERFLOW = 0x01
    LOOPBACK = 0x02
    POWER_ON = 0x04
    """The host is powered on."""
    RX_FLUSH_TIMEOUT = 0x08
    TEST_MODE = 0x10


@dataclass(frozen=True, kw_only=True)
class SOLSerialSettings(SequencedMessage):
    """0x27, 14 bytes: header + 6 bytes.  MeshCommander, MeshCentral and Intel's ui-toolkit send it
    right after the SOL start reply, always with ``00 00 1B 00 00 00``; its fields are not
    documented, AMT takes it without an answer.  Kept as raw ``payload``."""

    TYPE: ClassVar[MessageType] = MessageType.SOL_SERIAL_SETTINGS
    SIZE: ClassVar[int] = 14

    payload: bytes = b"\x00\x00\x1b\x00\x00\x00"

    def _encode(self) -> bytes:
        if len(self.payload) != 6:
            raise LocalProtocolError(f"SOL serial settings carry 6 bytes, not {len(self.payload)}")
        return self._header() + self.payload

    @classmethod
    def _decode(cls, data: bytes) -> RedirectionMessage:
        return cls(seq=cls._unpack_header(data)[2], payload=bytes(data[8:14]))


@dataclass(frozen=True, kw_only=True)
class SOLControlsFromHost(SequencedMessage):
    """0x29, 10 bytes: control lines (:class:`SOLControlLines`) and status (:class:`SOLStatus`)."""

    TYPE: ClassVar[MessageType] = MessageType.SOL_CONTROLS_FROM_HOST
    SIZE: ClassVar[int] = 10

    control: int = 0
    status: int = 0

    def _encode(self) -> bytes:
        return self._header() + struct.pack("<BB", self.control, self.status)

    @classmethod
    def _decode(cls, data: bytes) -> RedirectionMessage:
        return cls(seq=cls._unpack_header(data)[2], control=data[8], status=data[9])


# --------------------------------------------------------------------------------------------
# IDE redirection (0x40-0x54)


@dataclass(frozen=True, kw_only=True)
class StartIDERRedirection(SequencedMessage):
    """0x40, 18 bytes: header, LE16 rx_timeout, tx_timeout, heartbeat (ms), LE32 version.

    MeshCommander's layout (after the common header); amtterm packs the timeouts at bytes 1-10
    instead.  Defaults are MeshCommander's.
    """

    TYPE: ClassVar[MessageType] = MessageType.START_IDER_REDIRECTION
    SIZE: ClassVar[int] = 18

    rx_timeout: int = 30000
    tx_timeout: int = 0
    heartbeat: int = 20000
    version: int = 1

    def _encode(self) -> bytes:
        return self._header() + struct.pack("<3HI", self.rx_timeout, self.tx_timeout, self.heartbeat, self.version)

    @classmethod
    def _decode(cls, data: bytes) -> RedirectionMessage:
        rx, tx, heartbeat, version = struct.unpack_from("<3HI", data, 8)
        return cls(seq=cls._unpack_header(data)[2], rx_timeout=rx, tx_timeout=tx, heartbeat=heartbeat, version=version)


@dataclass(frozen=True, kw_only=True)
class StartIDERRedirectionReply(SequencedMessage):
    """0x41, 30 bytes + OEM data: status @1, protocol version @8-9, firmware version @10-11,
    read/write buffer sizes LE16 @16/@18, protocol @21 (clients require 0), IANA LE32 @25,
    OEM length @29.

    ``read_buffer_size`` bounds every data-to-host message the console sends; MeshCommander and
    amtterm refuse sizes above 8192.
    """

    TYPE: ClassVar[MessageType] = MessageType.START_IDER_REDIRECTION_REPLY
    SIZE: ClassVar[int] = 30

    status: int = STATUS_SUCCESS
    protocol_major: int = 1
    protocol_minor: int = 0
    firmware_major: int = 0
    firmware_minor: int = 0
    read_buffer_size: int = 8192
    write_buffer_size: int = 8192
    protocol: int = 0
    iana: int = IANA_INTEL
    oem_data: bytes = b""

    @property
    def ok(self) -> bool:
        return self.status == STATUS_SUCCESS

    @classmethod
    def frame_length(cls, prefix: bytes | bytearray | memoryview) -> int | None:
        return _length_at(prefix, 29, "<B", 30)

    def _encode(self) -> bytes:
        return (
            self._header(byte1=self.status)
            + struct.pack(
                "<BBBB4xHHxB3xIB", self.protocol_major, self.protocol_minor, self.firmware_major,
                self.firmware_minor, self.read_buffer_size, self.write_buffer_size, self.protocol,
                self.iana, len(self.oem_data),
            )
            + self.oem_data
        )

    @classmethod
    def _decode(cls, data: bytes) -> RedirectionMessage:
        status, _, seq = cls._unpack_header(data)
        pmaj, pmin, fmaj, fmin, rbuf, wbuf, proto, iana, _ = struct.unpack_from("<BBBB4xHHxB3xIB", data, 8)
        return cls(
            seq=seq, status=status, protocol_major=pmaj, protocol_minor=pmin, firmware_major=fmaj,
            firmware_minor=fmin, read_buffer_size=rbuf, write_buffer_size=wbuf, protocol=proto, iana=iana,
            oem_data=bytes(data[30:]),
        )


@dataclass(frozen=True, kw_only=True)
class EndIDERRedirection(_HeaderOnly):
    TYPE: ClassVar[MessageType] = MessageType.END_IDER_REDIRECTION


@dataclass(frozen=True, kw_only=True)
class EndIDERRedirectionReply(_HeaderOnly):
    TYPE: ClassVar[MessageType] = MessageType.END_IDER_REDIRECTION_REPLY


@dataclass(frozen=True, kw_only=True)
class IDERKeepAlivePing(_HeaderOnly):
    TYPE: ClassVar[MessageType] = MessageType.IDER_KEEP_ALIVE_PING


@dataclass(frozen=True, kw_only=True)
class IDERKeepAlivePong(_HeaderOnly):
    TYPE: ClassVar[MessageType] = MessageType.IDER_KEEP_ALIVE_PONG


@dataclass(frozen=True, kw_only=True)
class IDERHeartbeat(_HeaderOnly):
    TYPE: ClassVar[MessageType] = MessageType.IDER_HEARTBEAT


@dataclass(frozen=True, kw_only=True)
class IDERResetOccurred(SequencedMessage):
    """0x46, 9 bytes: the host reset the IDE channel; byte 8 = reset mask."""

    TYPE: ClassVar[MessageType] = MessageType.IDER_RESET_OCCURRED
    SIZE: ClassVar[int] = 9

    mask: int = 0

    def _encode(self) -> bytes:
        return self._header() + bytes((self.mask,))

    @classmethod
    def _decode(cls, data: bytes) -> RedirectionMessage:
        return cls(seq=cls._unpack_header(data)[2], mask=data[8])


@dataclass(frozen=True, kw_only=True)
class IDERResetOccurredResponse(_HeaderOnly):
    """0x47: reset acknowledged (send it once no transfer is in flight)."""

    TYPE: ClassVar[MessageType] = MessageType.IDER_RESET_OCCURRED_RESPONSE


def _feature_request(value: int, message_type: int) -> IDERFeatureRequest:
    try:
        return IDERFeatureRequest(value)
    except ValueError as error:
        raise RedirectionProtocolError(f"unknown IDE-R feature request {value}", message_type=message_type) from error


@dataclass(frozen=True, kw_only=True)
class IDERDisableEnableFeatures(SequencedMessage):
    """0x48: 9 bytes, plus a LE32 value for SET_REGISTER_STATE (13 bytes)."""

    TYPE: ClassVar[MessageType] = MessageType.IDER_DISABLE_ENABLE_FEATURES
    SIZE: ClassVar[int] = 9

    request: IDERFeatureRequest
    value: int = 0
    """Only on the wire for SET_REGISTER_STATE: :data:`IDER_FEATURE_ENABLE` | :class:`IDERStartMode`."""

    @classmethod
    def enable(cls, start: IDERStartMode = IDERStartMode.ON_REBOOT) -> IDERDisableEnableFeatures:
        """Enable the IDE-R devices on the host, appearing per ``start``."""
        return cls(request=IDERFeatureRequest.SET_REGISTER_STATE, value=IDER_FEATURE_ENABLE | start)

    @classmethod
    def frame_length(cls, prefix: bytes | bytearray | memoryview) -> int | None:
        if len(prefix) < 9:
            return None
        return 13 if prefix[8] == IDERFeatureRequest.SET_REGISTER_STATE else 9

    def _encode(self) -> bytes:
        body = bytes((self.request,))
        if self.request is IDERFeatureRequest.SET_REGISTER_STATE:
            body += struct.pack("<I", self.value)
        elif self.value:
            raise LocalProtocolError(f"{self.request.name} carries no value (got {self.value:#x})")
        return self._header() + body

    @classmethod
    def _decode(cls, data: bytes) -> RedirectionMessage:
        request = _feature_request(data[8], cls.TYPE)
        value = struct.unpack_from("<I", data, 9)[0] if len(data) == 13 else 0
        return cls(seq=cls._unpack_header(data)[2], request=request, value=value)


@dataclass(frozen=True, kw_only=True)
class IDERDisableEnableFeaturesReply(SequencedMessage):
    """0x49, 13 bytes: request @8, LE32 value @9 (SET: 1 = done; GET_REGISTER_STATE: bit 1 =
    IDE-R enabled; GET_SUPPORTED: bit 0 = toggling supported)."""

    TYPE: ClassVar[MessageType] = MessageType.IDER_DISABLE_ENABLE_FEATURES_REPLY
    SIZE: ClassVar[int] = 13

    request: IDERFeatureRequest
    value: int = 0

    def _encode(self) -> bytes:
        return self._header() + struct.pack("<BI", self.request, self.value)

    @classmethod
    def _decode(cls, data: bytes) -> RedirectionMessage:
        request = _feature_request(data[8], cls.TYPE)
        return cls(seq=cls._unpack_header(data)[2], request=request, value=struct.unpack_from("<I", data, 9)[0])


@dataclass(frozen=True, kw_only=True)
class IDERErrorOccurred(SequencedMessage):
    """0x4A, 11 bytes: byte 8 = error code; bytes 9-10 are not interpreted by public clients."""

    TYPE: ClassVar[MessageType] = MessageType.IDER_ERROR_OCCURRED
    SIZE: ClassVar[int] = 11

    code: int = 0

    def _encode(self) -> bytes:
        return self._header() + bytes((self.code, 0, 0))

    @classmethod
    def _decode(cls, data: bytes) -> RedirectionMessage:
        return cls(seq=cls._unpack_header(data)[2], code=data[8])


@dataclass(frozen=True, kw_only=True)
class IDERCommandWritten(SequencedMessage):
    """0x50, 28 bytes: the ATA task file the host wrote plus the 12-byte ATAPI packet.

    Layout (amtterm ``ider_command_written_message``): cable select @8, feature @9 (bit 0 =
    DMA), sector count @10, sector number @11, LE16 byte count @12, drive select @14 (bit 4 =
    CD, :class:`Device`), ATA command @15 (0xA0 = PACKET), CDB @16-27.
    """

    TYPE: ClassVar[MessageType] = MessageType.IDER_COMMAND_WRITTEN
    SIZE: ClassVar[int] = 28
    ATA_PACKET: ClassVar[int] = 0xA0

    cdb: bytes = bytes(12)
    attributes: int = 0
    cable_select: int = 0
    feature: int = 0
    sector_count: int = 0
    sector_number: int = 0
    byte_count: int = 0
    drive_select: int = Device.FLOPPY
    command: int = 0xA0

    @classmethod
    def packet(cls, device: Device, cdb: bytes, *, dma: bool = False, byte_count: int = 0) -> IDERCommandWritten:
        """An ATAPI PACKET command for ``device``; ``cdb`` is zero-padded to 12 bytes."""
        if len(cdb) > 12:
            raise LocalProtocolError(f"ATAPI CDB longer than 12 bytes ({len(cdb)})")
        return cls(
            cdb=bytes(cdb).ljust(12, b"\0"), feature=1 if dma else 0, byte_count=byte_count,
            drive_select=int(device), command=cls.ATA_PACKET,
        )

    @property
    def device(self) -> Device:
        return Device.from_drive_select(self.drive_select)

    @property
    def dma(self) -> bool:
        return bool(self.feature & 1)

    @property
    def opcode(self) -> int:
        return self.cdb[0]

    def _encode(self) -> bytes:
        if len(self.cdb) != 12:
            raise LocalProtocolError(f"CDB must be 12 bytes, got {len(self.cdb)}")
        return (
            self._header(attributes=self.attributes)
            + struct.pack(
                "<BBBBHBB", self.cable_select, self.feature, self.sector_count, self.sector_number,
                self.byte_count, self.drive_select, self.command,
            )
            + self.cdb
        )

    @classmethod
    def _decode(cls, data: bytes) -> RedirectionMessage:
        _, attributes, seq = cls._unpack_header(data)
        cable, feature, count, number, byte_count, drive, command = struct.unpack_from("<BBBBHBB", data, 8)
        return cls(
            seq=seq, attributes=attributes, cable_select=cable, feature=feature, sector_count=count,
            sector_number=number, byte_count=byte_count, drive_select=drive, command=command,
            cdb=bytes(data[16:28]),
        )


@dataclass(frozen=True)
class AtaRegisters:
    """One ATA register block as IDE-R carries it (amtterm ``ider_data_regs``), 8 bytes:
    valid-mask, error, sector count, sector number, LE16 byte count, drive select, status.

    In ATAPI the sector count register is the interrupt reason (2 = data to host, 3 =
    command complete) and the error register holds the sense key in bits 7-4.
    """

    mask: int = 0
    error: int = 0
    sector_count: int = 0
    sector_number: int = 0
    byte_count: int = 0
    drive_select: int = 0
    status: int = 0

    _FORMAT: ClassVar[str] = "<BBBBHBB"

    def to_bytes(self) -> bytes:
        return struct.pack(
            self._FORMAT, self.mask, self.error, self.sector_count, self.sector_number,
            self.byte_count, self.drive_select, self.status,
        )

    @classmethod
    def from_bytes(cls, data: bytes, offset: int = 0) -> AtaRegisters:
        return cls(*struct.unpack_from(cls._FORMAT, data, offset))


# Register values the console reports, as MeshCommander (tested against real firmware) does.
_INTERRUPT_REASON_DATA_IN = 0x02
_INTERRUPT_REASON_COMPLETE = 0x03
_MASK_DATA_IN_PIO = 0xB5
_MASK_DATA_IN_DMA = 0xB4
_MASK_END_GOOD = 0xC5
_MASK_END_SENSE = 0x87
_MASK_DATA_COMPLETE = 0x85


@dataclass(frozen=True, kw_only=True)
class _RegisterMessage(SequencedMessage):
    """The 23-byte body shared by 0x51, 0x52 and 0x54: cable select @8, LE16 transfer bytes @9,
    packet number @11, input registers @12, output registers @20, sense key/ASC/ASCQ @28."""

    _BODY: ClassVar[str] = "<BHB8s8sBBB"

    attributes: int = IDERAttributes.COMPLETED
    cable_select: int = 0
    input: AtaRegisters = field(default_factory=AtaRegisters)
    output: AtaRegisters = field(default_factory=AtaRegisters)
    sense_key: int = 0
    asc: int = 0
    ascq: int = 0

    def _body(self, transfer_bytes: int, packet_number: int = 0) -> bytes:
        return struct.pack(
            self._BODY, self.cable_select, transfer_bytes, packet_number, self.input.to_bytes(),
            self.output.to_bytes(), self.sense_key, self.asc, self.ascq,
        )

    @classmethod
    def _decode(cls, data: bytes) -> RedirectionMessage:
        _, attributes, seq = cls._unpack_header(data)
        cable, transfer, packet, inp, out, key, asc, ascq = struct.unpack_from(cls._BODY, data, 8)
        return cls(
            seq=seq, attributes=attributes, cable_select=cable, input=AtaRegisters.from_bytes(inp),
            output=AtaRegisters.from_bytes(out), sense_key=key, asc=asc, ascq=ascq,
            **cls._own_fields(transfer, packet, bytes(data[cls.SIZE :])),
        )

    @classmethod
    def _own_fields(cls, transfer_bytes: int, packet_number: int, tail: bytes) -> dict[str, Any]:
        """Subclass hook: the fields a message has beyond the common body, from the body's transfer
        bytes and packet number and the bytes after it."""
        raise NotImplementedError

    @property
    def completed(self) -> bool:
        """This message ends the command (its output registers hold the final status)."""
        return bool(self.attributes & IDERAttributes.COMPLETED)

    @property
    def failed(self) -> bool:
        """The final status has ERR set: a CHECK CONDITION whose sense is in this message."""
        return self.completed and bool(self.output.status & AtaStatus.ERR)

    @property
    def sense(self) -> tuple[int, int, int]:
        """(sense key, ASC, ASCQ)."""
        return self.sense_key, self.asc, self.ascq


def _drive(device: Device | int) -> int:
    return Device.from_drive_select(int(device)).value


@dataclass(frozen=True, kw_only=True)
class _StatusMessage(_RegisterMessage):
    """0x51 and 0x52: the register body alone, with transfer bytes and packet number as fields."""

    SIZE: ClassVar[int] = 31

    transfer_bytes: int = 0
    packet_number: int = 0

    def _encode(self) -> bytes:
        return self._header(attributes=self.attributes) + self._body(self.transfer_bytes, self.packet_number)

    @classmethod
    def _own_fields(cls, transfer_bytes: int, packet_number: int, tail: bytes) -> dict[str, Any]:
        return {"transfer_bytes": transfer_bytes, "packet_number": packet_number}


@dataclass(frozen=True, kw_only=True)
class IDERCommandEndResponse(_StatusMessage):
    """0x51, 31 bytes: the console ends a command without (more) data.

    :meth:`good` and :meth:`check_condition` build the two forms MeshCommander sends.
    """

    TYPE: ClassVar[MessageType] = MessageType.IDER_COMMAND_END_RESPONSE

    @classmethod
    def good(cls, device: Device | int) -> IDERCommandEndResponse:
        """Command complete, status DRDY|DSC, no sense."""
        output = AtaRegisters(
            mask=_MASK_END_GOOD, sector_count=_INTERRUPT_REASON_COMPLETE, drive_select=_drive(device),
            status=AtaStatus.DRDY | AtaStatus.DSC,
        )
        return cls(output=output)

    @classmethod
    def check_condition(cls, device: Device | int, sense_key: int, asc: int, ascq: int = 0) -> IDERCommandEndResponse:
        """CHECK CONDITION: status DRDY|DSC|ERR, error register = sense key << 4, plus sense."""
        output = AtaRegisters(
            mask=_MASK_END_SENSE, error=(sense_key << 4) & 0xFF, sector_count=_INTERRUPT_REASON_COMPLETE,
            drive_select=_drive(device), status=AtaStatus.DRDY | AtaStatus.DSC | AtaStatus.ERR,
        )
        return cls(output=output, sense_key=sense_key, asc=asc, ascq=ascq)



@dataclass(frozen=True, kw_only=True)
class IDERGetDataFromHost(_StatusMessage):
    """0x52, 31 bytes: the console asks for ``transfer_bytes`` of host write data."""

    TYPE: ClassVar[MessageType] = MessageType.IDER_GET_DATA_FROM_HOST

    attributes: int = IDERAttributes.NONE

    @classmethod
    def request(cls, device: Device | int, length: int) -> IDERGetDataFromHost:
        """Ask for ``length`` bytes (PIO), as MeshCommander does for floppy writes."""
        regs = AtaRegisters(
            mask=_MASK_DATA_IN_PIO, byte_count=length, drive_select=_drive(device),
            status=AtaStatus.DRDY | AtaStatus.DSC | AtaStatus.DRQ,
        )
        return cls(transfer_bytes=length, input=regs)



@dataclass(frozen=True, kw_only=True)
class IDERDataFromHost(SequencedMessage):
    """0x53: host write data; 14-byte header with LE16 length @9, then the data."""

    TYPE: ClassVar[MessageType] = MessageType.IDER_DATA_FROM_HOST
    SIZE: ClassVar[int] = 14

    attributes: int = 0
    data: bytes = b""

    @classmethod
    def frame_length(cls, prefix: bytes | bytearray | memoryview) -> int | None:
        return _length_at(prefix, 9, "<H", 14)

    def _encode(self) -> bytes:
        return self._header(attributes=self.attributes) + struct.pack("<xH3x", len(self.data)) + self.data

    @classmethod
    def _decode(cls, data: bytes) -> RedirectionMessage:
        _, attributes, seq = cls._unpack_header(data)
        return cls(seq=seq, attributes=attributes, data=bytes(data[14:]))


_NO_REGISTERS = AtaRegisters()


@functools.lru_cache(maxsize=64)
def _data_in_registers(drive: int, dma: bool, byte_count: int) -> AtaRegisters:
    return AtaRegisters(
        mask=_MASK_DATA_IN_DMA if dma else _MASK_DATA_IN_PIO, sector_count=_INTERRUPT_REASON_DATA_IN,
        byte_count=byte_count, drive_select=drive, status=AtaStatus.DRDY | AtaStatus.DSC | AtaStatus.DRQ,
    )


@functools.lru_cache(maxsize=4)
def _data_complete_registers(drive: int) -> AtaRegisters:
    return AtaRegisters(mask=_MASK_DATA_COMPLETE, sector_count=_INTERRUPT_REASON_COMPLETE, drive_select=drive,
                        status=AtaStatus.DRDY | AtaStatus.DSC)


@dataclass(frozen=True, kw_only=True)
class IDERDataToHost(_RegisterMessage):
    """0x54: read data for the host; 34-byte header (transfer bytes = data length @9) + data.

    A command's data may span several messages, each no larger than the firmware's read
    buffer; the last one has :attr:`IDERAttributes.COMPLETED` and final status in ``output``,
    and then no 0x51 follows.  Build with :meth:`chunk`.
    """

    TYPE: ClassVar[MessageType] = MessageType.IDER_DATA_TO_HOST
    SIZE: ClassVar[int] = 34

    data: bytes = b""

    @classmethod
    def chunk(cls, device: Device | int, data: bytes, *, completed: bool, dma: bool = False) -> IDERDataToHost:
        """One piece of a data-in transfer, with the register values MeshCommander sends."""
        drive = _drive(device)
        # Register blocks are immutable and few: cached, since a transfer builds one message per read buffer.
        inp = _data_in_registers(drive, dma, 0 if dma else len(data))
        attributes = IDERAttributes.DMA if dma else IDERAttributes.NONE
        if completed:
            return cls(attributes=int(attributes | IDERAttributes.COMPLETED), input=inp,
                       output=_data_complete_registers(drive), data=data)
        return cls(attributes=int(attributes), input=inp, output=_NO_REGISTERS, data=data)

    @classmethod
    def frame_length(cls, prefix: bytes | bytearray | memoryview) -> int | None:
        return _length_at(prefix, 9, "<H", 34)

    def _encode(self) -> bytes:
        return self._header(attributes=self.attributes) + self._body(len(self.data)) + bytes(3) + self.data

    @classmethod
    def _own_fields(cls, transfer_bytes: int, packet_number: int, tail: bytes) -> dict[str, Any]:
        return {"data": tail}


# --------------------------------------------------------------------------------------------
# decoding


_MESSAGE_CLASSES: tuple[type[RedirectionMessage], ...] = (
    StartRedirectionSession, StartRedirectionSessionReply, EndRedirectionSession, AuthenticateSession,
    AuthenticateSessionReply, StartSOLRedirection, StartSOLRedirectionReply, EndSOLRedirection,
    EndSOLRedirectionReply, SOLKeepAlivePing, SOLKeepAlivePong, SOLSerialSettings, SOLDataToHost, SOLControlsFromHost,
    SOLDataFromHost, SOLHeartbeat, StartIDERRedirection, StartIDERRedirectionReply, EndIDERRedirection,
    EndIDERRedirectionReply, IDERKeepAlivePing, IDERKeepAlivePong, IDERResetOccurred,
    IDERResetOccurredResponse, IDERDisableEnableFeatures, IDERDisableEnableFeaturesReply, IDERErrorOccurred,
    IDERHeartbeat, IDERCommandWritten, IDERCommandEndResponse, IDERGetDataFromHost, IDERDataFromHost,
    IDERDataToHost,
)
_BY_TYPE: dict[int, type[RedirectionMessage]] = {cls.TYPE: cls for cls in _MESSAGE_CLASSES}


def message_class(message_type: int) -> type[RedirectionMessage]:
    """The class for a type byte. Raises :class:`RedirectionProtocolError` if unknown."""
    try:
        return _BY_TYPE[message_type]
    except KeyError as error:
        raise RedirectionProtocolError(
            f"unknown redirection message type {message_type:#04x}", message_type=message_type
        ) from error


def _frame(
    buffer: bytes | bytearray | memoryview, direction: Direction | None, max_message_size: int
) -> tuple[type[RedirectionMessage], int | None]:
    """The class of the message at the start of ``buffer`` and its total length (``None``: need
    more bytes to tell). Raises :class:`RedirectionProtocolError` for what can never be valid."""
    cls = message_class(buffer[0])
    if direction is not None and cls.DIRECTION not in (direction, Direction.BOTH):
        raise RedirectionProtocolError(
            f"{cls.TYPE.name} is sent {cls.DIRECTION.value}; unexpected {direction.value}", message_type=cls.TYPE
        )
    length = cls.frame_length(buffer)
    if length is not None and length > max_message_size:
        raise RedirectionProtocolError(
            f"{cls.TYPE.name} announces {length} bytes, more than the {max_message_size} allowed",
            message_type=cls.TYPE,
        )
    return cls, length


def decode_message(
    data: bytes, *, direction: Direction | None = None, max_message_size: int = MAX_MESSAGE_SIZE
) -> RedirectionMessage:
    """Decode exactly one whole message.

    Raises :class:`RedirectionProtocolError` if ``data`` is empty, truncated, followed by extra
    bytes, of an unknown type, has a bad field, or does not travel in ``direction``.
    """
    if not data:
        raise RedirectionProtocolError("no bytes to decode")
    cls, length = _frame(data, direction, max_message_size)
    if length is None or length > len(data):
        need = "more" if length is None else str(length)
        raise RedirectionProtocolError(
            f"truncated {cls.TYPE.name}: {len(data)} bytes, needs {need}", message_type=cls.TYPE
        )
    if length < len(data):
        raise RedirectionProtocolError(
            f"{len(data) - length} bytes after a whole {cls.TYPE.name}", message_type=cls.TYPE
        )
    return cls._decode(bytes(data))


class RedirectionDecoder:
    """Incremental decoder: :meth:`feed` bytes as they arrive, get whole messages back.

    Partial messages stay buffered until the rest arrives, so any split of the stream gives
    the same messages.  ``direction`` rejects messages that flow the other way (a console
    decoder uses ``Direction.TO_CONSOLE``).  ``max_message_size`` caps what a length field may
    announce, so a hostile peer cannot make the decoder buffer gigabytes.

    After a :class:`RedirectionProtocolError` the stream is out of step and cannot recover:
    every further :meth:`feed` raises the same error.
    """

    def __init__(self, *, direction: Direction | None = None, max_message_size: int = MAX_MESSAGE_SIZE) -> None:
        if max_message_size < 1:
            raise ValueError("max_message_size must be positive")
        self.direction = direction
        self.max_message_size = max_message_size
        self._buffer = bytearray()
        self._error: RedirectionProtocolError | None = None

    @property
    def buffered(self) -> int:
        """Bytes received that do not yet form a whole message."""
        return len(self._buffer)

    def feed(self, data: bytes | bytearray | memoryview) -> list[RedirectionMessage]:
        """Add received bytes; return every message they complete, in order.

        Raises :class:`RedirectionProtocolError` on garbage; messages completed before the
        garbage in the same call are lost with it (the connection must be dropped anyway).
        """
        if self._error is not None:
            raise self._error
        self._buffer += data
        messages: list[RedirectionMessage] = []
        pos = 0
        try:
            while pos < len(self._buffer):
                with memoryview(self._buffer) as whole, whole[pos:] as view:
                    cls, length = _frame(view, self.direction, self.max_message_size)
                    if length is None or length > len(view):
                        break
                    raw = bytes(view[:length])
                messages.append(cls._decode(raw))
                pos += length
        except RedirectionProtocolError as exc:
            self._error = exc
            self._buffer.clear()
            raise
        del self._buffer[:pos]
        return messages

    def close(self) -> None:
        """The peer closed the stream. Raises :class:`RedirectionProtocolError` if a message was cut."""
        if self._error is not None:
            raise self._error
        if self._buffer:
            raise RedirectionProtocolError(
                f"stream ended inside a message ({len(self._buffer)} bytes buffered)", message_type=self._buffer[0]
            )


_S = TypeVar("_S", bound=SequencedMessage)


class SequenceCounter:
    """Sequence numbers of one direction of a SOL/IDE-R session (32-bit, wrapping).

    The sender :meth:`stamp`-s each outgoing message; the receiver :meth:`check`-s each
    incoming one (MeshCommander drops the session on a gap).
    """

    def __init__(self, start: int = 0) -> None:
        self.next_seq = start & 0xFFFFFFFF

    def stamp(self, message: _S) -> _S:
        """``message`` with the next sequence number."""
        stamped = replace(message, seq=self.next_seq)
        self.next_seq = (self.next_seq + 1) & 0xFFFFFFFF
        return stamped

    def stamp_into(self, buffer: bytearray, message: SequencedMessage) -> None:
        """Append the wire bytes of ``message`` with the next sequence number to ``buffer``.

        The same bytes as ``stamp(message).encode()`` without building the stamped copy: the hot
        path of a console serving an image, one message per read buffer.
        """
        start = len(buffer)
        buffer += message.encode()
        struct.pack_into("<I", buffer, start + 4, self.next_seq)
        self.next_seq = (self.next_seq + 1) & 0xFFFFFFFF

    def check(self, message: SequencedMessage) -> None:
        """Accept ``message`` if it carries the expected number, else raise :class:`RedirectionProtocolError`."""
        if message.seq != self.next_seq:
            raise RedirectionProtocolError(
                f"{message.TYPE.name} out of sequence: got {message.seq}, expected {self.next_seq}",
                message_type=message.TYPE,
            )
        self.next_seq = (self.next_seq + 1) & 0xFFFFFFFF
