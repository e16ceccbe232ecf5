"""Hardware asset, network settings and redirection switches of a device: state only, no XML.

Both backends live in ``device.extensions`` (created on first use from the device's
:class:`~amtsim.config.DeviceConfig`), so :class:`~amtsim.device.SimulatedDevice` needs no field for
them and tests can change them through :func:`inventory_of` / :func:`redirection_of` under
``device.lock``.

:class:`RedirectionBackend` is deliberately small: the switches ``AMT_RedirectionService`` and
``CIM_KVMRedirectionSAP`` report. The redirection service proper (``RequestStateChange``, the listener
on 16994/16995, sessions) extends this state rather than keeping a second copy of it.
"""

from __future__ import annotations

import datetime as _dt
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from amtkit.codes import EnabledState
from amtkit.redirection.service import RedirectionState

if TYPE_CHECKING:
    from ..config import DeviceConfig
    from ..device import SimulatedDevice

__all__ = [
    "INVENTORY_KEY",
    "Drive",
    "REDIRECTION_KEY",
    "InventoryBackend",
    "MemoryModule",
    "NetworkSettings",
    "Processor",
    "RedirectionBackend",
    "inventory_of",
    "redirection_of",
]

INVENTORY_KEY = "inventory"
REDIRECTION_KEY = "redirection"

GIB = 1 << 30

# CIM_KVMRedirectionSAP.EnabledState: enabled with a session, disabled, enabled but offline (no session).
KVM_SESSION = EnabledState.ENABLED
KVM_DISABLED = EnabledState.DISABLED
KVM_ENABLED_OFFLINE = EnabledState.ENABLED_BUT_OFFLINE


@dataclass
class NetworkSettings:
    """The wired interface AMT shares with the host (``AMT_EthernetPortSettings`` instance 0)."""

    mac_address: str
    ip_address: str
    subnet_mask: str
    default_gateway: str
    primary_dns: str
    dhcp_enabled: bool
    link_up: bool


@dataclass(frozen=True)
class Processor:
    device_id: str
    current_mhz: int
    max_mhz: int
    family: int = 198  # CIM "Intel(R) Core(TM) i7 processor"
    stepping: str = "13"


@dataclass(frozen=True)
class MemoryModule:
    bank_label: str
    capacity_bytes: int
    serial_number: str
    manufacturer: str = "830B"
    part_number: str = "AMTSIM-DDR4-3200"
    memory_type: int = 26  # DDR4
    form_factor: int = 8  # DIMM
    speed_mhz: int = 3200


@dataclass(frozen=True)
class Drive:
    device_id: str
    size_kb: int
    """``CIM_MediaAccessDevice.MaxMediaSize``: kilobytes of 1000."""


@dataclass
class InventoryBackend:
    """What the hardware-asset and network classes report."""

    platform_guid: str
    manufacturer: str
    model: str
    serial_number: str
    chassis_version: str
    bios_vendor: str
    bios_version: str
    bios_release_date: _dt.datetime
    network: NetworkSettings
    processors: list[Processor] = field(default_factory=list)
    memory: list[MemoryModule] = field(default_factory=list)
    cpu_model: str = ""
    board_manufacturer: str = ""
    board_model: str = ""
    board_serial: str = ""
    board_version: str = ""
    drives: list[Drive] = field(default_factory=list)

    @classmethod
    def from_config(cls, config: DeviceConfig) -> InventoryBackend:
        guid = uuid.UUID(config.guid)
        release = _dt.datetime.fromisoformat(config.bios_release_date)
        if release.tzinfo is None:
            release = release.replace(tzinfo=_dt.timezone.utc)
        network = NetworkSettings(
            mac_address=config.mac_address or _mac_from(guid),
            ip_address=config.ip_address or config.address,
            subnet_mask=config.subnet_mask,
            default_gateway=config.default_gateway,
            primary_dns=config.primary_dns,
            dhcp_enabled=config.dhcp_enabled,
            link_up=config.link_up,
        )
        processors = [Processor(f"CPU {index}", config.cpu_speed_mhz, config.cpu_max_speed_mhz)
                      for index in range(config.cpu_count)]
        memory = [
            MemoryModule(_bank_label(index), gib * GIB, f"{guid.hex[:6].upper()}{index:02X}")
            for index, gib in enumerate(config.memory_gib)
        ]
        return cls(
            platform_guid=guid.hex.upper(),
            manufacturer=config.manufacturer,
            model=config.model,
            serial_number=config.serial_number or "SIM" + guid.hex[:9].upper(),
            chassis_version="1.0",
            bios_vendor=config.bios_vendor,
            bios_version=config.bios_version,
            bios_release_date=release,
            network=network,
            processors=processors,
            memory=memory,
            cpu_model=config.cpu_model,
            board_manufacturer=config.board_manufacturer,
            board_model=config.board_model,
            board_serial="BRD" + guid.hex[-9:].upper(),
            board_version=config.board_version,
            drives=[Drive(f"MEDIA DEV {index}", gb * 1_000_000) for index, gb in enumerate(config.drives_gb)],
        )


