"""The one System Defense evaluation engine: which rule decides a packet, and who gets locked out.

The client's lockout check and the simulator's packet filter both call this module, so the answer
"would this packet pass?" has exactly one implementation and the two can never disagree.

The matching rule
-----------------

For a packet travelling in direction D (transmit = sent by the host, receive = arriving for it):

1. Anti-spoofing. If the policy has ``anti_spoofing`` and the caller named the host's addresses,
   a *transmitted IP* packet whose known source address is not one of them is dropped. Nothing else
   is checked. (AMT learns the host's addresses itself; here the caller supplies them.)
2. First match. The policy's filters are tried in policy order; only filters of direction D take
   part. The first filter that matches decides, by its profile: pass (counted or not), drop
   (counted or not) or rate-limit. A filter matches when every constraint it has holds:

   * Ethernet filter: the frame's EtherType equals the filter's;
   * IP header filter: the frame is IPv4 (EtherType 0x0800) for ``ip_version=4`` or IPv6 (0x86DD)
     for 6; the IP protocol equals the filter's unless the filter says ``ANY``; the source address
     lies inside the filter's source network, the destination inside its destination network; the
     source and destination ports lie inside the filter's port ranges.

   A constraint the filter does not have (no network, ``ANY`` protocol, no port range, a /0 mask)
   holds for every packet. A constraint it does have never holds for a packet field that is unknown
   (``None``): an unknown ephemeral port does not match a range, an ICMP packet has no ports.
3. Default. No filter matched: the policy's default action for D decides (pass or drop, with its
   count and event flags).

AMT does not publish the order in which the firmware walks a policy's filters. amtkit defines it as
above and writes its filter sets so that no packet is matched by both a pass and a drop filter,
which makes the order irrelevant for them.

Speed
-----

:func:`compile_policy` turns a :class:`~amtkit.defense.model.Policy` into flat integer tuples split
by direction, once; :meth:`CompiledPolicy.evaluate` is then a short loop of integer comparisons. The
simulator keeps one :class:`CompiledPolicy` per active policy; :func:`evaluate` and
:func:`check_lockout` compile on each call (an 80-filter policy compiles in well under a
millisecond).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from ipaddress import ip_address

from amtkit.defense.model import (
    Action,
    DefaultAction,
    DefenseError,
    EthernetFilter,
    EtherType,
    Filter,
    FilterDirection,
    IPAddress,
    IPNetwork,
    IPProtocol,
    Packet,
    Policy,
    PortRange,
    format_port_list,
    parse_port_list,
)

__all__ = [
    "DEFAULT_MANAGER_PORTS",
    "Blocked",
    "CompiledPolicy",
    "ManagerSpec",
    "ManagerSpecError",
    "Verdict",
    "check_lockout",
    "compile_policy",
    "evaluate",
    "matches",
    "parse_manager_spec",
    "peer_flows",
    "remediation_flows",
]

DEFAULT_MANAGER_PORTS: tuple[PortRange, ...] = (PortRange(443, 443), PortRange(50120, 50124))
"""Manager ports assumed when a manager spec names none: TCP 443 (HTTPS to the management server)
and 50120-50124 (the task server's channel), the same ports the shipped ``filters/CBFilters.xml``
allows."""

_MAX_EXPANDED_RANGE = 256
"""Port ranges up to this size are checked port by port; larger ones at both ends and the middle."""

_UNKNOWN = -1


class ManagerSpecError(DefenseError):
    """A manager spec that is not ``ADDR[:PORTS]``; the message says which part is wrong."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of evaluating one packet against one policy.

    ``action`` is what happens to the packet. ``filter_index`` is the position in ``policy.filters``
    of the filter that decided, or ``None`` when the policy's default action (or anti-spoofing)
    decided. ``counted`` says whether AMT counts the packet; ``event`` whether it raises an event.
    ``anti_spoofing`` is true when the packet was dropped as spoofed.
    """

    action: Action
    filter_index: int | None
    counted: bool
    event: bool
    anti_spoofing: bool = False

    @property
    def passes(self) -> bool:
        """True if the packet goes through (pass, or rate-limit while under the limit)."""
        return self.action.passes


_SPOOFED = Verdict(Action.DROP, None, counted=False, event=False, anti_spoofing=True)

# One compiled filter: EtherType, protocol, src net, src mask, dst net, dst mask, src port low/high,
# dst port low/high, index. _UNKNOWN (-1) in protocol or port-low means "no constraint"; mask 0 too.
_Compiled = tuple[int, int, int, int, int, int, int, int, int, int, int]


def _network_ints(network: IPNetwork | None) -> tuple[int, int]:
    if network is None:
        return 0, 0
    return int(network.network_address), int(network.netmask)


def _range_ints(ports: PortRange | None) -> tuple[int, int]:
    return (_UNKNOWN, _UNKNOWN) if ports is None else (ports.start, ports.end)


def _compile_filter(f: Filter, index: int) -> _Compiled:
    if isinstance(f, EthernetFilter):
        return (f.ethertype, _UNKNOWN, 0, 0, 0, 0, _UNKNOWN, _UNKNOWN, _UNKNOWN, _UNKNOWN, index)
    sn, sm = _network_ints(f.src)
    dn, dm = _network_ints(f.dst)
    sp_lo, sp_hi = _range_ints(f.src_ports)
    dp_lo, dp_hi = _range_ints(f.dst_ports)
    protocol = _UNKNOWN if f.protocol == IPProtocol.ANY else int(f.protocol)
    return (f.ethertype, protocol, sn, sm, dn, dm, sp_lo, sp_hi, dp_lo, dp_hi, index)


def _first_match(filters: Iterable[_Compiled], packet: Packet) -> int | None:
    """Index of the first compiled filter matching ``packet`` (the rule in the module docstring)."""
    p_et = packet.ethertype
    p_pr = _UNKNOWN if packet.protocol is None else packet.protocol
    p_src = _UNKNOWN if packet.src is None else int(packet.src)
    p_dst = _UNKNOWN if packet.dst is None else int(packet.dst)
    p_sp = _UNKNOWN if packet.src_port is None else packet.src_port
    p_dp = _UNKNOWN if packet.dst_port is None else packet.dst_port
    for et, pr, sn, sm, dn, dm, sp_lo, sp_hi, dp_lo, dp_hi, index in filters:
        if et != p_et or (pr != _UNKNOWN and pr != p_pr):
            continue
        if sm and (p_src == _UNKNOWN or p_src & sm != sn):
            continue
        if dm and (p_dst == _UNKNOWN or p_dst & dm != dn):
            continue
        if sp_lo != _UNKNOWN and not sp_lo <= p_sp <= sp_hi:
            continue
        if dp_lo != _UNKNOWN and not dp_lo <= p_dp <= dp_hi:
            continue
        return index
    return None


def _default_verdict(default: DefaultAction) -> Verdict:
    return Verdict(default.action, None, default.count, default.event)


def matches(f: Filter, packet: Packet) -> bool:
    """Whether filter ``f`` matches ``packet`` (same rule and code as :meth:`CompiledPolicy.evaluate`)."""
    return f.direction is packet.direction and _first_match((_compile_filter(f, 0),), packet) is not None


class CompiledPolicy:
    """A policy prepared for evaluating many packets; build it with :func:`compile_policy`.

    ``host_addresses`` are the host's own IP addresses, used only by anti-spoofing; with none given,
    anti-spoofing never fires.
    """

    __slots__ = ("policy", "_filters", "_verdicts", "_defaults", "_host_addresses")

    def __init__(self, policy: Policy, host_addresses: Collection[IPAddress] = ()) -> None:
        self.policy = policy
        self._filters: dict[FilterDirection, tuple[_Compiled, ...]] = {
            d: tuple(_compile_filter(f, i) for i, f in enumerate(policy.filters) if f.direction is d)
            for d in FilterDirection
        }
        self._verdicts = tuple(
            Verdict(f.profile.action, i, f.profile.counted, f.event_on_match)
            for i, f in enumerate(policy.filters)
        )
        self._defaults = {d: _default_verdict(policy.default_for(d)) for d in FilterDirection}
        self._host_addresses = frozenset(host_addresses) if policy.anti_spoofing else frozenset()

    def evaluate(self, packet: Packet) -> Verdict:
        """Decide ``packet`` by the matching rule of this module."""
        if (
            self._host_addresses
            and packet.direction is FilterDirection.TRANSMIT
            and packet.src is not None
            and packet.src not in self._host_addresses
        ):
            return _SPOOFED
        index = _first_match(self._filters[packet.direction], packet)
        return self._defaults[packet.direction] if index is None else self._verdicts[index]

    def explain(self, verdict: Verdict, direction: FilterDirection) -> str:
        """Which rule gave ``verdict`` to a packet travelling in ``direction``, for people.

        ``filters[3] (receive drop: IPv4 tcp from any to any port 443)``, ``default receive action
        drop`` or ``anti-spoofing (source is not one of the host's addresses)``.
        """
        if verdict.anti_spoofing:
            return "anti-spoofing (source is not one of the host's addresses)"
        if verdict.filter_index is None:
            return f"default {direction.name.lower()} action {verdict.action.value}"
        return f"filters[{verdict.filter_index}] ({self.policy.filters[verdict.filter_index].describe()})"


def compile_policy(policy: Policy, host_addresses: Collection[IPAddress] = ()) -> CompiledPolicy:
    """Prepare ``policy`` for fast repeated evaluation (see :class:`CompiledPolicy`)."""
    return CompiledPolicy(policy, host_addresses)


def evaluate(policy: Policy, packet: Packet, *, host_addresses: Collection[IPAddress] = ()) -> Verdict:
    """Decide one ``packet`` against ``policy``; compiles the policy each call."""
    return CompiledPolicy(policy, host_addresses).evaluate(packet)


# -- lockout check ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Blocked:
    """A required flow the policy would not let through, and why.

    ``rule`` names the deciding rule for people (see :meth:`CompiledPolicy.explain`).
    """

    flow: Packet
    verdict: Verdict
    rule: str

    def __str__(self) -> str:
        return f"{self.flow.describe()}: blocked by {self.rule}"


def check_lockout(
    policy: Policy, required_flows: Iterable[Packet], *, host_addresses: Collection[IPAddress] = ()
) -> list[Blocked]:
    """Return the flows of ``required_flows`` that ``policy`` drops, in the order given.

    An empty list means the policy keeps every required flow open. Rate-limited flows count as open.
    Build the flows with :func:`remediation_flows` or :func:`peer_flows`.
    """
    compiled = CompiledPolicy(policy, host_addresses)
    blocked = []
    for flow in required_flows:
        verdict = compiled.evaluate(flow)
        if not verdict.passes:
            blocked.append(Blocked(flow, verdict, compiled.explain(verdict, flow.direction)))
    return blocked


def _sample_ports(ranges: Iterable[int | PortRange]) -> list[int | None]:
    """Every port of small ranges; ends and middle of large ones; ``[None]`` (unknown) for none."""
    ports: dict[int | None, None] = {}
    for item in ranges:
        r = PortRange.single(item) if isinstance(item, int) else item
        if len(r) <= _MAX_EXPANDED_RANGE:
            ports.update(dict.fromkeys(range(r.start, r.end + 1)))
        else:
            ports.update(dict.fromkeys((r.start, (r.start + r.end) // 2, r.end)))
    return list(ports) if ports else [None]


def peer_flows(
    peer: IPAddress | None,
    protocol: int,
    remote_ports: Iterable[int | PortRange] = (),
    local_ports: Iterable[int | PortRange] = (),
    *,
    host: IPAddress | None = None,
    version: int | None = None,
) -> Iterator[Packet]:
    """Both directions of the traffic between the host and one peer.

    For every peer-side port R in ``remote_ports`` and host-side port L in ``local_ports`` yields the
    transmitted packet ``host:L -> peer:R`` and its reply ``peer:R -> host:L``. An empty port list
    means the port on that side is unknown (an ephemeral port, or ICMP). Ranges of up to 256 ports
    are expanded port by port; larger ones are sampled at both ends and the middle. ``peer`` or
    ``host`` ``None`` means that address is unknown; then ``version`` (default 4) gives the IP
    version.
    """
    locals_ = _sample_ports(local_ports)
    for remote in _sample_ports(remote_ports):
        for local in locals_:
            out = Packet.ip(
                FilterDirection.TRANSMIT,
                protocol,
                src=host,
                dst=peer,
                src_port=local,
                dst_port=remote,
                version=version,
            )
            yield out
            yield out.reply()


def remediation_flows(
    manager: IPAddress,
    ports: Iterable[int | PortRange] = DEFAULT_MANAGER_PORTS,
    *,
    host: IPAddress | None = None,
    protocol: int = IPProtocol.TCP,
    host_ports: Iterable[int | PortRange] = (),
    dhcp: bool = False,
    dns: bool | Iterable[IPAddress] = False,
    neighbor_discovery: bool = True,
) -> Iterator[Packet]:
    """The flows a quarantined machine needs so that its manager can still reach and repair it.

    * host -> ``manager`` on each of ``ports`` (``protocol``, default TCP) and the replies back from
      those ports (an empty ``ports`` means one flow pair with the manager's port unknown);
    * with ``host_ports``: ``manager`` -> host on those ports and the replies;
    * with ``dhcp``: DHCPv4, UDP host:68 <-> any:67 both ways;
    * with ``dns``: UDP and TCP to port 53 and replies, of any server (``True``) or of the servers
      given;
    * with ``neighbor_discovery`` (default on): ARP both ways for an IPv4 manager, ICMPv6 both ways for
      an IPv6 one - without them nothing on the local link is reachable.

    ``host`` is the machine's own address when known (needed only if a policy constrains it). Raises
    :class:`ManagerSpecError` if ``host`` is not of the manager's IP version.
    """
    if host is not None and host.version != manager.version:
        raise ManagerSpecError(f"host {host} and manager {manager} are of different IP versions")
    yield from peer_flows(manager, protocol, ports, host=host)
    host_ports = list(host_ports)
    if host_ports:
        yield from peer_flows(manager, protocol, (), host_ports, host=host)
    if dhcp:
        yield from peer_flows(None, IPProtocol.UDP, (67,), (68,), version=4)
    if dns is not False:
        servers: list[IPAddress | None] = [None] if dns is True else list(dns)
        for server in servers:
            mine = host if server is None or host is None or host.version == server.version else None
            for proto in (IPProtocol.UDP, IPProtocol.TCP):
                version = manager.version if server is None else server.version
                yield from peer_flows(server, proto, (53,), host=mine, version=version)
    if neighbor_discovery:
        if manager.version == 4:
            arp = Packet(FilterDirection.TRANSMIT, EtherType.ARP)
            yield arp
            yield arp.reply()
        else:
            yield from peer_flows(None, IPProtocol.ICMPV6, host=host, version=6)


# -- manager specs ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ManagerSpec:
    """A management server as given on a command line: address and the TCP ports the host must reach.

    ``str()`` gives the spec back in the form :func:`parse_manager_spec` reads.
    """

    address: IPAddress
    ports: tuple[PortRange, ...] = DEFAULT_MANAGER_PORTS

    def __str__(self) -> str:
        host = f"[{self.address}]" if self.address.version == 6 else str(self.address)
        return f"{host}:{format_port_list(self.ports)}"


def parse_manager_spec(spec: str) -> ManagerSpec:
    """Parse ``ADDR[:PORTS]``: ``10.0.0.5``, ``10.0.0.5:443,50120-50124``, ``[fd00::5]:443``, ``fd00::5``.

    ADDR is an IP address (host names are not resolved here). PORTS is a comma list of ports and
    ``low-high`` ranges; without it the manager gets :data:`DEFAULT_MANAGER_PORTS` (443 and
    50120-50124). An IPv6 address with ports must be bracketed. Raises :class:`ManagerSpecError`.
    """
    text = spec.strip()
    if text.startswith("["):
        addr_text, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ManagerSpecError(f"{spec!r}: expected [IPv6]:PORTS")
        ports_text: str | None = rest[1:] if rest else None
    elif text.count(":") == 1:
        addr_text, _, ports_text = text.partition(":")
    else:
        addr_text, ports_text = text, None
    try:
        address = ip_address(addr_text)
    except ValueError as error:
        raise ManagerSpecError(
            f"{spec!r}: {addr_text!r} is not an IP address (host names are not resolved here)"
        ) from error
    if ports_text is None:
        return ManagerSpec(address)
    try:
        ports = parse_port_list(ports_text)
    except DefenseError as exc:
        raise ManagerSpecError(f"{spec!r}: {exc}") from exc
    return ManagerSpec(address, ports)
