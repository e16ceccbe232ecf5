"""System Defense (AMT's host network filter): model, evaluation engine and CBFilters files.

Pure code, no network: the WS-Man mapping, the simulator's enforcement and the CLI build on it.

* :mod:`amtkit.defense.model` - filters, policies, packets, AMT limits;
* :mod:`amtkit.defense.engine` - the one matching rule, the lockout check, manager specs;
* :mod:`amtkit.defense.cbfilters` - the ``CBFilters.xml`` filter-set format (docs/filters.md), and the
  shipped sets by name (:func:`load`);
* :mod:`amtkit.defense.plan` - a set made ready for one machine, with its lockout check (no I/O);
* :mod:`amtkit.defense.wsman` - the AMT classes and properties the objects become (sans-IO).

On a device: ``client.defense`` (:mod:`amtkit.defense.client`) applies, removes and shows.
"""

from amtkit.defense.cbfilters import (
    SHIPPED,
    CBFiltersError,
    FilterSet,
    Peer,
    PeerAllow,
    PeerRole,
    load,
    parse,
    parse_bytes,
    shipped_path,
    to_bytes,
    write,
)
from amtkit.defense.engine import (
    DEFAULT_MANAGER_PORTS,
    Blocked,
    CompiledPolicy,
    ManagerSpec,
    ManagerSpecError,
    Verdict,
    check_lockout,
    compile_policy,
    evaluate,
    matches,
    parse_manager_spec,
    peer_flows,
    remediation_flows,
)
from amtkit.defense.model import (
    MAX_FILTERS,
    MAX_POLICIES,
    Action,
    DefaultAction,
    DefenseError,
    EthernetFilter,
    EtherType,
    Filter,
    FilterDirection,
    FilterProfile,
    InvalidFilterError,
    IPAddress,
    IPHeaderFilter,
    IPNetwork,
    IPProtocol,
    LimitError,
    Packet,
    Policy,
    PortRange,
    format_port_list,
    parse_port_list,
    validate_limits,
)
from amtkit.defense.plan import Plan, prepare

__all__ = [
    "DEFAULT_MANAGER_PORTS",
    "MAX_FILTERS",
    "MAX_POLICIES",
    "SHIPPED",
    "Action",
    "Blocked",
    "CBFiltersError",
    "CompiledPolicy",
    "DefaultAction",
    "DefenseError",
    "EtherType",
    "EthernetFilter",
    "Filter",
    "FilterDirection",
    "FilterProfile",
    "FilterSet",
    "IPAddress",
    "IPHeaderFilter",
    "IPNetwork",
    "IPProtocol",
    "InvalidFilterError",
    "LimitError",
    "ManagerSpec",
    "ManagerSpecError",
    "Packet",
    "Peer",
    "PeerAllow",
    "PeerRole",
    "Plan",
    "Policy",
    "PortRange",
    "Verdict",
    "check_lockout",
    "compile_policy",
    "evaluate",
    "format_port_list",
    "load",
    "matches",
    "parse",
    "parse_bytes",
    "parse_manager_spec",
    "parse_port_list",
    "peer_flows",
    "prepare",
    "remediation_flows",
    "shipped_path",
    "to_bytes",
    "validate_limits",
    "write",
]
