"""Inventory: what an AMT machine is, as typed records (``client.inventory``).

::

    with amtkit.Client("10.0.0.5", password="...") as amt:
        inv = amt.inventory.collect()
        print(inv.versions.amt, inv.setup.control_mode, inv.hardware.platform_guid)
        print([port.mac_address for port in inv.network], inv.features.kvm)

One round trip per class: every class is read with an *optimized* Enumerate, which carries the
instances in the EnumerateResponse itself (no Pull, no Release) when they fit ``max_elements``. The
classes and what they give:

=================================  =====================================================================
``CIM_SoftwareIdentity``           firmware versions (InstanceID ``AMT``, ``Flash``, ``Build Number``...)
``AMT_GeneralSettings``            host name and domain
``AMT_EthernetPortSettings``       MAC, IP, subnet, gateway, DNS, DHCP, link per interface
``CIM_Chassis``                    manufacturer, model, serial number
``CIM_ComputerSystemPackage``      platform GUID
``CIM_BIOSElement``                BIOS vendor, version, release date
``CIM_Processor``                  processors (clock speeds, family, stepping)
``CIM_PhysicalMemory``             memory modules (bank, capacity, part and serial numbers)
``AMT_SetupAndConfigurationService``  provisioning state and control mode (ACM / CCM)
``AMT_RedirectionService``         IDE-R and SOL enabled (``EnabledState`` 32768 + 1 IDE-R + 2 SOL)
``CIM_KVMRedirectionSAP``          KVM enabled (``EnabledState`` 2 or 6) or disabled (3)
=================================  =====================================================================

A class the device does not have (a SKU without KVM, CIM_Processor on recent firmware) answers
with an empty enumeration or a DestinationUnreachable fault; either way its part of the inventory is
reported *absent* (``None``, an empty tuple, :attr:`FeatureState.ABSENT`) and the class is listed in
:attr:`Inventory.absent`, never raised. System Defense availability follows the control mode: admin
control mode only.
"""

from __future__ import annotations

import datetime as _dt
import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from . import exceptions as exc
from .codes import ControlMode, EnabledState, ProvisioningState
from .redirection.service import RedirectionState
from .wsman.names import Cls
from .wsman.values import CimInstance, Value

if TYPE_CHECKING:
    from .client import Client

__all__ = [
    "INVENTORY_CLASSES",
    "Bios",
    "Chassis",
    "FeatureState",
    "Features",
    "GeneralSettings",
    "Hardware",
    "Inventory",
    "InventoryReader",
    "MemoryModule",
    "NetworkInterface",
    "Processor",
    "Setup",
    "Versions",
    "build_inventory",
]

INVENTORY_CLASSES: tuple[str, ...] = (
    Cls.CIM_SoftwareIdentity,
    Cls.AMT_GeneralSettings,
    Cls.AMT_EthernetPortSettings,
    Cls.CIM_Chassis,
    Cls.CIM_ComputerSystemPackage,
    Cls.CIM_BIOSElement,
    Cls.CIM_Processor,
    Cls.CIM_PhysicalMemory,
    Cls.AMT_SetupAndConfigurationService,
    Cls.AMT_RedirectionService,
    Cls.CIM_KVMRedirectionSAP,
)
"""The classes a full inventory reads, one round trip each."""

_WIRELESS_CONNECTION = 3  # AMT_EthernetPortSettings.PhysicalConnectionType: wireless LAN


class FeatureState(str, enum.Enum):
    """Whether a feature can be used on this device now."""

    ENABLED = "enabled"
    """Offered and switched on (for System Defense: available, i.e. admin control mode)."""
    DISABLED = "disabled"
    """Offered but switched off; an administrator can switch it on."""
    ABSENT = "absent"
    """Not offered: the SKU lacks it, or the control mode / provisioning state rules it out."""


@dataclass(frozen=True)
class Versions:
    """Firmware versions from ``CIM_SoftwareIdentity``; ``all`` maps every InstanceID to its VersionString."""

    amt: str | None = None
    flash: str | None = None
    build_number: str | None = None
    sku: str | None = None
    recovery: str | None = None
    firmware_core: str | None = None
    all: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class GeneralSettings:
    """``AMT_GeneralSettings``: the names AMT answers to."""

    hostname: str | None = None
    domain: str | None = None

    @property
    def fqdn(self) -> str | None:
        if not self.hostname:
            return None
        return f"{self.hostname}.{self.domain}" if self.domain else self.hostname