def _mac_from(guid: uuid.UUID) -> str:
    """A locally administered unicast MAC (first octet 02) unique per GUID, in AMT's dashed form."""
    octets = [0x02, *guid.bytes[-5:]]
    return "-".join(f"{octet:02x}" for octet in octets)


def _bank_label(index: int) -> str:
    return f"CHANNEL {chr(ord('A') + index % 2)} SLOT {index // 2}"


@dataclass
class RedirectionBackend:
    """Redirection switches: IDE-R and SOL (``AMT_RedirectionService``), KVM (``CIM_KVMRedirectionSAP``)."""

    ider_enabled: bool = True
    sol_enabled: bool = True
    listener_enabled: bool = True
    kvm_supported: bool = True
    """The SKU has KVM at all; without it the KVM class has no instance."""
    kvm_enabled: bool = True
    kvm_session: bool = False
    rfb_password: str = ""
    """The VNC password a console set in ``IPS_KVMRedirectionSettingData`` (AMT never reads it back)."""

    @classmethod
    def from_config(cls, config: DeviceConfig) -> RedirectionBackend:
        return cls(ider_enabled=config.ider_enabled, sol_enabled=config.sol_enabled,
                   kvm_supported=config.kvm_supported, kvm_enabled=config.kvm_enabled)

    @property
    def enabled_state(self) -> int:
        """``AMT_RedirectionService.EnabledState`` (:class:`~amtkit.redirection.service.RedirectionState`)."""
        return int(RedirectionState.of(ider=self.ider_enabled, sol=self.sol_enabled))

    def set_enabled_state(self, value: int) -> None:
        """Apply an ``EnabledState`` / ``RequestStateChange`` value; ValueError for any other number."""
        try:
            state = RedirectionState(value)
        except ValueError:
            raise ValueError(f"{value} is not a redirection state (32768-32771)") from None
        self.ider_enabled, self.sol_enabled = state.ider, state.sol

    @property
    def kvm_state(self) -> EnabledState:
        """``CIM_KVMRedirectionSAP.EnabledState``: enabled in session, enabled but offline when idle, disabled."""
        if not self.kvm_enabled:
            return KVM_DISABLED
        return KVM_SESSION if self.kvm_session else KVM_ENABLED_OFFLINE


def inventory_of(device: SimulatedDevice) -> InventoryBackend:
    """The device's inventory backend, created from its configuration on first use."""
    backend = device.extensions.get(INVENTORY_KEY)
    if not isinstance(backend, InventoryBackend):
        backend = InventoryBackend.from_config(device.config)
        device.extensions[INVENTORY_KEY] = backend
    return backend


def redirection_of(device: SimulatedDevice) -> RedirectionBackend:
    """The device's redirection switches, created from its configuration on first use.

    A later redirection service may store a subclass under :data:`REDIRECTION_KEY` first; it is used as is.
    """
    backend = device.extensions.get(REDIRECTION_KEY)
    if not isinstance(backend, RedirectionBackend):
        backend = RedirectionBackend.from_config(device.config)
        device.extensions[REDIRECTION_KEY] = backend
    return backend
