"""``CBFilters.xml``: System Defense filter sets as files people write, review and version.

A filter set names the peers a machine may still talk to (its management server, task server,
package mirrors, DNS, DHCP) with the ports on both sides, the default action for all other traffic,
anti-spoofing, whether ping passes, optional raw AMT filters and a timeout. :meth:`FilterSet.to_policy`
compiles it into a :class:`~amtkit.defense.model.Policy`, expanding each peer into IP header filters
for both directions. The format is amtkit's own (the original console never published one): the
schema is ``CBFilters.xsd`` (shipped inside the package as ``amtkit/data/CBFilters.xsd``; the
source tree's ``filters/CBFilters.xsd`` is a link to it), namespace :data:`NAMESPACE`, documented in
docs/filters.md.

The filter sets shipped with amtkit live beside the schema in ``amtkit/data/`` and are known by
name (:data:`SHIPPED`): :func:`load` takes such a name or a file path.

Files are untrusted input. :func:`parse_bytes` refuses documents over :data:`MAX_DOCUMENT_BYTES`,
parses without network access, DTD loading or entity expansion, rejects any DOCTYPE (so entity
bombs and external entities never get a chance), validates against the schema and then checks
what the schema cannot (port and address ranges, AMT's filter limit). Every problem is a
:class:`CBFiltersError` with the file and line: ``filters/x.xml line 12: port 70000 out of range
(0-65535)``.

Comments in a file are not kept by :func:`write`; everything else round-trips.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from enum import Enum
from functools import lru_cache
from ipaddress import ip_network
from pathlib import Path
from typing import Any, TypeAlias

from lxml import etree

from amtkit.defense.engine import peer_flows
from amtkit.defense.model import (
    MAX_FILTERS,
    DefaultAction,
    DefenseError,
    EthernetFilter,
    Filter,
    FilterDirection,
    FilterProfile,
    InvalidFilterError,
    IPAddress,
    IPHeaderFilter,
    IPNetwork,
    IPProtocol,
    Packet,
    Policy,
    PortRange,
    format_port_list,
    parse_port_list,
    validate_limits,
)

__all__ = [
    "DATA_DIR",
    "MAX_DOCUMENT_BYTES",
    "NAMESPACE",
    "SCHEMA_PATH",
    "SHIPPED",
    "CBFiltersError",
    "Entry",
    "FilterSet",
    "Peer",
    "PeerAllow",
    "PeerRole",
    "load",
    "parse",
    "parse_bytes",
    "shipped_path",
    "to_bytes",
    "write",
]

NAMESPACE = "urn:amtkit:cbfilters:1"
"""XML namespace of CBFilters documents, version 1."""
MAX_DOCUMENT_BYTES = 1024 * 1024
"""Largest document accepted; a real filter set of 80 filters is a few kilobytes."""
DATA_DIR = Path(__file__).resolve().parent.parent / "data"
"""Where the installed package keeps the schema and the shipped filter sets."""
SCHEMA_PATH = DATA_DIR / "CBFilters.xsd"
"""The XSD the parser validates against (the one copy; ``filters/CBFilters.xsd`` links to it)."""
SHIPPED: dict[str, str] = {
    "default": "CBFilters.xml",
    "ping": "ping.xml",
    "quarantine-strict": "quarantine-strict.xml",
    "quarantine-with-packages": "quarantine-with-packages.xml",
}
"""Names of the filter sets shipped in :data:`DATA_DIR` (``--filters default``) and their files."""

_NS = f"{{{NAMESPACE}}}"


class CBFiltersError(DefenseError):
    """A filter set that cannot be used: unreadable, hostile, invalid or over AMT's limits.

    ``source`` is the file name (or ``"<bytes>"``), ``line`` the 1-based line when known, ``reason``
    the problem alone.
    """

    def __init__(self, reason: str, source: str | None = None, line: int | None = None) -> None:
        where = f"{source} line {line}: " if source and line else f"{source}: " if source else ""
        super().__init__(f"{where}{reason}")
        self.reason = reason
        self.source = source
        self.line = line


class PeerRole(Enum):
    """What a peer is to the managed machine. Informational, except that :meth:`FilterSet.with_manager`
    rewrites the ``MANAGEMENT`` peers."""

    MANAGEMENT = "management"
    """The management server; ``--manager`` overrides its address."""
    TASK = "task"
    """A task or job server the host's agent talks to."""
    PACKAGE = "package"
    """A package or update mirror a quarantined machine repairs itself from."""
    DNS = "dns"
    """A name server."""
    DHCP = "dhcp"
    """A DHCP server (often ``0.0.0.0/0``, as the host broadcasts)."""
    OTHER = "other"
    """Anything else."""


