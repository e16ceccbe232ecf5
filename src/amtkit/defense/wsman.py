"""How System Defense filters and policies look on the wire (sans-IO).

The client writes, and the simulator reads, these property sets; both decode what the device
holds with :func:`filter_from_properties` and :func:`policy_from_properties`, so a filter read back
compares *semantically* with the one sent (an address with an all-ones mask and an address alone
are the same filter).

AMT classes and the properties amtkit uses (Intel AMT SDK class reference):

``AMT_IPHeadersFilter``
    keys ``CreationClassName``, ``Name``, ``SystemCreationClassName``, ``SystemName``, ``InstanceID``
    (the creation handle, assigned by AMT); ``HdrIPVersion`` 4/6; ``HdrProtocolID`` (absent = any);
    ``HdrSrcAddress``/``HdrSrcMask`` and ``HdrDestAddress``/``HdrDestMask`` as OctetStrings written in
    hex (``c0a8000a``/``ffffffff``; an address without mask matches exactly, no address matches any);
    ``HdrSrcPortStart``/``End``, ``HdrDestPortStart``/``End``; and the common ``FilterProfile``,
    ``FilterDirection``, ``ActionEventOnMatch``, ``FilterProfileData`` (packets per second of a
    rate-limit filter).
``AMT_Hdr8021Filter``
    the same keys and common properties, and ``HdrProtocolID8021`` (the EtherType).
``AMT_SystemDefensePolicy``
    key ``InstanceID``; ``PolicyName`` (at most 16 characters), ``PolicyPrecedence``,
    ``AntiSpoofingSupport`` (0 off; amtkit writes 1 for on and reads any other value as on),
    ``FilterCreationHandles`` (at most 62, the integers ending the filters' InstanceIDs), and the six
    default flags ``Tx``/``RxDefaultDrop``/``Count``/``MatchEvent``. Methods ``SetTimeout``/``GetTimeout``
    (minutes, 0 = none, at most 65535) and ``UpdateStatistics(NetworkInterface, ResetOnRead)``.
``AMT_NetworkPortSystemDefensePolicy``
    the association that activates a policy on a port: ``Antecedent`` the ``CIM_EthernetPort``
    (``Intel(r) AMT Ethernet Port 0`` wired, ``1`` wireless), ``Dependent`` the policy.

Ownership: amtkit names its policies and filters ``amtkit:...`` (:data:`OWNER_PREFIX`) and only ever
replaces or removes objects carrying that prefix; everything else on the device is foreign and left
alone.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import replace
from functools import lru_cache
from ipaddress import IPv4Address, IPv6Address, ip_network

from amtkit.wsman import names
from amtkit.wsman.names import Cls
from amtkit.wsman.values import EndpointReference, Value

from .model import (
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

__all__ = [
    "ANTI_SPOOFING_ON",
    "FILTER_CLASSES",
    "MAX_FILTERS_PER_POLICY",
    "MAX_NAME_LENGTH",
    "MAX_TIMEOUT_MINUTES",
    "OWNER_PREFIX",
    "PolicyObject",
    "class_of",
    "ethernet_port",
    "ethernet_port_epr",
    "expected_policy",
    "filter_from_properties",
    "filter_handles",
    "filter_properties",
    "filter_wire_name",
    "handle_of",
    "is_ours",
    "policy_epr",
    "policy_from_properties",
    "policy_name",
    "policy_properties",
    "policy_wire_name",
    "port_of",
    "round_trip",
    "timeout_minutes",
]

OWNER_PREFIX = "amtkit:"
"""Prefix of the ``PolicyName`` and filter ``Name`` of every object amtkit creates."""
MAX_NAME_LENGTH = 16
"""``PolicyName`` holds at most 16 characters (SDK: "Maximum length 16"). Filter names are kept to the
same length, as their limit is not documented."""
MAX_FILTERS_PER_POLICY = 62
"""``FilterCreationHandles`` is declared ``uint32[62]``: one policy references at most 62 filters."""
MAX_TIMEOUT_MINUTES = 65535
"""``SetTimeout`` takes minutes, 1-65535 (0 means no timeout)."""
ANTI_SPOOFING_ON = 1
"""The ``AntiSpoofingSupport`` value amtkit writes for "on" (0 is off)."""

FILTER_CLASSES: tuple[str, str] = (Cls.AMT_IPHeadersFilter, Cls.AMT_Hdr8021Filter)

_PORT_PREFIX = names.ETHERNET_PORT_DEVICE_ID.rsplit(" ", 1)[0]  # "Intel(r) AMT Ethernet Port"
_TRAILING_INT = re.compile(r"(\d+)\s*$")
_DOCUMENTED_PREFIX = "amtkit-"


# -- identities -------------------------------------------------------------------------------------


def ethernet_port(port: int) -> str:
    """The ``DeviceID`` of AMT's network port ``port`` (0 wired, 1 wireless)."""
    return f"{_PORT_PREFIX} {port}"