@dataclass(frozen=True)
class NetworkInterface:
    """One ``AMT_EthernetPortSettings`` instance (AMT writes MACs as ``00-be-43-d8-22-a4``)."""

    instance_id: str
    mac_address: str | None = None
    ip_address: str | None = None
    subnet_mask: str | None = None
    default_gateway: str | None = None
    primary_dns: str | None = None
    dhcp_enabled: bool | None = None
    link_up: bool | None = None
    wireless: bool = False


@dataclass(frozen=True)
class Chassis:
    manufacturer: str | None = None
    model: str | None = None
    serial_number: str | None = None
    version: str | None = None
    package_type: int | None = None
    """``ChassisPackageType`` (CIM: 3 desktop, 9 laptop, 10 notebook...)."""


@dataclass(frozen=True)
class Bios:
    vendor: str | None = None
    version: str | None = None
    release_date: _dt.datetime | None = None


@dataclass(frozen=True)
class Processor:
    device_id: str | None = None
    family: int | None = None
    current_mhz: int | None = None
    max_mhz: int | None = None
    stepping: str | None = None
    status: int | None = None
    """``CPUStatus``: 1 enabled, 2 disabled by user, 3 disabled by BIOS, 4 idle..."""


@dataclass(frozen=True)
class MemoryModule:
    bank_label: str | None = None
    capacity_bytes: int | None = None
    manufacturer: str | None = None
    part_number: str | None = None
    serial_number: str | None = None
    memory_type: int | None = None
    """CIM ``MemoryType`` (24 DDR3, 26 DDR4, 34 DDR5...)."""
    speed_mhz: int | None = None


@dataclass(frozen=True)
class Hardware:
    """The hardware asset: chassis, platform GUID, BIOS, processors, memory."""

    chassis: Chassis | None = None
    platform_guid: str | None = None
    bios: Bios | None = None
    processors: tuple[Processor, ...] = ()
    memory: tuple[MemoryModule, ...] = ()

    @property
    def total_memory_bytes(self) -> int:
        return sum(module.capacity_bytes or 0 for module in self.memory)


@dataclass(frozen=True)
class Setup:
    """``AMT_SetupAndConfigurationService``: provisioning state and control mode (``None``: not reported)."""

    provisioning_state: ProvisioningState | None = None
    control_mode: ControlMode | None = None


@dataclass(frozen=True)
class Features:
    """What can be used: IDE-R and SOL (``AMT_RedirectionService``), KVM (``CIM_KVMRedirectionSAP``),
    System Defense (admin control mode). ``redirection_listener``: the redirection port accepts sessions."""

    ider: FeatureState = FeatureState.ABSENT
    sol: FeatureState = FeatureState.ABSENT
    kvm: FeatureState = FeatureState.ABSENT
    system_defense: FeatureState = FeatureState.ABSENT
    redirection_listener: bool | None = None