@dataclass(frozen=True, slots=True)
class PeerAllow:
    """Traffic allowed with a peer: ``protocol`` between the peer's ``remote_ports`` and the host's
    ``local_ports``, both directions. An empty port tuple means any port on that side.

    Raises :class:`~amtkit.defense.model.InvalidFilterError` for ports on a protocol other than TCP/UDP.
    """

    protocol: int
    remote_ports: tuple[PortRange, ...] = ()
    local_ports: tuple[PortRange, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "remote_ports", tuple(self.remote_ports))
        object.__setattr__(self, "local_ports", tuple(self.local_ports))
        # Let the filter model judge protocol and ports, so both places agree.
        IPHeaderFilter(
            direction=FilterDirection.TRANSMIT,
            profile=FilterProfile.PASS,
            protocol=self.protocol,
            dst_ports=self.remote_ports[0] if self.remote_ports else None,
            src_ports=self.local_ports[0] if self.local_ports else None,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Peer:
    """A machine (or network) the managed host may keep talking to, in both directions.

    ``address`` is a network (a host is a /32 or /128; ``0.0.0.0/0`` means anyone).
    """

    name: str
    address: IPNetwork
    allow: tuple[PeerAllow, ...]
    role: PeerRole = PeerRole.OTHER

    def __post_init__(self) -> None:
        object.__setattr__(self, "allow", tuple(self.allow))
        if not self.allow:
            raise InvalidFilterError(f"peer {self.name!r} allows nothing")

    def filters(self) -> list[IPHeaderFilter]:
        """The pass filters for this peer: per allow, per remote and local range, transmit then receive."""
        peer = None if self.address.prefixlen == 0 else self.address
        result: list[IPHeaderFilter] = []
        for rule in self.allow:
            for remote in rule.remote_ports or (None,):
                for local in rule.local_ports or (None,):
                    out = IPHeaderFilter(
                        direction=FilterDirection.TRANSMIT,
                        profile=FilterProfile.PASS,
                        ip_version=self.address.version,
                        protocol=rule.protocol,
                        dst=peer,
                        dst_ports=remote,
                        src_ports=local,
                        name=self.name,
                    )
                    back = replace(
                        out,
                        direction=FilterDirection.RECEIVE,
                        src=peer,
                        dst=None,
                        src_ports=remote,
                        dst_ports=local,
                    )
                    result += (out, back)
        return result

    def flows(self) -> Iterator[Packet]:
        """Representative flows of everything this peer is allowed, both directions (for lockout checks).

        ``protocol="any"`` is represented by TCP, UDP and ICMP (ICMPv6 for IPv6) packets.
        """
        peer: IPAddress | None = None if self.address.prefixlen == 0 else self.address.network_address
        icmp = IPProtocol.ICMP if self.address.version == 4 else IPProtocol.ICMPV6
        for rule in self.allow:
            protocols = (
                (IPProtocol.TCP, IPProtocol.UDP, icmp)
                if rule.protocol == IPProtocol.ANY
                else (rule.protocol,)
            )
            for protocol in protocols:
                yield from peer_flows(
                    peer, protocol, rule.remote_ports, rule.local_ports, version=self.address.version
                )


Entry: TypeAlias = Peer | IPHeaderFilter | EthernetFilter
"""One entry of a filter set: a peer or a raw filter."""

_PING_FILTERS: tuple[IPHeaderFilter, ...] = tuple(
    IPHeaderFilter(direction=d, profile=FilterProfile.PASS, ip_version=v, protocol=p, name="ping")
    for v, p in ((4, IPProtocol.ICMP), (6, IPProtocol.ICMPV6))
    for d in FilterDirection
)


def _entry_filters(entry: Entry) -> list[Filter]:
    return list(entry.filters()) if isinstance(entry, Peer) else [entry]


@dataclass(frozen=True, slots=True, kw_only=True)
class FilterSet:
    """A parsed ``CBFilters.xml``: see docs/filters.md for each field's element.

    ``entries`` are peers and raw filters in document order; ``ping`` adds pass filters for ICMP and
    ICMPv6 after them; ``timeout`` is in seconds or ``None``.
    """

    name: str
    transmit_default: DefaultAction
    receive_default: DefaultAction
    precedence: int = 0
    description: str = ""
    anti_spoofing: bool = False
    ping: bool = False
    timeout: int | None = None
    entries: tuple[Entry, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "entries", tuple(self.entries))

    @property
    def peers(self) -> tuple[Peer, ...]:
        """The peer entries, in order."""
        return tuple(e for e in self.entries if isinstance(e, Peer))

    def filters(self) -> list[Filter]:
        """The compiled filters, in evaluation order: each entry's filters, then the ping filters."""
        result = [f for entry in self.entries for f in _entry_filters(entry)]
        if self.ping:
            result.extend(_PING_FILTERS)
        return result

    def to_policy(self) -> Policy:
        """Compile to a :class:`~amtkit.defense.model.Policy`.

        Raises :class:`~amtkit.defense.model.LimitError` above :data:`~amtkit.defense.model.MAX_FILTERS`.
        """
        policy = Policy(
            name=self.name,
            precedence=self.precedence,
            transmit_default=self.transmit_default,
            receive_default=self.receive_default,
            anti_spoofing=self.anti_spoofing,
            timeout=self.timeout,
            filters=tuple(self.filters()),
        )
        validate_limits([policy])
        return policy

    def required_flows(self) -> list[Packet]:
        """Flows this set promises to let through: every peer's allowed traffic, and ping if enabled.

        ``check_lockout(fs.to_policy(), fs.required_flows())`` must come back empty; a raw drop filter
        placed before a peer would make it fail.
        """
        flows = [flow for peer in self.peers for flow in peer.flows()]
        if self.ping:
            flows.extend(peer_flows(None, IPProtocol.ICMP, version=4))
            flows.extend(peer_flows(None, IPProtocol.ICMPV6, version=6))
        return flows

    def with_manager(
        self, address: IPAddress | IPNetwork, ports: Iterable[PortRange] | None = None
    ) -> FilterSet:
        """A copy whose ``management`` peers point at ``address`` (what ``--manager`` does).

        With ``ports``, those peers allow exactly TCP to these ports instead of what the file said.
        Raises :class:`CBFiltersError` if the set has no management peer.
        """
        if not any(isinstance(e, Peer) and e.role is PeerRole.MANAGEMENT for e in self.entries):
            raise CBFiltersError(f"filter set {self.name!r} has no peer with role 'management'")
        network = ip_network(address)
        allow = None if ports is None else (PeerAllow(IPProtocol.TCP, tuple(ports)),)
        entries = [
            replace(e, address=network, allow=allow or e.allow)
            if isinstance(e, Peer) and e.role is PeerRole.MANAGEMENT
            else e
            for e in self.entries
        ]
        return replace(self, entries=tuple(entries))

    def with_managers(self, managers: Iterable[tuple[IPAddress, Iterable[PortRange]]]) -> FilterSet:
        """A copy in which each ``management`` peer is repeated once per ``(address, ports)`` manager,
        allowing exactly TCP to those ports (several ``--manager`` options).

        With one manager this equals :meth:`with_manager` with ports. With none, the set is returned
        unchanged. A set without management peer is returned unchanged too: checking it against the
        managers is what reveals that it does not let them through.
        """
        rewritten = [(ip_network(address), tuple(ports)) for address, ports in managers]
        if not rewritten:
            return self
        entries: list[Entry] = []
        for e in self.entries:
            if isinstance(e, Peer) and e.role is PeerRole.MANAGEMENT:
                entries.extend(
                    replace(e, address=network, allow=(PeerAllow(IPProtocol.TCP, ports),))
                    for network, ports in rewritten
                )
            else:
                entries.append(e)
        return replace(self, entries=tuple(entries))


# -- reading ----------------------------------------------------------------------------------------


def _safe_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_pis=True,
        collect_ids=False,
    )


