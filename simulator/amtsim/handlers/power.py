"""CIM_AssociatedPowerManagementService, CIM_PowerManagementService, CIM_ServiceAvailableToElement."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from amtkit.codes import EnabledState, PowerAction, PowerState, RequestedState, ReturnValue
from amtkit.wsman import names, schema
from amtkit.wsman.names import Cls
from amtkit.wsman.values import CimInstance, EndpointReference, Scalar, Selector, Value

from .. import errors
from ..backends.power import ChangeInProgress
from .base import ClassHandler, StoredClass, register

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


OS_FULL_POWER = 2
OS_POWER_SAVING = 3


class IPSPowerManagementService(PowerManagementService):
    """Intel's power service: the CIM one plus the OS's own power-saving state (Modern Standby).

    ``OSPowerSavingState`` is reported only while the host is on, as AMT does (MPS issue 2278).
    """

    class_name = Cls.IPS_PowerManagementService
    methods = {"RequestPowerStateChange": "request_power_state_change",
               "RequestOSPowerSavingStateChange": "request_os_power_saving"}

    def instances(self, device: SimulatedDevice) -> list[CimInstance]:
        properties = dict(super().instances(device)[0].properties)
        properties["CreationClassName"] = self.class_name
        if device.power.reported_state == PowerState.ON:
            properties["OSPowerSavingState"] = OS_POWER_SAVING if device.power.os_power_saving else OS_FULL_POWER
        return [CimInstance(self.class_name, properties)]

    def request_os_power_saving(self, device: SimulatedDevice, selectors: Mapping[str, Selector],
                                params: dict[str, Value]) -> tuple[int, dict[str, Value]]:
        requested = str(params.get("OSPowerSavingState", ""))
        if requested not in (str(OS_FULL_POWER), str(OS_POWER_SAVING)):
            return int(ReturnValue.INVALID_PARAMETER), {}
        return device.power.request_os_power_saving(requested == str(OS_POWER_SAVING)), {}


class PowerManagementCapabilities(ClassHandler):
    """What the power service can do, as recorded: the states it supports and its capabilities."""

    class_name = Cls.CIM_PowerManagementCapabilities

    def instances(self, device: SimulatedDevice) -> list[CimInstance]:
        supported = [PowerAction.CYCLE, PowerAction.OFF, PowerAction.ON, PowerAction.RESET, PowerAction.NMI,
                     PowerAction.OFF_GRACEFUL, PowerAction.RESET_GRACEFUL]
        if device.power.sleep_supported:
            supported += [PowerAction.SLEEP, PowerAction.HIBERNATE]
        codes: list[Scalar] = [int(a) for a in supported]
        return [CimInstance(self.class_name, {
            "ElementName": "Power Management Capabilities",
            "InstanceID": "Intel(r) AMT:PowerManagementCapabilities 0", "OtherPowerChangeCapabilities": "",
            "PowerChangeCapabilities": [2, 3, 4, 7, 8], "PowerStatesSupported": codes,
            "RequestedPowerStatesSupported": list(codes),
        })]


ASSOCIATED_POWER = AssociatedPowerManagementService()
for _handler in (ASSOCIATED_POWER, PowerManagementService(), ServiceAvailableToElement(), IPSPowerManagementService(),
                 PowerManagementCapabilities()):
    register(_handler)
schema.register(Cls.IPS_PowerManagementService, {
    "EnabledState": "int", "RequestedState": "int", "OSPowerSavingState": "int", **schema.ENABLED_ELEMENT_DATES,
}, ("CreationClassName", "Name", "SystemCreationClassName", "SystemName"))
schema.register(Cls.CIM_PowerManagementCapabilities, {"RequestedPowerStatesSupported": "int[]"}, ("InstanceID",))
register(StoredClass(Cls.AMT_SystemPowerScheme))  # power schemes are a mobile feature: none on a desktop