def port_of(device_id: str) -> int | None:
    """The port number in a ``CIM_EthernetPort`` DeviceID, or None for another string."""
    if not device_id.startswith(_PORT_PREFIX):
        return None
    match = _TRAILING_INT.search(device_id)
    return int(match.group(1)) if match else None


def ethernet_port_epr(port: int = 0) -> EndpointReference:
    """Reference to AMT's ``CIM_EthernetPort`` ``port`` (the ``Antecedent`` of an activation)."""
    return EndpointReference(
        names.resource_uri(Cls.CIM_EthernetPort),
        {"CreationClassName": Cls.CIM_EthernetPort, "DeviceID": ethernet_port(port), **names.AMT_SYSTEM_SELECTORS},
    )


def policy_epr(instance_id: str) -> EndpointReference:
    """Reference to the ``AMT_SystemDefensePolicy`` with this InstanceID."""
    return EndpointReference(names.resource_uri(Cls.AMT_SystemDefensePolicy), {"InstanceID": instance_id})


def handle_of(instance_id: str) -> int:
    """The creation handle ending an InstanceID (``Intel(r) AMT:Handle: 7`` -> 7).

    Raises :class:`ValueError` when the InstanceID does not end in a number.
    """
    match = _TRAILING_INT.search(instance_id)
    if match is None:
        raise ValueError(f"InstanceID {instance_id!r} does not end in a handle number")
    return int(match.group(1))


def is_ours(name: object) -> bool:
    """Whether a ``PolicyName`` or filter ``Name`` marks an object amtkit created."""
    return isinstance(name, str) and name.startswith(OWNER_PREFIX)


def _label(name: str, room: int) -> str:
    for prefix in (OWNER_PREFIX, _DOCUMENTED_PREFIX):
        if name.startswith(prefix) and len(name) > len(prefix):
            name = name[len(prefix):]
    return name[:room]


def policy_wire_name(name: str) -> str:
    """``PolicyName`` for a policy called ``name``: ``amtkit:`` and as much of the name as fits in 16.

    A leading ``amtkit-`` is dropped first: ``amtkit-default`` -> ``amtkit:default``.
    """
    return OWNER_PREFIX + _label(name, MAX_NAME_LENGTH - len(OWNER_PREFIX))


def filter_wire_name(index: int, name: str) -> str:
    """Filter ``Name`` for the policy's ``index``-th filter: ``amtkit:3:dns`` (unique within the policy)."""
    head = f"{OWNER_PREFIX}{index}:"
    return head + _label(name or "filter", MAX_NAME_LENGTH - len(head))


def class_of(f: Filter) -> str:
    """The AMT class of a model filter."""
    return Cls.AMT_Hdr8021Filter if isinstance(f, EthernetFilter) else Cls.AMT_IPHeadersFilter


# -- filters ----------------------------------------------------------------------------------------


def _hex(value: int, version: int) -> str:
    return f"{value:0{8 if version == 4 else 32}x}"


def _common_properties(f: Filter) -> dict[str, Value]:
    props: dict[str, Value] = {
        "FilterProfile": int(f.profile),
        "FilterDirection": int(f.direction),
        "ActionEventOnMatch": f.event_on_match,
    }
    if f.rate_limit is not None:
        props["FilterProfileData"] = f.rate_limit
    return props


def filter_properties(f: Filter, index: int) -> tuple[str, dict[str, Value]]:
    """The class and Create properties of the policy's ``index``-th filter ``f``.

    ``InstanceID`` is sent as ``0``: AMT assigns the handle and answers it in the created reference.
    """
    class_name = class_of(f)
    props: dict[str, Value] = {
        "InstanceID": "0",
        "Name": filter_wire_name(index, f.name),
        "CreationClassName": class_name,
        "SystemName": names.AMT_SYSTEM_SELECTORS["SystemName"],
        "SystemCreationClassName": names.AMT_SYSTEM_SELECTORS["SystemCreationClassName"],
    }
    if isinstance(f, EthernetFilter):
        props["HdrProtocolID8021"] = f.ethertype
    else:
        props["HdrIPVersion"] = f.ip_version
        if f.protocol != IPProtocol.ANY:
            props["HdrProtocolID"] = int(f.protocol)
        for side, network in (("Src", f.src), ("Dest", f.dst)):
            if network is not None and network.prefixlen > 0:
                props[f"Hdr{side}Address"] = _hex(int(network.network_address), f.ip_version)
                props[f"Hdr{side}Mask"] = _hex(int(network.netmask), f.ip_version)
        for side, ports in (("Src", f.src_ports), ("Dest", f.dst_ports)):
            if ports is not None:
                props[f"Hdr{side}PortStart"] = ports.start
                props[f"Hdr{side}PortEnd"] = ports.end
    props.update(_common_properties(f))
    return class_name, props