@lru_cache(maxsize=4)
def _schema(path: Path) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(path), _safe_parser()))


_NO_DTD = "DOCTYPE and entity declarations are not allowed"
_LINE_SUFFIX = re.compile(r", line \d+, column \d+$")
_PROFILES = {
    "passWithStatistics": FilterProfile.PASS_WITH_STATISTICS,
    "dropWithStatistics": FilterProfile.DROP_WITH_STATISTICS,
    "rateLimit": FilterProfile.RATE_LIMIT,
    "pass": FilterProfile.PASS,
    "drop": FilterProfile.DROP,
}
_PROFILE_NAMES = {v: k for k, v in _PROFILES.items()}
_PROTOCOLS: dict[str, int] = {p.name.lower(): p for p in IPProtocol}
_PROTOCOL_NAMES: dict[int, str] = {v: k for k, v in _PROTOCOLS.items()}


def shipped_path(name: str) -> Path:
    """The file of a shipped filter set by name (``default``, ``ping``, ...; see :data:`SHIPPED`).

    Raises :class:`CBFiltersError` naming the known sets for an unknown name.
    """
    try:
        return DATA_DIR / SHIPPED[name]
    except KeyError as error:
        known = ", ".join(sorted(SHIPPED))
        raise CBFiltersError(f"no shipped filter set named {name!r} (shipped: {known})") from error


