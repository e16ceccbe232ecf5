"""Circuit Breaker filters and policies <-> amtkit's System Defense model (sans-IO).

Circuit Breaker is System Defense's first form: the same firmware objects under the legacy SOAP
service. Its structures are nested mappings here, shaped like the WSDL's types (what zeep takes as
keyword arguments and what :func:`zeep.helpers.serialize_object` gives back; the simulator builds the
same mappings from requests). Both sides convert through :mod:`amtkit.defense.model`, so a filter made
over one protocol reads the same over the other.

What Circuit Breaker can say differs from WS-Man in two ways, both refused with
:class:`~amtkit.defense.model.InvalidFilterError` rather than silently changed:

* an IP filter names at most one address (source *or* destination, ``IPAddressDirection``);
* ports are a pair of single ports, or one range on one side.
"""

from __future__ import annotations

from collections.abc import Mapping
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network
from typing import Any

from ..defense.model import (
    DefaultAction,
    EthernetFilter,
    Filter,
    FilterDirection,
    FilterProfile,
    InvalidFilterError,
    IPHeaderFilter,
    IPNetwork,
    IPProtocol,
    Policy,
    PortRange,
)

__all__ = ["filter_from_cb", "filter_to_cb", "policy_from_cb", "policy_to_cb"]

SOURCE, DESTINATION = 0, 1
"""``IPAddressDirection`` values."""

CBMapping = Mapping[str, Any]


# -- filters ----------------------------------------------------------------------------------------


def _address_desc(f: IPHeaderFilter) -> dict[str, object]:
    """The one address of an IP filter; "any" is written as address and mask 0 (an empty ``IPv4``
    element would not say which IP version a reader should take)."""
    if f.src is not None and f.dst is not None:
        raise InvalidFilterError(
            f"Circuit Breaker filters match one address, not both ({f.src} and {f.dst}): split the filter "
            "or use WS-Management (AMT 3.2 and later)")
    network, direction = (f.src, SOURCE) if f.src is not None else (f.dst, DESTINATION)
    if network is None:
        network = ip_network("0.0.0.0/0" if f.ip_version == 4 else "::/0")
    return {"IPAddressDirection": direction, "Address": str(network.network_address),
            "AddressMask": str(network.netmask)}


def _ports(f: IPHeaderFilter) -> dict[str, object] | None:
    src, dst = f.src_ports, f.dst_ports
    if src is None and dst is None:
        return None
    if src is not None and dst is not None:
        if len(src) == 1 and len(dst) == 1:
            return {"IPLayeredPortSimple": {"SourcePort": src.start, "DestinationPort": dst.start}}
        raise InvalidFilterError(
            f"Circuit Breaker filters take one port range, or one port on each side, not {src} and {dst}")
    if src is not None:
        return {"IPLayeredPortRangeSource": {"PortMin": src.start, "PortMax": src.end}}
    assert dst is not None
    return {"IPLayeredPortRangeDestination": {"PortMin": dst.start, "PortMax": dst.end}}


def filter_to_cb(f: Filter, name: str | None = None) -> dict[str, object]:
    """The ``Filter`` structure of ``f`` (``name`` defaults to the filter's own, cut to 16 characters)."""
    if isinstance(f, EthernetFilter):
        packet: dict[str, object] = {"PacketETH": {"EthernetFrameType": f.ethertype}}
    else:
        version = f"IPv{f.ip_version}"
        ip_packet = {version: {f"{version}Desc": _address_desc(f)}}
        ports = _ports(f)
        if f.protocol in (IPProtocol.TCP, IPProtocol.UDP):
            body: dict[str, object] = {"IPPacket": ip_packet}
            if ports is not None:
                body["IPLayeredPort"] = ports
            packet = {"PacketTCP" if f.protocol == IPProtocol.TCP else "PacketUDP": body}
        else:
            body = {"IPPacket": ip_packet}
            if f.protocol != IPProtocol.ANY:
                body["NextProtocol"] = int(f.protocol)
            packet = {"PacketIP": body}
    result: dict[str, object] = {}
    label = (f.name if name is None else name)[:16]
    if label:
        result["FilterName"] = label
    result.update({"FilterDirection": int(f.direction), "FilterProfile": int(f.profile),
                   "FilterProfileData": f.rate_limit or 0, "FilterPacket": packet,
                   "ActionEventOnMatch": f.event_on_match})
    return result


