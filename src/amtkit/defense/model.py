"""System Defense vocabulary: filters, policies and packets as plain, immutable Python values.

Intel AMT's System Defense (formerly "Circuit Breaker") lets the management engine filter the
host operating system's network traffic on the shared NIC. The firmware objects are:

* ``AMT_IPHeadersFilter`` - matches IPv4/IPv6 headers (version, protocol, addresses with masks,
  one port range per side) -> :class:`IPHeaderFilter`;
* ``AMT_Hdr8021Filter`` - matches the Ethernet header's EtherType (``HdrProtocolID8021``, e.g. 2048
  IPv4, 2054 ARP) -> :class:`EthernetFilter`;
* ``AMT_SystemDefensePolicy`` - a named, ordered list of filters plus a default action per direction
  (``TxDefaultDrop``/``Count``/``MatchEvent``, ``RxDefault...``) -> :class:`Policy`.

Both filter classes share ``FilterProfile`` (what happens on a match), ``FilterDirection`` and
``ActionEventOnMatch``. Values and property names follow the AMT class definitions as used by
MeshCommander and Intel LMS (see docs/filters.md).

Nothing here does I/O. Addresses are :mod:`ipaddress` objects; a filter's address plus mask is an
``ip_network`` (``HdrSrcAddress``/``HdrSrcMask`` on the wire), which is lossless because AMT compares
``packet & mask == address & mask``.

Errors (all subclasses of :class:`DefenseError`, itself a :class:`ValueError`)::

    DefenseError
    ├─ InvalidFilterError    a field value AMT would refuse (port 70000, ports on ICMP, ...)
    ├─ LimitError            more policies or filters than the firmware holds
    ├─ ManagerSpecError      (engine) a bad ``ADDR[:PORTS]`` manager spec
    └─ CBFiltersError        (cbfilters) a CBFilters.xml file that cannot be used
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum, IntEnum
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import TypeAlias, TypeVar

from amtkit.exceptions import UsageError

__all__ = [
    "MAX_FILTERS",
    "MAX_POLICIES",
    "Action",
    "DefaultAction",
    "DefenseError",
    "EtherType",
    "EthernetFilter",
    "Filter",
    "FilterDirection",
    "FilterProfile",
    "IPAddress",
    "IPHeaderFilter",
    "IPNetwork",
    "IPProtocol",
    "InvalidFilterError",
    "LimitError",
    "Packet",
    "Policy",
    "PortRange",
    "format_port_list",
    "parse_port_list",
    "policy_in_force",
    "validate_limits",
]

IPAddress: TypeAlias = IPv4Address | IPv6Address
"""An IPv4 or IPv6 host address."""
IPNetwork: TypeAlias = IPv4Network | IPv6Network
"""An address with its mask, as AMT filters store them."""

MAX_POLICIES = 8
"""System Defense policies the firmware stores at once."""
MAX_FILTERS = 80
"""Filters (IP header and Ethernet together) the firmware stores at once, over all policies."""


class DefenseError(UsageError):
    """Base of every System Defense error raised by :mod:`amtkit.defense`: a filter set, policy, manager
    spec or value amtkit cannot use (an :class:`~amtkit.exceptions.UsageError`, exit code 2, and a
    ``ValueError``)."""


class InvalidFilterError(DefenseError):
    """A filter, policy or packet field has a value AMT cannot represent or would refuse."""


class LimitError(DefenseError):
    """More policies or filters than the firmware can hold (category ``amt-status``, exit code 10, as
    :class:`~amtkit.exceptions.DefenseLimitError`).

    ``what`` is ``"policies"``, ``"filters"`` or ``"filters in policy '<name>'"``; ``limit`` the AMT
    maximum; ``actual`` the count asked for.
    """

    category = "amt-status"

    def __init__(self, what: str, limit: int, actual: int) -> None:
        super().__init__(f"{actual} {what}; AMT holds at most {limit}")
        self.what = what
        self.limit = limit
        self.actual = actual


class FilterProfile(IntEnum):
    """What a filter does to a packet it matches (``FilterProfile`` of both filter classes)."""

    PASS_WITH_STATISTICS = 0
    """AMT 0 "Allow + Count": let the packet through and count it in ``AMT_ActiveFilterStatistics``."""
    DROP_WITH_STATISTICS = 1
    """AMT 1 "Drop + Count": discard the packet and count it."""
    RATE_LIMIT = 2
    """AMT 2 "Rate limit": let matching packets through up to ``FilterProfileData`` packets per second."""
    PASS = 3
    """AMT 3 "Allow": let the packet through, no counting."""
    DROP = 4
    """AMT 4 "Drop": discard the packet, no counting."""

    @property
    def action(self) -> Action:
        """The :class:`Action` a match with this profile takes."""
        return _PROFILE_ACTION[self]

    @property
    def counted(self) -> bool:
        """Whether a match increments the filter's statistics counter (profiles 0 and 1)."""
        return self in (FilterProfile.PASS_WITH_STATISTICS, FilterProfile.DROP_WITH_STATISTICS)