def load(name_or_path: str | os.PathLike[str]) -> FilterSet:
    """Read a shipped set by name (see :data:`SHIPPED`) or any CBFilters file by path.

    ``ping`` is the preset, ``ping.xml`` or ``./ping`` a file. Raises :class:`CBFiltersError`.
    """
    text = os.fspath(name_or_path)
    if text in SHIPPED:
        return parse(shipped_path(text))
    if not os.path.exists(text) and "/" not in text and os.sep not in text and not text.endswith(".xml"):
        shipped_path(text)  # neither a file nor a shipped name: the error lists the shipped sets
    return parse(text)


def parse(path: str | os.PathLike[str]) -> FilterSet:
    """Read and check one CBFilters file. Raises :class:`CBFiltersError`."""
    source = os.fspath(path)
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_DOCUMENT_BYTES + 1)
    except OSError as exc:
        raise CBFiltersError(f"cannot read file: {exc.strerror}", source) from exc
    return parse_bytes(data, source)


def parse_bytes(data: bytes, source: str = "<bytes>", *, schema: Path = SCHEMA_PATH) -> FilterSet:
    """Parse and check a CBFilters document held in memory (see the module docstring).

    ``source`` names it in errors. Raises :class:`CBFiltersError`.
    """
    if len(data) > MAX_DOCUMENT_BYTES:
        raise CBFiltersError(f"document is larger than {MAX_DOCUMENT_BYTES} bytes", source)
    # Refuse DTDs before libxml2 sees them (ASCII-compatible encodings), and again after parsing
    # (anything else, e.g. UTF-16). The parser neither loads nor expands them in any case.
    doctype = data.find(b"<!DOCTYPE")
    if doctype >= 0:
        raise CBFiltersError(_NO_DTD, source, data.count(b"\n", 0, doctype) + 1)
    try:
        root = etree.fromstring(data, _safe_parser())
    except etree.XMLSyntaxError as exc:
        raise CBFiltersError(_LINE_SUFFIX.sub("", str(exc.msg)), source, _line(exc)) from exc
    docinfo: Any = root.getroottree().docinfo  # lxml-stubs lack DocInfo.doctype
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise CBFiltersError(_NO_DTD, source)
    if root.tag != f"{_NS}filterSet":
        raise CBFiltersError(
            f"root element must be filterSet in namespace {NAMESPACE}, not {root.tag!r}", source, _line(root)
        )
    _validate(root, schema, source)
    return _Reader(source).filter_set(root)


