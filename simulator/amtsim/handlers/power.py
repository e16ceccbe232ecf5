"""CIM_AssociatedPowerManagementService, CIM_PowerManagementService, CIM_ServiceAvailableToElement."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from amtkit.codes import EnabledState, RequestedState, ReturnValue
from amtkit.wsman import names
from amtkit.wsman.names import Cls
from amtkit.wsman.values import CimInstance, EndpointReference, Selector, Value

from .. import errors
from ..backends.power import ChangeInProgress
from .base import ClassHandler, register

if TYPE_CHECKING:
    from ..device import SimulatedDevice

POWER_SERVICE = EndpointReference(names.resource_uri(Cls.CIM_PowerManagementService), names.POWER_SERVICE_SELECTORS)
MANAGED_SYSTEM = EndpointReference(names.resource_uri(Cls.CIM_ComputerSystem), names.MANAGED_SYSTEM_SELECTORS)
MANAGED_SYSTEM_NAME = names.MANAGED_SYSTEM_SELECTORS["Name"]


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
            **names.POWER_SERVICE_SELECTORS, "ElementName": names.POWER_SERVICE_SELECTORS["Name"],
            "EnabledState": int(EnabledState.NOT_APPLICABLE), "RequestedState": int(RequestedState.NOT_APPLICABLE),
        })]

    def request_power_state_change(self, device: SimulatedDevice, selectors: Mapping[str, Selector],
                                   params: dict[str, Value]) -> tuple[int, dict[str, Value]]:
        raw = params.get("PowerState")
        try:
            code = int(str(raw))
        except ValueError:
            return int(ReturnValue.INVALID_PARAMETER), {}
        element = params.get("ManagedElement")
        target = element.selectors.get("Name") if isinstance(element, EndpointReference) else None
        if target not in (None, MANAGED_SYSTEM_NAME):
            return int(ReturnValue.INVALID_PARAMETER), {}
        try:
            return device.power.request(code), {}
        except ChangeInProgress as running:
            raise errors.Deferred(running.seconds_left) from None


class ServiceAvailableToElement(ClassHandler):
    """The association of services with the elements they serve. AMT's only one is power, and it
    answers with the subclass, ``CIM_AssociatedPowerManagementService``, carrying ``PowerState``
    and ``AvailableRequestedPowerStates``: that is where MeshCentral and Intel's consoles read the
    power state."""

    class_name = Cls.CIM_ServiceAvailableToElement

    def instances(self, device: SimulatedDevice) -> list[CimInstance]:
        return ASSOCIATED_POWER.instances(device)


ASSOCIATED_POWER = AssociatedPowerManagementService()
for _handler in (ASSOCIATED_POWER, PowerManagementService(), ServiceAvailableToElement()):
    register(_handler)
