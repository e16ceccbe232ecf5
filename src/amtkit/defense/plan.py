"""What applying a filter set means, decided before anything is sent: the policy and its lockout check.

:func:`prepare` is the offline half of ``client.defense.apply`` and all of ``amtkit defense check``:
it rewrites the set's management peers to the real manager(s), applies the anti-spoofing and
timeout overrides, checks AMT's per-policy limits, and runs the lockout check of
:mod:`amtkit.defense.engine` against the flows the machine must keep:

* everything the set's own peers (and ping) promise (:meth:`FilterSet.required_flows`);
* for each manager: the host reaching it on its ports and the replies, and ARP (IPv4) or ICMPv6
  (IPv6) on the local link (:func:`~amtkit.defense.engine.remediation_flows`). The managers are
  those given (``--manager``) or, without any, the set's own ``management`` peers: the same flows
  are checked whichever way the manager is named.

Two situations make the check unable to vouch for a set; they are reported as *problems* and refuse
an apply like a blocked flow does (unless forced): the set's management peer still has the
documentation placeholder address (``192.0.2.10``) and no manager was given, or there is no manager
at all to check against.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from functools import lru_cache
from ipaddress import ip_network

from .cbfilters import FilterSet, Peer, PeerRole
from .engine import Blocked, ManagerSpec, check_lockout, parse_manager_spec, remediation_flows
from .model import IPAddress, IPNetwork, IPProtocol, LimitError, Packet, Policy, PortRange, validate_limits
from .wsman import MAX_FILTERS_PER_POLICY, timeout_minutes

__all__ = ["DOCUMENTATION_NETWORKS", "Plan", "prepare"]

DOCUMENTATION_NETWORKS = tuple(
    ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
)
"""Address blocks reserved for documentation (RFC 5737, RFC 3849): the shipped sets' placeholders."""


@dataclass(frozen=True)
class Plan:
    """A filter set made ready for one machine, and what the lockout check found.

    ``policy`` is what will be written; ``flows`` the flows checked; ``blocked`` those the policy drops;
    ``problems`` reasons the check cannot vouch for the set at all. ``safe`` is true when both are empty.
    """

    policy: Policy
    managers: tuple[ManagerSpec, ...]
    flows: tuple[Packet, ...]
    blocked: tuple[Blocked, ...]
    problems: tuple[str, ...]

    @property
    def safe(self) -> bool:
        return not self.blocked and not self.problems

    def refusal(self) -> list[str]:
        """One line per reason to refuse: the problems, then each blocked flow with its rule."""
        return [*self.problems, *(str(b) for b in self.blocked)]


def _as_spec(manager: ManagerSpec | str) -> ManagerSpec:
    return manager if isinstance(manager, ManagerSpec) else parse_manager_spec(manager)


def _placeholder_peers(fs: FilterSet) -> list[Peer]:
    return [
        p for p in fs.peers
        if p.role is PeerRole.MANAGEMENT
        and any(p.address.version == n.version and p.address.subnet_of(n) for n in DOCUMENTATION_NETWORKS)  # type: ignore[arg-type]
    ]


def _representative(network: IPNetwork) -> IPAddress:
    """One address of a peer's network to build flows with: the address of a host, the first host of a
    network."""
    return network[1] if network.num_addresses > 2 else network.network_address


def _named_managers(fs: FilterSet) -> tuple[ManagerSpec, ...]:
    """The managers a set names itself (its ``management`` peers), as ``--manager`` would give them:
    address, and the TCP ports the peer allows (none: any port)."""
    specs = []
    for peer in fs.peers:
        if peer.role is not PeerRole.MANAGEMENT:
            continue
        ports: list[PortRange] = []
        for rule in peer.allow:
            if rule.protocol in (IPProtocol.TCP, IPProtocol.ANY):
                ports.extend(rule.remote_ports)
        specs.append(ManagerSpec(_representative(peer.address), tuple(ports)))
    return tuple(specs)


def _address_text(peer: Peer) -> str:
    network = peer.address
    return str(network.network_address) if network.prefixlen == network.max_prefixlen else str(network)


@lru_cache(maxsize=16)
def _compiled(filters: FilterSet, specs: tuple[ManagerSpec, ...]) -> tuple[Policy, tuple[Packet, ...],
                                                                        tuple[ManagerSpec, ...]]:
    """The host-independent part of :func:`prepare` for a filter set: its policy with the managers in, the
    flows it promises and those the managers need, and the managers. A fleet job prepares the same set for
    every host (twice: the quarantine's request, then the apply), and this is most of the work (about
    0.3 ms, against 40 us for the lockout check itself); all of it is frozen, so sharing it is safe."""
    fs = filters.with_managers((s.address, s.ports) for s in specs)
    policy = fs.to_policy()
    flows = list(fs.required_flows())
    if not specs:
        specs = _named_managers(fs)  # the same flows as if each had been given with --manager
    return policy, (*flows, *_remediation(specs)), specs


def _remediation(specs: Iterable[ManagerSpec]) -> list[Packet]:
    """The flows each manager needs to reach and repair the machine."""
    return [flow for spec in specs for flow in remediation_flows(spec.address, spec.ports)]


def prepare(
    filters: FilterSet | Policy,
    managers: Iterable[ManagerSpec | str] = (),
    *,
    anti_spoofing: bool | None = None,
    timeout: int | None = None,
    host_addresses: Collection[IPAddress] = (),
) -> Plan:
    """Turn ``filters`` into the policy to apply and check it against the flows the machine must keep.

    ``managers`` are ``ADDR[:PORTS]`` specs or :class:`ManagerSpec`; with a :class:`FilterSet` they
    replace its ``management`` peers. ``anti_spoofing`` overrides the set's setting when not None;
    ``timeout`` overrides its timeout when not None (seconds; 0 removes it). ``host_addresses`` are
    the machine's own addresses, for anti-spoofing.

    Raises :class:`~amtkit.defense.engine.ManagerSpecError` for a bad spec,
    :class:`~amtkit.defense.model.LimitError` for a set larger than one AMT policy holds (62
    filters), :class:`~amtkit.defense.model.InvalidFilterError` for a timeout AMT cannot take.
    """
    specs = tuple(_as_spec(m) for m in managers)
    problems: list[str] = []
    if isinstance(filters, FilterSet):
        if not specs:
            problems += [
                f"management peer {p.name!r} has the placeholder address {_address_text(p)}: give the real "
                "server with --manager ADDR[:PORTS]"
                for p in _placeholder_peers(filters)
            ]
            if not any(p.role is PeerRole.MANAGEMENT for p in filters.peers):
                problems.append("the filter set names no management server and none was given (--manager)")
        policy, required, specs = _compiled(filters, specs)
        flows = list(required)
    else:
        policy = filters
        flows = _remediation(specs)
        if not specs:
            problems.append("no management server to check the policy against (--manager)")
    if anti_spoofing is not None:
        policy = replace(policy, anti_spoofing=anti_spoofing)
    if timeout is not None:
        policy = replace(policy, timeout=timeout or None)
    timeout_minutes(policy.timeout)
    validate_limits([policy])
    if len(policy.filters) > MAX_FILTERS_PER_POLICY:
        raise LimitError("filters in one AMT policy", MAX_FILTERS_PER_POLICY, len(policy.filters))
    blocked = check_lockout(policy, flows, host_addresses=host_addresses)
    return Plan(policy, specs, tuple(flows), tuple(blocked), tuple(problems))