def _validate(root: etree._Element, schema: Path, source: str) -> None:
    """Check ``root`` against the XSD; the first violation becomes a :class:`CBFiltersError`."""
    try:
        xsd = _schema(schema)
    except (OSError, etree.XMLSchemaParseError, etree.XMLSyntaxError) as exc:
        raise CBFiltersError(f"cannot load schema {schema}: {exc}", source) from exc
    if not xsd.validate(root):
        log: Any = xsd.error_log  # lxml-stubs: _ErrorLog is opaque
        raise CBFiltersError(str(log[0].message).replace(_NS, ""), source, log[0].line)


class _Reader:
    """Turns a schema-valid tree into model objects, adding the checks XSD cannot express."""

    def __init__(self, source: str) -> None:
        self.source = source

    @contextmanager
    def at(self, element: etree._Element) -> Iterator[None]:
        try:
            yield
        except CBFiltersError:
            raise
        except DefenseError as exc:
            raise CBFiltersError(str(exc), self.source, _line(element)) from exc

    def filter_set(self, root: etree._Element) -> FilterSet:
        description, anti_spoofing, ping, timeout = "", False, False, None
        transmit_default = receive_default = DefaultAction()
        entries: list[Entry] = []
        count = 0
        for el in _children(root):
            tag = _local(el)
            with self.at(el):
                if tag == "description":
                    description = " ".join((el.text or "").split())
                elif tag == "defaults":
                    tx, rx = _children(el)
                    transmit_default, receive_default = _default_action(tx), _default_action(rx)
                elif tag == "antiSpoofing":
                    anti_spoofing = _bool(el, "enabled")
                elif tag == "ping":
                    ping = _bool(el, "allow")
                    count += len(_PING_FILTERS) if ping else 0
                elif tag == "timeout":
                    timeout = int(_attr(el, "seconds"))
                else:
                    new = self.entries(el)
                    entries.extend(new)
                    count += sum(len(_entry_filters(e)) for e in new)
                if count > MAX_FILTERS:
                    raise CBFiltersError(
                        f"filter set compiles to more than {MAX_FILTERS} filters here (AMT holds at most "
                        f"{MAX_FILTERS})",
                        self.source,
                        _line(el),
                    )
        with self.at(root):
            return FilterSet(
                name=_attr(root, "name"),
                precedence=int(root.get("precedence", "0")),
                description=description,
                transmit_default=transmit_default,
                receive_default=receive_default,
                anti_spoofing=anti_spoofing,
                ping=ping,
                timeout=timeout,
                entries=tuple(entries),
            )

    def entries(self, el: etree._Element) -> list[Entry]:
        tag = _local(el)
        if tag == "peer":
            allow = []
            for rule in _children(el):
                with self.at(rule):
                    allow.append(
                        PeerAllow(
                            _protocol(_attr(rule, "protocol")),
                            _port_list(rule.get("remotePorts")),
                            _port_list(rule.get("localPorts")),
                        )
                    )
            return [
                Peer(
                    name=_attr(el, "name"),
                    address=_network(_attr(el, "address")),
                    allow=tuple(allow),
                    role=PeerRole(el.get("role", "other")),
                )
            ]
        direction = _attr(el, "direction")
        directions = list(FilterDirection) if direction == "both" else [FilterDirection[direction.upper()]]
        profile = _PROFILES[_attr(el, "profile")]
        rate_limit = None if el.get("rateLimit") is None else int(_attr(el, "rateLimit"))
        event, name = _bool(el, "event"), el.get("name", "")
        if tag == "ethernetFilter":
            ethertype = int(_attr(el, "etherType"), 16)
            return [
                EthernetFilter(
                    direction=d,
                    profile=profile,
                    ethertype=ethertype,
                    rate_limit=rate_limit,
                    event_on_match=event,
                    name=name,
                )
                for d in directions
            ]
        src, dst = _optional_network(el.get("srcAddress")), _optional_network(el.get("dstAddress"))
        known = src or dst
        version = int(el.get("ipVersion") or (known.version if known else 4))
        protocol = _protocol(el.get("protocol", "any"))
        src_ports, dst_ports = _port_range(el.get("srcPorts")), _port_range(el.get("dstPorts"))
        return [
            IPHeaderFilter(
                direction=d,
                profile=profile,
                ip_version=version,
                protocol=protocol,
                src=src,
                dst=dst,
                src_ports=src_ports,
                dst_ports=dst_ports,
                rate_limit=rate_limit,
                event_on_match=event,
                name=name,
            )
            for d in directions
        ]