def _int(data: CBMapping, key: str) -> int:
    value = data.get(key)
    if value is None or isinstance(value, bool):
        raise InvalidFilterError(f"{key} is missing")
    try:
        return int(value)
    except (TypeError, ValueError) as error:
        raise InvalidFilterError(f"{key} is not a number: {value!r}") from error


def _bool(data: CBMapping, key: str) -> bool:
    value = data.get(key)
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1")
    return bool(value)


def _one(data: object, what: str) -> tuple[str, CBMapping]:
    """The one chosen element of an ``xs:choice`` (``{"PacketTCP": {...}}``)."""
    if not isinstance(data, Mapping):
        raise InvalidFilterError(f"{what} is missing")
    chosen = [(key, value) for key, value in data.items() if value is not None]
    if len(chosen) != 1:
        raise InvalidFilterError(f"{what} must hold exactly one choice, not {[k for k, _ in chosen]}")
    key, value = chosen[0]
    return key, value if isinstance(value, Mapping) else {}


def _networks(ip_packet: object) -> tuple[int, IPNetwork | None, IPNetwork | None]:
    kind, body = _one(ip_packet, "IPPacket")
    if kind not in ("IPv4", "IPv6"):
        raise InvalidFilterError(f"IPPacket holds {kind}, not IPv4 or IPv6")
    version = 4 if kind == "IPv4" else 6
    desc = body.get(f"{kind}Desc")
    if not isinstance(desc, Mapping):
        return version, None, None
    try:
        address, mask = ip_address(str(desc.get("Address"))), ip_address(str(desc.get("AddressMask")))
    except ValueError as error:
        raise InvalidFilterError(f"{kind}Desc holds no usable address and mask: {error}") from error
    if address.version != version or mask.version != version:
        raise InvalidFilterError(f"{address}/{mask} is not an {kind} address and mask")
    width, bits = address.max_prefixlen, int(mask)
    prefix = bin(bits).count("1")
    if bits != ((1 << width) - 1) ^ ((1 << (width - prefix)) - 1):
        raise InvalidFilterError(f"{mask} is not a contiguous network mask")
    kind_of_network = IPv4Network if version == 4 else IPv6Network
    network: IPNetwork | None = kind_of_network((int(address) & bits, prefix)) if prefix else None
    direction = _int(desc, "IPAddressDirection")
    if direction not in (SOURCE, DESTINATION):
        raise InvalidFilterError(f"IPAddressDirection must be 0 or 1, not {direction}")
    return (version, network, None) if direction == SOURCE else (version, None, network)


def _port_ranges(layered: object) -> tuple[PortRange | None, PortRange | None]:
    if layered is None:
        return None, None
    kind, body = _one(layered, "IPLayeredPort")
    if kind == "IPLayeredPortSimple":
        return PortRange.single(_int(body, "SourcePort")), PortRange.single(_int(body, "DestinationPort"))
    span = PortRange(_int(body, "PortMin"), _int(body, "PortMax"))
    if kind == "IPLayeredPortRangeSource":
        return span, None
    if kind == "IPLayeredPortRangeDestination":
        return None, span
    raise InvalidFilterError(f"IPLayeredPort holds {kind}")


