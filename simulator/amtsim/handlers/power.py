"""CIM_AssociatedPowerManagementService, CIM_PowerManagementService, CIM_ServiceAvailableToElement."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from amtkit.codes import ReturnValue
from amtkit.wsman import names
from amtkit.wsman.names import Cls
from amtkit.wsman.values import CimInstance, EndpointReference, Selector, Value

from .base import ClassHandler, register

if TYPE_CHECKING:
    from ..device import SimulatedDevice

POWER_SERVICE = EndpointReference(names.resource_uri(Cls.CIM_PowerManagementService), names.POWER_SERVICE_SELECTORS)
MANAGED_SYSTEM = EndpointReference(names.resource_uri(Cls.CIM_ComputerSystem), names.MANAGED_SYSTEM_SELECTORS)


class AssociatedPowerManagementService(ClassHandler):
    class_name = Cls.CIM_AssociatedPowerManagementService

    def instances(self, device: SimulatedDevice) -> list[CimInstance]:
        power = device.power
        return [CimInstance(self.class_name, {
            "AvailableRequestedPowerStates": [int(a) for a in power.available_actions()],
            "PowerState": int(power.reported_state),
            "ServiceProvided": POWER_SERVICE,
            "UserOfService": MANAGED_SYSTEM,
        })]


class PowerManagementService(ClassHandler):
    class_name = Cls.CIM_PowerManagementService
    methods = {"RequestPowerStateChange": "request_power_state_change"}

    def instances(self, device: SimulatedDevice) -> list[CimInstance]:
        return [CimInstance(self.class_name, {
            **names.POWER_SERVICE_SELECTORS, "ElementName": "Intel(r) AMT Power Management Service",
            "EnabledState": 5, "RequestedState": 12,
        })]

    def request_power_state_change(self, device: SimulatedDevice, selectors: Mapping[str, Selector],
                                   params: dict[str, Value]) -> tuple[int, dict[str, Value]]:
        raw = params.get("PowerState")
        try:
            code = int(str(raw))
        except ValueError:
            return int(ReturnValue.INVALID_PARAMETER), {}
        element = params.get("ManagedElement")
        if isinstance(element, EndpointReference) and element.selectors.get("Name") not in (None, "ManagedSystem"):
            return int(ReturnValue.INVALID_PARAMETER), {}
        return device.power.request(code), {}


class ServiceAvailableToElement(ClassHandler):
    class_name = Cls.CIM_ServiceAvailableToElement

    def instances(self, device: SimulatedDevice) -> list[CimInstance]:
        return [CimInstance(self.class_name, {"ServiceProvided": POWER_SERVICE, "UserOfService": MANAGED_SYSTEM})]


for _handler in (AssociatedPowerManagementService(), PowerManagementService(), ServiceAvailableToElement()):
    register(_handler)