def _line(node: object) -> int | None:
    """The source line of an element or syntax error (lxml-stubs type these as unknown)."""
    line = getattr(node, "sourceline", None) or getattr(node, "lineno", None)
    return line if isinstance(line, int) else None


def _children(el: etree._Element) -> list[etree._Element]:
    return [child for child in el if isinstance(child.tag, str)]


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname


def _attr(el: etree._Element, name: str) -> str:
    value = el.get(name)
    if value is None:  # the schema makes these required; keep the type honest anyway
        raise DefenseError(f"<{_local(el)}> needs attribute {name!r}")
    return value.strip()


def _bool(el: etree._Element, name: str) -> bool:
    return (el.get(name) or "false").strip() in ("true", "1")


def _default_action(el: etree._Element) -> DefaultAction:
    return DefaultAction(
        drop=_attr(el, "action") == "drop", count=_bool(el, "count"), event=_bool(el, "event")
    )


def _protocol(text: str) -> int:
    text = text.strip()
    protocol = _PROTOCOLS.get(text)
    return protocol if protocol is not None else int(text)


def _network(text: str) -> IPNetwork:
    try:
        loose = ip_network(text, strict=False)
    except ValueError as error:
        raise DefenseError(f"address {text!r} is not an IP address or network") from error
    try:
        return ip_network(text)
    except ValueError as error:
        raise DefenseError(f"address {text} has host bits set (did you mean {loose}?)") from error


def _optional_network(text: str | None) -> IPNetwork | None:
    return None if text is None else _network(text.strip())


def _port_list(text: str | None) -> tuple[PortRange, ...]:
    return () if text is None else parse_port_list(text)


def _port_range(text: str | None) -> PortRange | None:
    return None if text is None else parse_port_list(text)[0]


# -- writing ----------------------------------------------------------------------------------------


def _network_text(network: IPNetwork) -> str:
    return str(network.network_address) if network.prefixlen == network.max_prefixlen else str(network)


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _sub(parent: etree._Element, tag: str, attrs: Iterable[tuple[str, str | None]] = ()) -> etree._Element:
    el = etree.SubElement(parent, f"{_NS}{tag}")
    for key, value in attrs:
        if value is not None:
            el.set(key, value)
    return el


