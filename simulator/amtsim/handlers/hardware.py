"""Hardware asset classes beyond the chassis: baseboard, processor chip, drives, packaging (read-only).

What MeshCentral's hardware inventory and napalm-amt read: ``CIM_Card`` (the baseboard),
``CIM_Chip`` (the processor's model string, tagged like its ``CIM_Processor``), ``CIM_MediaAccessDevice``
(drives, ``MaxMediaSize`` in kB), and the parent classes AMT answers with subclass objects, as in the
recorded answers: ``CIM_PhysicalPackage`` gives the ``CIM_Card``, ``CIM_SystemPackaging`` the
``CIM_ComputerSystemPackage``. Sensors, fans, power supplies, batteries and watchdogs are classes AMT
knows that a desktop's AMT reports nothing for: they enumerate empty. Values come from
:mod:`amtsim.backends.inventory`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from amtkit.codes import EnabledState, RequestedState
from amtkit.wsman.names import Cls
from amtkit.wsman.values import CimInstance

from ..backends.inventory import inventory_of
from .base import ClassHandler, known_absent, register
from .inventory import MANAGED_SYSTEM, ComputerSystemPackage

if TYPE_CHECKING:
    from ..device import SimulatedDevice

CARD_TAG = Cls.CIM_Card  # AMT tags its one baseboard with the class name
PACKAGE_TYPE_MOTHERBOARD = 9
MEDIA_CAPABILITY_RANDOM_ACCESS = 4
MEDIA_SECURITY_NONE = 2
OPERATIONAL_STATUS_UNKNOWN = 0


class Card(ClassHandler):
    class_name = Cls.CIM_Card

    def instances(self, device: SimulatedDevice) -> list[CimInstance]:
        inventory = inventory_of(device)
        return [CimInstance(self.class_name, {
            "CanBeFRUed": True, "CreationClassName": self.class_name, "ElementName": "Managed System Base Board",
            "Manufacturer": inventory.board_manufacturer, "Model": inventory.board_model,
            "OperationalStatus": [OPERATIONAL_STATUS_UNKNOWN], "PackageType": PACKAGE_TYPE_MOTHERBOARD,
            "SerialNumber": inventory.board_serial, "Tag": CARD_TAG, "Version": inventory.board_version,
        })]


class Chip(ClassHandler):
    """One chip per processor, tagged with the processor's ``DeviceID``: its version is the CPU model."""

    class_name = Cls.CIM_Chip

    def instances(self, device: SimulatedDevice) -> list[CimInstance]:
        inventory = inventory_of(device)
        return [
            CimInstance(self.class_name, {
                "CanBeFRUed": True, "CreationClassName": self.class_name,
                "ElementName": "Managed System Processor Chip", "Manufacturer": "Intel(R) Corporation",
                "OperationalStatus": [OPERATIONAL_STATUS_UNKNOWN], "Tag": cpu.device_id,
                "Version": inventory.cpu_model,
            })
            for cpu in inventory.processors
        ]


class MediaAccessDevice(ClassHandler):
    class_name = Cls.CIM_MediaAccessDevice

    def instances(self, device: SimulatedDevice) -> list[CimInstance]:
        return [
            CimInstance(self.class_name, {
                "Capabilities": [MEDIA_CAPABILITY_RANDOM_ACCESS], "CreationClassName": self.class_name,
                "DeviceID": drive.device_id, "ElementName": "Managed System Media Access Device",
                "EnabledDefault": int(EnabledState.ENABLED), "EnabledState": int(EnabledState.UNKNOWN),
                "MaxMediaSize": drive.size_kb, "OperationalStatus": [OPERATIONAL_STATUS_UNKNOWN],
                "RequestedState": int(RequestedState.NOT_APPLICABLE), "Security": MEDIA_SECURITY_NONE,
                **MANAGED_SYSTEM,
            })
            for drive in inventory_of(device).drives
        ]


class PhysicalPackage(ClassHandler):
    """Answered with the baseboard, as recorded (not the chassis, although it is a package too)."""

    class_name = Cls.CIM_PhysicalPackage

    def instances(self, device: SimulatedDevice) -> list[CimInstance]:
        return CARD.instances(device)


class SystemPackaging(ClassHandler):
    """Answered with the ``CIM_ComputerSystemPackage`` association carrying the platform GUID."""

    class_name = Cls.CIM_SystemPackaging

    def instances(self, device: SimulatedDevice) -> list[CimInstance]:
        return PACKAGE.instances(device)


CARD = Card()
PACKAGE = ComputerSystemPackage()
for _handler in (CARD, Chip(), MediaAccessDevice(), PhysicalPackage(), SystemPackaging()):
    register(_handler)

known_absent("CIM_Fan", "CIM_Sensor", "CIM_PowerSupply", "CIM_Battery", "CIM_Watchdog", "CIM_PhysicalFrame",
             "CIM_StatisticalData")
