"""What AMT will really do with a filter set, said before it is applied: the notes ``amtkit defense apply``
and ``amtkit quarantine apply`` print on stderr.

AMT counts a policy timeout in whole minutes, keeps 16 characters of each name, and filters exactly
the addresses written: a set that still names a documentation placeholder (192.0.2.x and the other
RFC 5737/3849 networks, never routed) lets its host reach nobody there.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from .cbfilters import FilterSet, PeerRole
from .wsman import MAX_NAME_LENGTH, OWNER_PREFIX, filter_wire_name, policy_wire_name

__all__ = ["DOCUMENTATION_NETWORKS", "apply_notes"]

DOCUMENTATION_NETWORKS = tuple(ipaddress.ip_network(n) for n in (
    "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32"))
"""TEST-NET-1/2/3 (RFC 5737) and IPv6's documentation prefix (RFC 3849): examples, never real hosts."""


def apply_notes(filter_set: FilterSet, *, managers: Sequence[str] = (), timeout: int | None = None) -> list[str]:
    """Sentences about what AMT will do differently from what the set (and ``--timeout``) say."""
    notes = []
    seconds = timeout if timeout is not None else filter_set.timeout
    if seconds and seconds % 60:
        minutes = -(-seconds // 60)
        notes.append(f"AMT counts a policy timeout in whole minutes: {seconds} s becomes {minutes} min, so the "
                     f"filters lift themselves after {minutes * 60} s")
    policy = policy_wire_name(filter_set.name)
    if not policy.endswith(filter_set.name.removeprefix("amtkit-")):
        notes.append(f"AMT keeps {MAX_NAME_LENGTH} characters of a name: the policy {filter_set.name!r} is written as "
                     f"{policy!r}")
    cut = [name for index, name in enumerate((p.name for p in filter_set.peers), 1)
           if not filter_wire_name(index, name).endswith(name)]
    if cut:
        notes.append(f"AMT keeps {MAX_NAME_LENGTH} characters of a name: {len(cut)} filter name(s) are shortened "
                     f"after {OWNER_PREFIX}N: ({', '.join(repr(n) for n in cut[:3])}{', ...' if len(cut) > 3 else ''})")
    for peer in filter_set.peers:
        if managers and peer.role is PeerRole.MANAGEMENT:
            continue  # replaced by --manager
        if any(peer.address.version == net.version and peer.address.subnet_of(net)  # type: ignore[arg-type]
               for net in DOCUMENTATION_NETWORKS):
            notes.append(f"peer {peer.name!r} is {peer.address}, a documentation address that no real host has: "
                         "its filters let the host reach nobody; put the real address in a copy of the set")
    return notes