class FilterDirection(IntEnum):
    """Which way a packet travels, seen from the managed host (``FilterDirection``)."""

    TRANSMIT = 0
    """AMT 0: outbound, sent by the host onto the network (a ``Tx...`` default applies)."""
    RECEIVE = 1
    """AMT 1: inbound, arriving from the network for the host (an ``Rx...`` default applies)."""

    @property
    def opposite(self) -> FilterDirection:
        """The direction of a reply."""
        return FilterDirection.RECEIVE if self is FilterDirection.TRANSMIT else FilterDirection.TRANSMIT


class IPProtocol(IntEnum):
    """IP protocol numbers (IANA; ``HdrProtocolID`` of ``AMT_IPHeadersFilter``).

    Filters accept any number 0-255 as well; these are the ones amtkit names.
    """

    ICMP = 1
    """Internet Control Message Protocol (IPv4). AMT filters cannot tell ICMP types apart."""
    TCP = 6
    """Transmission Control Protocol."""
    UDP = 17
    """User Datagram Protocol."""
    ICMPV6 = 58
    """ICMP for IPv6; carries IPv6 neighbour discovery, which IPv6 needs to work at all."""
    ANY = 256
    """Wildcard, not a protocol number: the filter ignores the protocol (``HdrProtocolID`` left out)."""


class EtherType(IntEnum):
    """Common EtherType values (``HdrProtocolID8021`` of ``AMT_Hdr8021Filter``)."""

    IPV4 = 0x0800
    """2048: IPv4; the EtherType of packets an ``ip_version=4`` :class:`IPHeaderFilter` sees."""
    ARP = 0x0806
    """2054: ARP; IPv4 hosts cannot reach even their gateway without it."""
    IPV6 = 0x86DD
    """34525: IPv6."""


class Action(Enum):
    """What happens to a packet, as decided by a filter or a policy default."""

    PASS = "pass"
    """The packet goes through."""
    DROP = "drop"
    """The packet is discarded."""
    RATE_LIMIT = "rate-limit"
    """The packet goes through unless the filter's packets-per-second budget is spent."""

    @property
    def passes(self) -> bool:
        """True for actions that (at least sometimes) let the packet through."""
        return self is not Action.DROP


_UINT32_MAX = 0xFFFFFFFF

_PROFILE_ACTION = {
    FilterProfile.PASS_WITH_STATISTICS: Action.PASS,
    FilterProfile.DROP_WITH_STATISTICS: Action.DROP,
    FilterProfile.RATE_LIMIT: Action.RATE_LIMIT,
    FilterProfile.PASS: Action.PASS,
    FilterProfile.DROP: Action.DROP,
}
_PROFILE_TEXT = {
    FilterProfile.PASS_WITH_STATISTICS: "pass+count",
    FilterProfile.DROP_WITH_STATISTICS: "drop+count",
    FilterProfile.RATE_LIMIT: "rate-limit",
    FilterProfile.PASS: "pass",
    FilterProfile.DROP: "drop",
}
_IP_ETHERTYPE: dict[int, int] = {4: EtherType.IPV4, 6: EtherType.IPV6}
_ETHERTYPE_IP: dict[int, int] = {EtherType.IPV4: 4, EtherType.IPV6: 6}


