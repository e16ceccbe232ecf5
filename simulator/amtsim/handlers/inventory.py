"""Inventory classes: hardware asset, network settings, redirection switches (read-only).

``CIM_Chassis``, ``CIM_ComputerSystemPackage`` (platform GUID), ``CIM_BIOSElement``, ``CIM_Processor``,
``CIM_PhysicalMemory``, ``AMT_EthernetPortSettings``, ``AMT_RedirectionService``, ``CIM_KVMRedirectionSAP``.
Values come from :mod:`amtsim.backends.inventory`; property names, fixed values and instance names
follow recorded AMT answers. A class with no instance (KVM on a SKU without it) enumerates empty and
answers Get with DestinationUnreachable, as AMT does (the generic rule of :class:`ClassHandler`).

The redirection service is served here only as far as inventory needs (Get/Enumerate). The
redirection feature extends it: subclass :class:`RedirectionService` (adding ``methods`` and
``apply_put``) and :func:`~amtsim.handlers.base.register` the subclass after this module is imported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from amtkit.codes import EnabledState, RequestedState
from amtkit.wsman import names
from amtkit.wsman.names import Cls
from amtkit.wsman.values import CimInstance, EndpointReference, Value

from ..backends.inventory import inventory_of, redirection_of
from .base import ClassHandler, register

if TYPE_CHECKING:
    from ..device import SimulatedDevice

__all__ = [
    "BIOSElement",
    "Chassis",
    "ComputerSystemPackage",
    "EthernetPortSettings",
    "KVMRedirectionSAP",
    "PhysicalMemory",
    "Processor",
    "RedirectionService",
]

MANAGED_SYSTEM = {"SystemCreationClassName": names.MANAGED_SYSTEM_SELECTORS["CreationClassName"],
                  "SystemName": names.MANAGED_SYSTEM_SELECTORS["Name"]}
CHASSIS_TAG = Cls.CIM_Chassis  # AMT tags its one chassis with the class name
CHASSIS_PACKAGE_DESKTOP = 3
ETHERNET_PORT_SETTINGS_ID = "Intel(r) AMT Ethernet Port Settings 0"
KVM_SAP_NAME = "KVM Redirection Service Access Point"
KVM_PROTOCOL_RFB = 4  # VNC's remote frame buffer protocol, the value AMT reports


class Chassis(ClassHandler):
    class_name = Cls.CIM_Chassis

    def instances(self, device: SimulatedDevice) -> list[CimInstance]:
        inventory = inventory_of(device)
        return [CimInstance(self.class_name, {
            "ChassisPackageType": CHASSIS_PACKAGE_DESKTOP, "CreationClassName": self.class_name,
            "ElementName": "Managed System Chassis", "Manufacturer": inventory.manufacturer,
            "Model": inventory.model, "OperationalStatus": [0], "PackageType": 3,
            "SerialNumber": inventory.serial_number, "Tag": CHASSIS_TAG, "Version": inventory.chassis_version,
        })]


class ComputerSystemPackage(ClassHandler):
    """The association of the chassis with the managed host; AMT puts the platform GUID on it."""

    class_name = Cls.CIM_ComputerSystemPackage

    def instances(self, device: SimulatedDevice) -> list[CimInstance]:
        chassis = EndpointReference(names.resource_uri(Cls.CIM_Chassis),
                                    {"CreationClassName": Cls.CIM_Chassis, "Tag": CHASSIS_TAG})
        system = EndpointReference(names.resource_uri(Cls.CIM_ComputerSystem), names.MANAGED_SYSTEM_SELECTORS)
        return [CimInstance(self.class_name, {
            "Antecedent": chassis, "Dependent": system, "PlatformGUID": inventory_of(device).platform_guid,
        })]


class BIOSElement(ClassHandler):
    class_name = Cls.CIM_BIOSElement

    def instances(self, device: SimulatedDevice) -> list[CimInstance]:
        inventory = inventory_of(device)
        return [CimInstance(self.class_name, {
            "ElementName": "Primary BIOS", "Manufacturer": inventory.bios_vendor, "Name": "Primary BIOS",
            "OperationalStatus": [0], "PrimaryBIOS": True, "ReleaseDate": inventory.bios_release_date,
            "SoftwareElementID": inventory.bios_version, "SoftwareElementState": 2, "TargetOperatingSystem": 66,
            "Version": inventory.bios_version,
        })]


class Processor(ClassHandler):
    class_name = Cls.CIM_Processor

    def instances(self, device: SimulatedDevice) -> list[CimInstance]:
        return [
            CimInstance(self.class_name, {
                "CPUStatus": 1, "CreationClassName": self.class_name, "CurrentClockSpeed": cpu.current_mhz,
                "DeviceID": cpu.device_id, "ElementName": "Managed System CPU",
                "EnabledState": int(EnabledState.ENABLED), "ExternalBusClockSpeed": 100, "Family": cpu.family,
                "HealthState": 0, "MaxClockSpeed": cpu.max_mhz, "OperationalStatus": [0],
                "OtherFamilyDescription": "", "RequestedState": int(RequestedState.NOT_APPLICABLE),
                "Role": "Central", "Stepping": cpu.stepping, **MANAGED_SYSTEM,
                "UpgradeMethod": 52,
            })
            for cpu in inventory_of(device).processors
        ]


class PhysicalMemory(ClassHandler):
    class_name = Cls.CIM_PhysicalMemory

    def instances(self, device: SimulatedDevice) -> list[CimInstance]:
        return [
            CimInstance(self.class_name, {
                "BankLabel": module.bank_label, "Capacity": module.capacity_bytes,
                "ConfiguredMemoryClockSpeed": module.speed_mhz, "CreationClassName": self.class_name,
                "ElementName": "Managed System Memory Chip", "FormFactor": module.form_factor,
                "IsSpeedInMhz": True, "Manufacturer": module.manufacturer, "MaxMemorySpeed": module.speed_mhz,
                "MemoryType": module.memory_type, "PartNumber": module.part_number,
                "SerialNumber": module.serial_number, "Speed": 0,
                "Tag": "9876543210" if index == 0 else f"9876543210 (#{index})",
            })
            for index, module in enumerate(inventory_of(device).memory)
        ]


class EthernetPortSettings(ClassHandler):
    class_name = Cls.AMT_EthernetPortSettings

    def instances(self, device: SimulatedDevice) -> list[CimInstance]:
        net = inventory_of(device).network
        properties: dict[str, Value] = {
            "DHCPEnabled": net.dhcp_enabled, "ElementName": "Intel(r) AMT Ethernet Port Settings",
            "IPAddress": net.ip_address, "InstanceID": ETHERNET_PORT_SETTINGS_ID, "IpSyncEnabled": True,
            "LinkIsUp": net.link_up, "LinkPolicy": [1, 14], "MACAddress": net.mac_address,
            "PhysicalConnectionType": 0, "SharedDynamicIP": net.dhcp_enabled, "SharedMAC": True,
            "SharedStaticIp": not net.dhcp_enabled, "SubnetMask": net.subnet_mask,
        }
        # AMT leaves out what it does not know rather than sending empty elements.
        if net.default_gateway:
            properties["DefaultGateway"] = net.default_gateway
        if net.primary_dns:
            properties["PrimaryDNS"] = net.primary_dns
        return [CimInstance(self.class_name, properties)]


class RedirectionService(ClassHandler):
    """``AMT_RedirectionService`` as read: which of IDE-R and SOL are enabled, and the listener switch."""

    class_name = Cls.AMT_RedirectionService

    def instances(self, device: SimulatedDevice) -> list[CimInstance]:
        state = redirection_of(device)
        return [CimInstance(self.class_name, {
            "CreationClassName": self.class_name, "ElementName": names.REDIRECTION_SERVICE_NAME,
            "EnabledState": state.enabled_state, "ListenerEnabled": state.listener_enabled,
            "Name": names.REDIRECTION_SERVICE_NAME, **names.AMT_SYSTEM_SELECTORS,
        })]


class KVMRedirectionSAP(ClassHandler):
    class_name = Cls.CIM_KVMRedirectionSAP

    def instances(self, device: SimulatedDevice) -> list[CimInstance]:
        state = redirection_of(device)
        if not state.kvm_supported:
            return []
        requested = RequestedState.ENABLED if state.kvm_enabled else RequestedState.DISABLED
        return [CimInstance(self.class_name, {
            "CreationClassName": self.class_name, "ElementName": KVM_SAP_NAME, "EnabledState": int(state.kvm_state),
            "KVMProtocol": KVM_PROTOCOL_RFB, "Name": KVM_SAP_NAME, "RequestedState": int(requested),
            **MANAGED_SYSTEM,
        })]


for _handler in (Chassis(), ComputerSystemPackage(), BIOSElement(), Processor(), PhysicalMemory(),
                 EthernetPortSettings(), RedirectionService(), KVMRedirectionSAP()):
    register(_handler)