def _write_filter(parent: etree._Element, f: Filter, direction: str) -> None:
    head = [
        ("name", f.name or None),
        ("direction", direction),
        ("profile", _PROFILE_NAMES[f.profile]),
        ("rateLimit", None if f.rate_limit is None else str(f.rate_limit)),
        ("event", "true" if f.event_on_match else None),
    ]
    if isinstance(f, EthernetFilter):
        _sub(parent, "ethernetFilter", [*head, ("etherType", f"0x{f.ethertype:04X}")])
        return
    protocol = _PROTOCOL_NAMES.get(f.protocol, str(f.protocol))
    _sub(
        parent,
        "ipFilter",
        [
            *head,
            ("ipVersion", str(f.ip_version)),
            ("protocol", None if f.protocol == IPProtocol.ANY else protocol),
            ("srcAddress", None if f.src is None else _network_text(f.src)),
            ("srcPorts", None if f.src_ports is None else str(f.src_ports)),
            ("dstAddress", None if f.dst is None else _network_text(f.dst)),
            ("dstPorts", None if f.dst_ports is None else str(f.dst_ports)),
        ],
    )


def _is_pair(first: Entry, second: Entry) -> bool:
    """A transmit filter followed by the same filter for receive: written once as direction="both"."""
    return (
        not isinstance(first, Peer)
        and not isinstance(second, Peer)
        and first.direction is FilterDirection.TRANSMIT
        and replace(first, direction=FilterDirection.RECEIVE) == second
    )


def to_bytes(filter_set: FilterSet) -> bytes:
    """Serialize ``filter_set`` as a pretty-printed UTF-8 CBFilters document.

    The result is checked against the schema, so what this writes, :func:`parse_bytes` reads. Raises
    :class:`CBFiltersError` for a filter set the format cannot hold (a name with spaces, a control
    character in the description, more than :data:`~amtkit.defense.model.MAX_FILTERS` filters).
    """
    count = len(filter_set.filters())
    if count > MAX_FILTERS:
        raise CBFiltersError(f"filter set compiles to {count} filters (AMT holds at most {MAX_FILTERS})")
    try:
        root = _build(filter_set)
    except ValueError as exc:  # lxml refuses text that XML 1.0 cannot carry
        raise CBFiltersError(str(exc)) from exc
    _validate(root, SCHEMA_PATH, "<to_bytes>")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(
        root, encoding="UTF-8", pretty_print=True
    )


def _build(fs: FilterSet) -> etree._Element:
    nsmap: Any = {None: NAMESPACE}  # lxml-stubs do not allow the None (default) prefix
    root = etree.Element(f"{_NS}filterSet", nsmap=nsmap)
    root.set("name", fs.name)
    root.set("precedence", str(fs.precedence))
    if fs.description:
        _sub(root, "description").text = fs.description
    defaults = _sub(root, "defaults")
    for tag, default in (("transmit", fs.transmit_default), ("receive", fs.receive_default)):
        _sub(
            defaults,
            tag,
            [
                ("action", "drop" if default.drop else "pass"),
                ("count", _flag(default.count)),
                ("event", _flag(default.event)),
            ],
        )
    _sub(root, "antiSpoofing", [("enabled", _flag(fs.anti_spoofing))])
    _sub(root, "ping", [("allow", _flag(fs.ping))])
    if fs.timeout is not None:
        _sub(root, "timeout", [("seconds", str(fs.timeout))])
    entries = fs.entries
    i = 0
    while i < len(entries):
        entry = entries[i]
        if isinstance(entry, Peer):
            peer = _sub(
                root,
                "peer",
                [("name", entry.name), ("role", entry.role.value), ("address", _network_text(entry.address))],
            )
            for rule in entry.allow:
                _sub(
                    peer,
                    "allow",
                    [
                        ("protocol", _PROTOCOL_NAMES.get(rule.protocol, str(rule.protocol))),
                        ("remotePorts", format_port_list(rule.remote_ports) or None),
                        ("localPorts", format_port_list(rule.local_ports) or None),
                    ],
                )
        elif i + 1 < len(entries) and _is_pair(entry, entries[i + 1]):
            _write_filter(root, entry, "both")
            i += 1
        else:
            _write_filter(root, entry, entry.direction.name.lower())
        i += 1
    return root


def write(filter_set: FilterSet, path: str | os.PathLike[str]) -> None:
    """Write ``filter_set`` to ``path`` (see :func:`to_bytes`)."""
    Path(path).write_bytes(to_bytes(filter_set))