# -- ports ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, order=True)
class PortRange:
    """An inclusive TCP/UDP port range, ``start <= port <= end`` (``HdrSrcPortStart``/``End`` etc.).

    Raises :class:`InvalidFilterError` if a bound is outside 0-65535 or ``start > end``.
    """

    start: int
    end: int

    def __post_init__(self) -> None:
        for port in (self.start, self.end):
            if not 0 <= port <= 65535:
                raise InvalidFilterError(f"port {port} out of range (0-65535)")
        if self.start > self.end:
            raise InvalidFilterError(f"port range {self.start}-{self.end} is reversed")

    @classmethod
    def single(cls, port: int) -> PortRange:
        """The range holding exactly ``port``."""
        return cls(port, port)

    def __contains__(self, port: object) -> bool:
        return isinstance(port, int) and self.start <= port <= self.end

    def __len__(self) -> int:
        return self.end - self.start + 1

    def __str__(self) -> str:
        return str(self.start) if self.start == self.end else f"{self.start}-{self.end}"


def parse_port_list(text: str) -> tuple[PortRange, ...]:
    """Parse ``"443,50120-50124"`` into port ranges, in the order written.

    Spaces around commas are allowed. Raises :class:`InvalidFilterError` with the offending item
    (``port 70000 out of range (0-65535)``, ``'44x' is not a port or port range``).
    """
    ranges = []
    for item in text.split(","):
        item = item.strip()
        low, sep, high = item.partition("-")
        if not low.isdigit() or (sep and not high.isdigit()) or len(low) > 5 or len(high) > 5:
            raise InvalidFilterError(f"{item!r} is not a port or port range")
        ranges.append(PortRange(int(low), int(high) if sep else int(low)))
    return tuple(ranges)


def format_port_list(ranges: Iterable[PortRange]) -> str:
    """The inverse of :func:`parse_port_list`: ``"443,50120-50124"``."""
    return ",".join(str(r) for r in ranges)


# -- filters ----------------------------------------------------------------------------------------


def _check_common(direction: object, profile: object, rate_limit: int | None) -> None:
    if not isinstance(direction, FilterDirection):
        raise InvalidFilterError(f"direction must be a FilterDirection, not {direction!r}")
    if not isinstance(profile, FilterProfile):
        raise InvalidFilterError(f"profile must be a FilterProfile, not {profile!r}")
    if profile is FilterProfile.RATE_LIMIT:
        if rate_limit is None or not 1 <= rate_limit <= _UINT32_MAX:
            raise InvalidFilterError(
                f"a rate-limit filter needs rate_limit between 1 and {_UINT32_MAX} pkt/s"
            )
    elif rate_limit is not None:
        raise InvalidFilterError(f"rate_limit is only meaningful with profile RATE_LIMIT, not {profile.name}")


def _profile_text(profile: FilterProfile, rate_limit: int | None) -> str:
    text = _PROFILE_TEXT[profile]
    return f"{text} {rate_limit} pkt/s" if profile is FilterProfile.RATE_LIMIT else text


def _protocol_text(protocol: int) -> str:
    try:
        return IPProtocol(protocol).name.lower()
    except ValueError:
        return f"protocol {protocol}"


def _endpoint_text(network: IPNetwork | None, ports: PortRange | None) -> str:
    if network is None or network.prefixlen == 0:
        where = "any"
    elif network.prefixlen == network.max_prefixlen:
        where = str(network.network_address)
    else:
        where = str(network)
    if ports is None:
        return where
    return f"{where} port{'' if ports.start == ports.end else 's'} {ports}"