_UNMODELLED = {
    Cls.AMT_IPHeadersFilter: ("HdrSrcAddressEndOfRange", "HdrDestAddressEndOfRange", "HdrDSCP", "HdrFlowLabel",
                              "TCPFlagsOn", "TCPFlagsOff"),
    Cls.AMT_Hdr8021Filter: ("HdrSrcMACAddr8021", "HdrSrcMACMask8021", "HdrDestMACAddr8021", "HdrDestMACMask8021",
                            "HdrPriorityValue8021", "HdrVLANID8021"),
}


def _int(props: Mapping[str, Value], name: str, default: int | None = None) -> int | None:
    value = props.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise InvalidFilterError(f"{name} is not a number: {value!r}")
    try:
        return int(value)
    except ValueError as error:
        raise InvalidFilterError(f"{name} is not a number: {value!r}") from error


def _required_int(props: Mapping[str, Value], name: str) -> int:
    value = _int(props, name)
    if value is None:
        raise InvalidFilterError(f"{name} is required")
    return value


def _bool(props: Mapping[str, Value], name: str) -> bool:
    value = props.get(name)
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1")
    return bool(value)


def _network(props: Mapping[str, Value], side: str, version: int) -> IPNetwork | None:
    address_hex, mask_hex = props.get(f"Hdr{side}Address"), props.get(f"Hdr{side}Mask")
    if address_hex in (None, ""):
        if mask_hex not in (None, ""):
            raise InvalidFilterError(f"Hdr{side}Mask without Hdr{side}Address")
        return None
    width = 32 if version == 4 else 128
    try:
        address = int(str(address_hex), 16)
        mask = int(str(mask_hex), 16) if mask_hex not in (None, "") else (1 << width) - 1
    except ValueError as error:
        raise InvalidFilterError(f"Hdr{side}Address/Mask are not hexadecimal: {address_hex!r}/{mask_hex!r}") from error
    if address >= 1 << width or mask >= 1 << width:
        raise InvalidFilterError(f"Hdr{side}Address/Mask do not fit IPv{version}")
    prefix = bin(mask).count("1")
    if mask != ((1 << width) - 1) ^ ((1 << (width - prefix)) - 1):
        raise InvalidFilterError(f"Hdr{side}Mask {mask_hex} is not a contiguous network mask")
    if prefix == 0:
        return None
    host = IPv4Address(address & mask) if version == 4 else IPv6Address(address & mask)
    return ip_network(f"{host}/{prefix}")


def _ports(props: Mapping[str, Value], side: str) -> PortRange | None:
    start, end = _int(props, f"Hdr{side}PortStart"), _int(props, f"Hdr{side}PortEnd")
    if start is None and end is None:
        return None
    return PortRange(0 if start is None else start, 65535 if end is None else end)


def filter_from_properties(class_name: str, props: Mapping[str, Value]) -> Filter:
    """The model filter a device object (or a Create body) describes.

    ``name`` is the wire ``Name`` as it is. Raises :class:`InvalidFilterError` for values AMT would
    refuse and for features amtkit does not model (address ranges, DSCP, flow labels, TCP flags,
    MAC addresses, VLANs, negation).
    """
    unmodelled = [p for p in _UNMODELLED.get(class_name, ()) if props.get(p) not in (None, "", [])]
    if _bool(props, "IsNegated"):
        unmodelled.append("IsNegated")
    if unmodelled:
        raise InvalidFilterError(f"{class_name} uses properties amtkit does not model: {', '.join(unmodelled)}")
    try:
        profile = FilterProfile(_required_int(props, "FilterProfile"))
        direction = FilterDirection(_required_int(props, "FilterDirection"))
    except ValueError as error:
        raise InvalidFilterError(str(error)) from error
    rate_limit = _int(props, "FilterProfileData") if profile is FilterProfile.RATE_LIMIT else None
    common = {
        "direction": direction,
        "profile": profile,
        "rate_limit": rate_limit,
        "event_on_match": _bool(props, "ActionEventOnMatch"),
        "name": str(props.get("Name") or ""),
    }
    if class_name == Cls.AMT_Hdr8021Filter:
        return EthernetFilter(ethertype=_required_int(props, "HdrProtocolID8021"), **common)  # type: ignore[arg-type]
    if class_name != Cls.AMT_IPHeadersFilter:
        raise InvalidFilterError(f"{class_name} is not a System Defense filter class")
    version = _int(props, "HdrIPVersion")
    if version is None:
        raise InvalidFilterError("HdrIPVersion is required (filters matching both IP versions are not modelled)")
    if version not in (4, 6):
        raise InvalidFilterError(f"HdrIPVersion must be 4 or 6, not {version}")
    return IPHeaderFilter(
        ip_version=version,
        protocol=_int(props, "HdrProtocolID", int(IPProtocol.ANY)),  # type: ignore[arg-type]
        src=_network(props, "Src", version),
        dst=_network(props, "Dest", version),
        src_ports=_ports(props, "Src"),
        dst_ports=_ports(props, "Dest"),
        **common,  # type: ignore[arg-type]
    )