@dataclass(frozen=True)
class Inventory:
    """Everything :meth:`InventoryReader.collect` read from one device.

    ``absent``: classes the device has no instance of (their parts are empty, not errors).
    ``round_trips``: HTTP requests it took (a digest challenge on first contact counts).
    """

    host: str
    versions: Versions
    general: GeneralSettings
    network: tuple[NetworkInterface, ...]
    hardware: Hardware
    setup: Setup
    features: Features
    absent: tuple[str, ...] = ()
    round_trips: int = 0

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view: enums as names/values, datetimes in ISO 8601."""
        data: dict[str, Any] = _jsonable(asdict(self))
        data["general"]["fqdn"] = self.general.fqdn
        data["hardware"]["total_memory_bytes"] = self.hardware.total_memory_bytes
        return data


CONTROL_MODE_NAMES = {ControlMode.NONE: "none", ControlMode.ADMIN: "acm", ControlMode.CLIENT: "ccm"}
"""``control_mode`` as every amtkit output spells it (discover, inventory, diagnose): ``acm``, ``ccm``, ``none``."""


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, FeatureState):
        return value.value
    if isinstance(value, ControlMode):
        return CONTROL_MODE_NAMES[value]
    if isinstance(value, enum.Enum):
        return value.name.lower()
    if isinstance(value, _dt.datetime):
        return value.isoformat()
    return value


# ------------------------------------------------------------------------------------ reading values


def _text(instance: CimInstance | None, name: str) -> str | None:
    value = None if instance is None else instance.get(name)
    if value is None or isinstance(value, list):
        return None
    text = str(value).strip()
    return text or None


def _int(instance: CimInstance | None, name: str) -> int | None:
    value = None if instance is None else instance.get(name)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip()) if value not in (None, "") else None
    except ValueError:
        return None


def _bool(instance: CimInstance | None, name: str) -> bool | None:
    value = None if instance is None else instance.get(name)
    return value if isinstance(value, bool) else None


def _datetime(instance: CimInstance | None, name: str) -> _dt.datetime | None:
    value: Value = None if instance is None else instance.get(name)
    return value if isinstance(value, _dt.datetime) else None


def _first(instances: Sequence[CimInstance]) -> CimInstance | None:
    return instances[0] if instances else None


# ------------------------------------------------------------------------------------ building parts


def versions_from(instances: Sequence[CimInstance]) -> Versions:
    table = {}
    for instance in instances:
        key, version = _text(instance, "InstanceID"), _text(instance, "VersionString")
        if key is not None and version is not None:
            table[key] = version
    return Versions(amt=table.get("AMT"), flash=table.get("Flash"), build_number=table.get("Build Number"),
                    sku=table.get("Sku"), recovery=table.get("Recovery Version"),
                    firmware_core=table.get("AMT FW Core Version"), all=table)


def general_from(instances: Sequence[CimInstance]) -> GeneralSettings:
    instance = _first(instances)
    return GeneralSettings(hostname=_text(instance, "HostName"), domain=_text(instance, "DomainName"))


def network_from(instances: Sequence[CimInstance]) -> tuple[NetworkInterface, ...]:
    return tuple(
        NetworkInterface(
            instance_id=_text(i, "InstanceID") or "",
            mac_address=_text(i, "MACAddress"),
            ip_address=_text(i, "IPAddress"),
            subnet_mask=_text(i, "SubnetMask"),
            default_gateway=_text(i, "DefaultGateway"),
            primary_dns=_text(i, "PrimaryDNS"),
            dhcp_enabled=_bool(i, "DHCPEnabled"),
            link_up=_bool(i, "LinkIsUp"),
            wireless=_int(i, "PhysicalConnectionType") == _WIRELESS_CONNECTION,
        )
        for i in instances
    )


def hardware_from(chassis: Sequence[CimInstance], package: Sequence[CimInstance], bios: Sequence[CimInstance],
                  processors: Sequence[CimInstance], memory: Sequence[CimInstance]) -> Hardware:
    box, firmware = _first(chassis), _first(bios)
    return Hardware(
        chassis=None if box is None else Chassis(
            manufacturer=_text(box, "Manufacturer"), model=_text(box, "Model"),
            serial_number=_text(box, "SerialNumber"), version=_text(box, "Version"),
            package_type=_int(box, "ChassisPackageType")),
        platform_guid=_text(_first(package), "PlatformGUID"),
        bios=None if firmware is None else Bios(
            vendor=_text(firmware, "Manufacturer"), version=_text(firmware, "Version"),
            release_date=_datetime(firmware, "ReleaseDate")),
        processors=tuple(
            Processor(device_id=_text(p, "DeviceID"), family=_int(p, "Family"),
                      current_mhz=_int(p, "CurrentClockSpeed"), max_mhz=_int(p, "MaxClockSpeed"),
                      stepping=_text(p, "Stepping"), status=_int(p, "CPUStatus"))
            for p in processors),
        memory=tuple(
            MemoryModule(bank_label=_text(m, "BankLabel"), capacity_bytes=_int(m, "Capacity"),
                         manufacturer=_text(m, "Manufacturer"), part_number=_text(m, "PartNumber"),
                         serial_number=_text(m, "SerialNumber"), memory_type=_int(m, "MemoryType"),
                         speed_mhz=_int(m, "ConfiguredMemoryClockSpeed") or _int(m, "Speed") or None)
            for m in memory),
    )


def setup_from(instances: Sequence[CimInstance]) -> Setup:
    instance = _first(instances)
    state = _enum(ProvisioningState, _int(instance, "ProvisioningState"))
    mode = _enum(ControlMode, _int(instance, "ProvisioningMode"))
    if state is not None and state is not ProvisioningState.POST:
        mode = ControlMode.NONE  # the mode field keeps a stale value until provisioning completes
    return Setup(provisioning_state=state, control_mode=mode)


def _enum(kind: Callable[[int], Any], value: int | None) -> Any:
    if value is None:
        return None
    try:
        return kind(value)
    except ValueError:
        return None


def features_from(redirection: Sequence[CimInstance], kvm: Sequence[CimInstance], setup: Setup) -> Features:
    service = _first(redirection)
    ider = sol = FeatureState.ABSENT
    state = _int(service, "EnabledState")
    if service is not None:
        switches = _enum(RedirectionState, state)
        if switches is not None:
            ider = FeatureState.ENABLED if switches.ider else FeatureState.DISABLED
            sol = FeatureState.ENABLED if switches.sol else FeatureState.DISABLED
        else:  # a plain CIM value: 2 enabled, anything else not
            ider = sol = FeatureState.ENABLED if state == EnabledState.ENABLED else FeatureState.DISABLED
    kvm_state = FeatureState.ABSENT
    sap = _first(kvm)
    if sap is not None:
        enabled = _int(sap, "EnabledState") in (EnabledState.ENABLED, EnabledState.ENABLED_BUT_OFFLINE)
        kvm_state = FeatureState.ENABLED if enabled else FeatureState.DISABLED
    provisioned_acm = setup.provisioning_state is ProvisioningState.POST and setup.control_mode is ControlMode.ADMIN
    return Features(ider=ider, sol=sol, kvm=kvm_state,
                    system_defense=FeatureState.ENABLED if provisioned_acm else FeatureState.ABSENT,
                    redirection_listener=_bool(service, "ListenerEnabled"))


def build_inventory(host: str, fetched: Mapping[str, Sequence[CimInstance]], round_trips: int = 0) -> Inventory:
    """Fold the instances of :data:`INVENTORY_CLASSES` (class name -> instances, missing = absent) into
    an :class:`Inventory`. Pure: usable on recorded answers as well as live ones."""

    def of(class_name: str) -> Sequence[CimInstance]:
        return fetched.get(class_name, ())

    setup = setup_from(of(Cls.AMT_SetupAndConfigurationService))
    return Inventory(
        host=host,
        versions=versions_from(of(Cls.CIM_SoftwareIdentity)),
        general=general_from(of(Cls.AMT_GeneralSettings)),
        network=network_from(of(Cls.AMT_EthernetPortSettings)),
        hardware=hardware_from(of(Cls.CIM_Chassis), of(Cls.CIM_ComputerSystemPackage), of(Cls.CIM_BIOSElement),
                               of(Cls.CIM_Processor), of(Cls.CIM_PhysicalMemory)),
        setup=setup,
        features=features_from(of(Cls.AMT_RedirectionService), of(Cls.CIM_KVMRedirectionSAP), setup),
        absent=tuple(name for name in INVENTORY_CLASSES if not of(name)),
        round_trips=round_trips,
    )


# ------------------------------------------------------------------------------------ the client side


class InventoryReader:
    """``client.inventory``: read the inventory of one device.

    :meth:`collect` reads everything; the part methods read only their classes. Errors other than
    "this class does not exist here" propagate (authentication, transport, access denied...).
    """

    def __init__(self, client: Client, *, max_elements: int = 100) -> None:
        self._client = client
        self.max_elements = max_elements

    def instances(self, class_name: str) -> list[CimInstance]:
        """All instances of a class in one optimized Enumerate; ``[]`` when the device has none."""
        try:
            return self._client.enumerate(class_name, max_elements=self.max_elements)
        except exc.DestinationUnreachableFault:
            return []

    def collect(self) -> Inventory:
        """Read every class of :data:`INVENTORY_CLASSES` (one round trip each) and fold them."""
        before = self._client.transport.round_trips
        fetched = {name: self.instances(name) for name in INVENTORY_CLASSES}
        return build_inventory(self._client.host, fetched, self._client.transport.round_trips - before)

    def versions(self) -> Versions:
        return versions_from(self.instances(Cls.CIM_SoftwareIdentity))

    def general(self) -> GeneralSettings:
        return general_from(self.instances(Cls.AMT_GeneralSettings))

    def network(self) -> tuple[NetworkInterface, ...]:
        return network_from(self.instances(Cls.AMT_EthernetPortSettings))

    def hardware(self) -> Hardware:
        return hardware_from(*(self.instances(name) for name in (
            Cls.CIM_Chassis, Cls.CIM_ComputerSystemPackage, Cls.CIM_BIOSElement, Cls.CIM_Processor,
            Cls.CIM_PhysicalMemory)))

    def setup(self) -> Setup:
        return setup_from(self.instances(Cls.AMT_SetupAndConfigurationService))

    def features(self, setup: Setup | None = None) -> Features:
        """Feature switches; ``setup`` (for System Defense) is read unless given."""
        return features_from(self.instances(Cls.AMT_RedirectionService), self.instances(Cls.CIM_KVMRedirectionSAP),
                             setup if setup is not None else self.setup())