@dataclass(frozen=True, slots=True, kw_only=True)
class IPHeaderFilter:
    """An ``AMT_IPHeadersFilter``: matches IP packets by header fields.

    Every field left at its default matches anything. A packet matches when all of these hold:
    same ``direction``; IP version ``ip_version``; ``protocol`` (or ``IPProtocol.ANY``); source
    address inside ``src`` and destination inside ``dst``; source port inside ``src_ports`` and
    destination port inside ``dst_ports``.

    ``profile`` decides what a match does; ``rate_limit`` (packets per second, ``FilterProfileData``)
    is required with ``FilterProfile.RATE_LIMIT`` and forbidden otherwise. ``event_on_match``
    (``ActionEventOnMatch``) makes AMT raise an event for each match. ``name`` is free text.

    Raises :class:`InvalidFilterError` for values AMT cannot represent: IP version other than 4/6,
    an address of the other version, a protocol outside 0-255, port ranges on a protocol other
    than TCP or UDP.
    """

    direction: FilterDirection
    profile: FilterProfile
    ip_version: int = 4
    protocol: int = IPProtocol.ANY
    src: IPNetwork | None = None
    dst: IPNetwork | None = None
    src_ports: PortRange | None = None
    dst_ports: PortRange | None = None
    rate_limit: int | None = None
    event_on_match: bool = False
    name: str = ""

    def __post_init__(self) -> None:
        _check_common(self.direction, self.profile, self.rate_limit)
        if self.ip_version not in (4, 6):
            raise InvalidFilterError(f"ip_version must be 4 or 6, not {self.ip_version!r}")
        for side, network in (("src", self.src), ("dst", self.dst)):
            if network is not None and network.version != self.ip_version:
                raise InvalidFilterError(f"{side} {network} is not an IPv{self.ip_version} network")
        if self.protocol != IPProtocol.ANY and not 0 <= self.protocol <= 255:
            raise InvalidFilterError(f"protocol {self.protocol} out of range (0-255)")
        if (self.src_ports or self.dst_ports) and self.protocol not in (IPProtocol.TCP, IPProtocol.UDP):
            raise InvalidFilterError(
                f"port ranges need protocol tcp or udp, not {_protocol_text(self.protocol)}"
            )

    @property
    def ethertype(self) -> int:
        """The EtherType of the packets this filter can match (IPv4 or IPv6)."""
        return _IP_ETHERTYPE[self.ip_version]

    def describe(self) -> str:
        """One line for people, e.g. ``receive pass: IPv4 tcp from 10.0.0.5 port 443 to any``."""
        proto = "" if self.protocol == IPProtocol.ANY else f" {_protocol_text(self.protocol)}"
        text = (
            f"{self.direction.name.lower()} {_profile_text(self.profile, self.rate_limit)}: "
            f"IPv{self.ip_version}{proto} from {_endpoint_text(self.src, self.src_ports)} "
            f"to {_endpoint_text(self.dst, self.dst_ports)}"
        )
        return f"{text}{' (event)' if self.event_on_match else ''}{f' [{self.name}]' if self.name else ''}"


@dataclass(frozen=True, slots=True, kw_only=True)
class EthernetFilter:
    """An ``AMT_Hdr8021Filter``: matches frames by EtherType (``HdrProtocolID8021``).

    Fields as in :class:`IPHeaderFilter`. Raises :class:`InvalidFilterError` if ``ethertype`` is
    outside 0-0xFFFF.
    """

    direction: FilterDirection
    profile: FilterProfile
    ethertype: int
    rate_limit: int | None = None
    event_on_match: bool = False
    name: str = ""

    def __post_init__(self) -> None:
        _check_common(self.direction, self.profile, self.rate_limit)
        if not 0 <= self.ethertype <= 0xFFFF:
            raise InvalidFilterError(f"EtherType {self.ethertype:#x} out of range (0-0xFFFF)")

    def describe(self) -> str:
        """One line for people, e.g. ``transmit pass: EtherType 0x0806 (ARP)``."""
        try:
            known = f" ({EtherType(self.ethertype).name})"
        except ValueError:
            known = ""
        text = (
            f"{self.direction.name.lower()} {_profile_text(self.profile, self.rate_limit)}: "
            f"EtherType {self.ethertype:#06x}{known}"
        )
        return f"{text}{' (event)' if self.event_on_match else ''}{f' [{self.name}]' if self.name else ''}"


Filter: TypeAlias = IPHeaderFilter | EthernetFilter
"""Either kind of System Defense filter."""