@lru_cache(maxsize=256)
def round_trip(f: Filter, index: int) -> Filter:
    """``f`` as the device will hold it: encoded, decoded (a /0 network becomes "any", the name the
    wire name). What a read-back is compared with. Filters are frozen: a fleet job applying one set to
    every host computes each once."""
    class_name, props = filter_properties(f, index)
    return filter_from_properties(class_name, props)


# -- policies ---------------------------------------------------------------------------------------


def policy_properties(policy: Policy, handles: list[int]) -> dict[str, Value]:
    """Create properties of ``policy`` referencing the created filters' ``handles`` in order.

    The name becomes :func:`policy_wire_name`; ``timeout`` is not a property (see :func:`timeout_minutes`).
    """
    props: dict[str, Value] = {
        "InstanceID": "0",
        "PolicyName": policy_wire_name(policy.name),
        "PolicyPrecedence": policy.precedence,
        "AntiSpoofingSupport": ANTI_SPOOFING_ON if policy.anti_spoofing else 0,
    }
    for prefix, default in (("Tx", policy.transmit_default), ("Rx", policy.receive_default)):
        props[f"{prefix}DefaultCount"] = default.count
        props[f"{prefix}DefaultDrop"] = default.drop
        props[f"{prefix}DefaultMatchEvent"] = default.event
    if handles:
        props["FilterCreationHandles"] = list(handles)
    return props


def policy_from_properties(props: Mapping[str, Value], filters: tuple[Filter, ...] = ()) -> Policy:
    """The model policy of a device object (name as on the wire), with the given filters."""
    defaults = {
        prefix: DefaultAction(
            drop=_bool(props, f"{prefix}DefaultDrop"),
            count=_bool(props, f"{prefix}DefaultCount"),
            event=_bool(props, f"{prefix}DefaultMatchEvent"),
        )
        for prefix in ("Tx", "Rx")
    }
    return Policy(
        name=str(props.get("PolicyName") or "(unnamed)"),
        precedence=_int(props, "PolicyPrecedence", 0) or 0,
        transmit_default=defaults["Tx"],
        receive_default=defaults["Rx"],
        anti_spoofing=bool(_int(props, "AntiSpoofingSupport", 0)),
        filters=filters,
    )


def policy_name(props: Mapping[str, Value]) -> str:
    """``PolicyName`` of a policy object as the device holds it (empty when it has none)."""
    return str(props.get("PolicyName") or "")


class PolicyObject:
    """Name and precedence of a policy object read from its ``properties`` (the client's view of a
    device's policy, the simulator's stored one)."""

    properties: Mapping[str, Value]

    @property
    def name(self) -> str:
        return policy_name(self.properties)

    @property
    def precedence(self) -> int:
        """``PolicyPrecedence`` (0 when it has none, or no number)."""
        value = self.properties.get("PolicyPrecedence")
        return value if isinstance(value, int) and not isinstance(value, bool) else 0


def filter_handles(props: Mapping[str, Value]) -> list[int] | None:
    """``FilterCreationHandles`` of a policy object, or None when the device did not report them."""
    value = props.get("FilterCreationHandles")
    if value is None:
        return None
    items = value if isinstance(value, list) else [value]
    return [int(str(item)) for item in items if item not in (None, "")]


def timeout_minutes(seconds: int | None) -> int:
    """``SetTimeout``'s value for a policy timeout of ``seconds``: whole minutes rounded up, 0 for none.

    Raises :class:`InvalidFilterError` above :data:`MAX_TIMEOUT_MINUTES` minutes (about 45 days).
    """
    if seconds is None or seconds == 0:
        return 0
    minutes = math.ceil(seconds / 60)
    if not 1 <= minutes <= MAX_TIMEOUT_MINUTES:
        raise InvalidFilterError(
            f"timeout {seconds} s is {minutes} min; AMT takes 1-{MAX_TIMEOUT_MINUTES} minutes"
        )
    return minutes


def expected_policy(policy: Policy) -> Policy:
    """``policy`` as a read-back should decode (wire name, no filters, no timeout)."""
    return replace(policy, name=policy_wire_name(policy.name), filters=(), timeout=None)