def filter_from_cb(data: CBMapping) -> Filter:
    """The model of a ``Filter`` structure. Raises :class:`InvalidFilterError` for values AMT would
    refuse and for what amtkit does not model (TCP flags)."""
    try:
        direction = FilterDirection(_int(data, "FilterDirection"))
        profile = FilterProfile(_int(data, "FilterProfile"))
    except ValueError as error:
        raise InvalidFilterError(str(error)) from error
    rate = data.get("FilterProfileData")
    common: dict[str, Any] = {
        "direction": direction, "profile": profile, "event_on_match": _bool(data, "ActionEventOnMatch"),
        "rate_limit": int(rate) if profile is FilterProfile.RATE_LIMIT and rate is not None else None,
        "name": str(data.get("FilterName") or ""),
    }
    kind, packet = _one(data.get("FilterPacket"), "FilterPacket")
    if kind == "PacketETH":
        return EthernetFilter(ethertype=_int(packet, "EthernetFrameType"), **common)
    if kind not in ("PacketTCP", "PacketUDP", "PacketIP"):
        raise InvalidFilterError(f"FilterPacket holds {kind}")
    version, src, dst = _networks(packet.get("IPPacket"))
    if kind == "PacketIP":
        protocol = _int(packet, "NextProtocol") if packet.get("NextProtocol") is not None else int(IPProtocol.ANY)
        return IPHeaderFilter(ip_version=version, protocol=protocol, src=src, dst=dst, **common)
    flags = packet.get("TCPFlags")
    if isinstance(flags, Mapping) and any(value is not None for value in flags.values()):
        raise InvalidFilterError("TCP flag matching is not modelled by amtkit")
    src_ports, dst_ports = _port_ranges(packet.get("IPLayeredPort"))
    protocol = IPProtocol.TCP if kind == "PacketTCP" else IPProtocol.UDP
    return IPHeaderFilter(ip_version=version, protocol=protocol, src=src, dst=dst, src_ports=src_ports,
                          dst_ports=dst_ports, **common)


# -- policies ---------------------------------------------------------------------------------------


def _default(action: DefaultAction) -> dict[str, object]:
    return {"ActionEventOnMatch": action.event, "ActionCount": action.count, "ActionDrop": action.drop}


def policy_to_cb(policy: Policy, handles: list[int], name: str | None = None) -> dict[str, object]:
    """The ``Policy`` structure: ``policy`` referencing the created filters ``handles`` in order."""
    result: dict[str, object] = {"PolicyName": (policy.name if name is None else name)[:16],
                                 "PolicyPrecedence": policy.precedence}
    if policy.anti_spoofing:
        result["AntiSpoofingFilter"] = {"ActionEventOnMatch": False, "ActionCount": False}
    result["FilterCreationHandles"] = list(handles)
    result["DefaultTXFilter"] = _default(policy.transmit_default)
    result["DefaultRXFilter"] = _default(policy.receive_default)
    return result


def _default_from(data: object, what: str) -> DefaultAction:
    if not isinstance(data, Mapping):
        raise InvalidFilterError(f"{what} is missing")
    return DefaultAction(drop=_bool(data, "ActionDrop"), count=_bool(data, "ActionCount"),
                         event=_bool(data, "ActionEventOnMatch"))


def policy_from_cb(data: CBMapping) -> tuple[Policy, list[int]]:
    """The model of a ``Policy`` structure (no filters) and its filter handles in order."""
    raw = data.get("FilterCreationHandles")
    items = raw if isinstance(raw, list) else ([] if raw is None else [raw])
    try:
        handles = [int(h) for h in items]
    except (TypeError, ValueError) as error:
        raise InvalidFilterError("FilterCreationHandles must be numbers") from error
    policy = Policy(
        name=str(data.get("PolicyName") or "(unnamed)"),
        precedence=_int(data, "PolicyPrecedence"),
        transmit_default=_default_from(data.get("DefaultTXFilter"), "DefaultTXFilter"),
        receive_default=_default_from(data.get("DefaultRXFilter"), "DefaultRXFilter"),
        anti_spoofing=isinstance(data.get("AntiSpoofingFilter"), Mapping),
    )
    return policy, handles