# -- policies ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DefaultAction:
    """What a policy does with packets no filter matched, for one direction.

    Maps to ``TxDefaultDrop``/``TxDefaultCount``/``TxDefaultMatchEvent`` (transmit) or the ``Rx``
    trio (receive): ``drop`` discards instead of passing, ``count`` counts the packets, ``event``
    raises an AMT event for each.
    """

    drop: bool = False
    count: bool = False
    event: bool = False

    @property
    def action(self) -> Action:
        """``Action.DROP`` or ``Action.PASS``."""
        return Action.DROP if self.drop else Action.PASS


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    """An ``AMT_SystemDefensePolicy``: ordered filters plus a default action per direction.

    ``name`` is ``PolicyName``; ``precedence`` is ``PolicyPrecedence``; ``anti_spoofing`` drops
    transmitted IP packets whose source is not one of the host's own addresses (see
    :mod:`amtkit.defense.engine`); ``timeout`` is how many seconds the policy stays active before it
    is removed again, or ``None`` for no limit. ``filters`` are evaluated in order, first match wins.

    A list given as ``filters`` is stored as a tuple. ``precedence`` and ``timeout`` are 32-bit
    unsigned values. Raises :class:`InvalidFilterError` for an empty name, a precedence outside
    0-4294967295 or a timeout outside 1-4294967295 s. Firmware limits are checked separately by
    :func:`validate_limits`.
    """

    name: str
    precedence: int = 0
    transmit_default: DefaultAction = field(default_factory=DefaultAction)
    receive_default: DefaultAction = field(default_factory=DefaultAction)
    anti_spoofing: bool = False
    timeout: int | None = None
    filters: tuple[Filter, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.filters, tuple):
            object.__setattr__(self, "filters", tuple(self.filters))
        if not self.name:
            raise InvalidFilterError("a policy needs a name")
        if not 0 <= self.precedence <= _UINT32_MAX:
            raise InvalidFilterError(f"precedence {self.precedence} out of range (0-{_UINT32_MAX})")
        if self.timeout is not None and not 1 <= self.timeout <= _UINT32_MAX:
            raise InvalidFilterError(
                f"timeout {self.timeout} s out of range (1-{_UINT32_MAX}), or None for no limit"
            )

    def default_for(self, direction: FilterDirection) -> DefaultAction:
        """The default action for packets travelling in ``direction``."""
        return self.transmit_default if direction is FilterDirection.TRANSMIT else self.receive_default


_Activated = TypeVar("_Activated")


def policy_in_force(activated: Iterable[_Activated], precedence: Callable[[_Activated], int]) -> _Activated | None:
    """Which of the policies activated on one port System Defense enforces (None: none is activated).

    ``activated`` comes in activation order, the order the device lists its
    ``AMT_NetworkPortSystemDefensePolicy`` associations. The highest ``PolicyPrecedence`` wins; of equal
    precedences the earliest activation does, so activating a second policy of the same precedence
    changes nothing until the first one is deactivated (what make-before-break relies on). The client
    (:meth:`amtkit.defense.client.DefenseState.active_policy`) and the simulator (Rule 3 of
    ``amtsim.backends.defense``) both decide with this one rule.
    """
    return max(activated, key=precedence, default=None)  # max() keeps the first of equal keys


def validate_limits(policies: Iterable[Policy]) -> None:
    """Check that ``policies`` fit into the firmware at the same time.

    At most :data:`MAX_POLICIES` policies and :data:`MAX_FILTERS` filters. Filters are firmware objects
    that several policies may reference, so identical filters count once over the set; within one
    policy every entry counts.

    Raises :class:`LimitError` naming what overflowed.
    """
    policies = list(policies)
    if len(policies) > MAX_POLICIES:
        raise LimitError("policies", MAX_POLICIES, len(policies))
    for policy in policies:
        if len(policy.filters) > MAX_FILTERS:
            raise LimitError(f"filters in policy {policy.name!r}", MAX_FILTERS, len(policy.filters))
    distinct = {f for policy in policies for f in policy.filters}
    if len(distinct) > MAX_FILTERS:
        raise LimitError("filters", MAX_FILTERS, len(distinct))


# -- packets ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Packet:
    """One packet, or one representative packet of a flow, as System Defense sees it.

    ``direction`` is from the host's point of view; ``ethertype`` says what the frame carries. For IP
    packets (EtherType IPv4/IPv6) ``protocol``, addresses and ports describe the headers. A field left
    ``None`` is *unknown* (the host's ephemeral port, a DHCP server's address): filters that do not
    constrain that field still match, filters that do constrain it do not.

    Build IP packets with :meth:`ip`; get the answer with :meth:`reply`. Raises
    :class:`InvalidFilterError` for inconsistent fields (an IPv6 address in an IPv4 packet, ports on
    a non-IP frame, a port outside 0-65535).
    """

    direction: FilterDirection
    ethertype: int = EtherType.IPV4
    protocol: int | None = None
    src: IPAddress | None = None
    dst: IPAddress | None = None
    src_port: int | None = None
    dst_port: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.direction, FilterDirection):
            raise InvalidFilterError(f"direction must be a FilterDirection, not {self.direction!r}")
        if not 0 <= self.ethertype <= 0xFFFF:
            raise InvalidFilterError(f"EtherType {self.ethertype:#x} out of range (0-0xFFFF)")
        version = self.ip_version
        if version is None:
            if any(v is not None for v in (self.protocol, self.src, self.dst, self.src_port, self.dst_port)):
                raise InvalidFilterError(
                    f"EtherType {self.ethertype:#06x} is not IP: no IP header fields allowed"
                )
            return
        for side, address in (("src", self.src), ("dst", self.dst)):
            if address is not None and address.version != version:
                raise InvalidFilterError(f"{side} {address} is not an IPv{version} address")
        if self.protocol is not None and not 0 <= self.protocol <= 255:
            raise InvalidFilterError(f"protocol {self.protocol} out of range (0-255)")
        for port in (self.src_port, self.dst_port):
            if port is not None and not 0 <= port <= 65535:
                raise InvalidFilterError(f"port {port} out of range (0-65535)")

    @classmethod
    def ip(
        cls,
        direction: FilterDirection,
        protocol: int,
        *,
        src: IPAddress | None = None,
        dst: IPAddress | None = None,
        src_port: int | None = None,
        dst_port: int | None = None,
        version: int | None = None,
    ) -> Packet:
        """An IP packet; the EtherType follows from the addresses, else from ``version`` (default 4)."""
        if version is None:
            known = src if src is not None else dst
            version = known.version if known is not None else 4
        if version not in _IP_ETHERTYPE:
            raise InvalidFilterError(f"IP version must be 4 or 6, not {version!r}")
        return cls(direction, _IP_ETHERTYPE[version], protocol, src, dst, src_port, dst_port)

    @property
    def ip_version(self) -> int | None:
        """4 or 6 for IP packets (derived from the EtherType), else ``None``."""
        return _ETHERTYPE_IP.get(self.ethertype)

    def reply(self) -> Packet:
        """The answer to this packet: the other direction, addresses and ports swapped."""
        return Packet(
            self.direction.opposite,
            self.ethertype,
            self.protocol,
            self.dst,
            self.src,
            self.dst_port,
            self.src_port,
        )

    def describe(self) -> str:
        """One line for people, e.g. ``transmit tcp any -> 10.0.0.5:443``."""
        head = self.direction.name.lower()
        if self.ip_version is None:
            try:
                return f"{head} EtherType {self.ethertype:#06x} ({EtherType(self.ethertype).name})"
            except ValueError:
                return f"{head} EtherType {self.ethertype:#06x}"
        proto = "ip" if self.protocol is None else _protocol_text(self.protocol)
        return (
            f"{head} {proto} {_host_text(self.src, self.src_port)} -> {_host_text(self.dst, self.dst_port)}"
        )


def _host_text(address: IPAddress | None, port: int | None) -> str:
    where = (
        "any"
        if address is None
        else (f"[{address}]" if address.version == 6 and port is not None else str(address))
    )
    return where if port is None else f"{where}:{port}"
