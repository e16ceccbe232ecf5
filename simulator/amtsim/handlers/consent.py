"""``IPS_OptInService``: user consent before remote sessions (Get, Put of ``OptInRequired``, and the
``StartOptIn``, ``SendOptInCode``, ``CancelOptIn`` methods). Rules: :mod:`amtsim.backends.consent`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from amtkit.codes import ControlMode
from amtkit.wsman import names, schema
from amtkit.wsman.names import Cls
from amtkit.wsman.values import CimInstance, Selector, Value

from .. import errors
from ..backends.consent import consent_of
from .base import ClassHandler, register

if TYPE_CHECKING:
    from ..device import SimulatedDevice

SERVICE_NAME = "Intel(r) AMT OptIn Service"
_OUTPUT = tuple[int, dict[str, Value]]


class OptInService(ClassHandler):
    class_name = Cls.IPS_OptInService
    methods = {"StartOptIn": "start", "SendOptInCode": "send", "CancelOptIn": "cancel"}

    def instances(self, device: SimulatedDevice) -> list[CimInstance]:
        consent = consent_of(device)
        return [CimInstance(self.class_name, {
            # In client control mode the policy is AMT's own (consent for everything), not the console's.
            "CanModifyOptInPolicy": int(device.general.control_mode == ControlMode.ADMIN),
            "CreationClassName": self.class_name, "ElementName": SERVICE_NAME, "Name": SERVICE_NAME,
            "OptInCodeTimeout": consent.code_timeout, "OptInDisplayTimeout": consent.display_timeout,
            "OptInRequired": consent.required, "OptInState": consent.state, **names.AMT_SYSTEM_SELECTORS,
        })]

    def apply_put(self, device: SimulatedDevice, current: CimInstance, new: CimInstance) -> CimInstance:
        consent = consent_of(device)
        for name, value in new.properties.items():
            if str(current.properties.get(name)) == str(value):
                continue
            if name == "OptInRequired" and current.properties["CanModifyOptInPolicy"] == 1:
                consent.required = int(str(value))
            elif name == "OptInDisplayTimeout":
                consent.display_timeout = int(str(value))
            else:
                raise errors.invalid_representation(f"{name} is read-only")
        return self.instances(device)[0]

    def start(self, device: SimulatedDevice, selectors: Mapping[str, Selector], params: dict[str, Value]) -> _OUTPUT:
        return consent_of(device).start(), {}

    def send(self, device: SimulatedDevice, selectors: Mapping[str, Selector], params: dict[str, Value]) -> _OUTPUT:
        return consent_of(device).send(str(params.get("OptInCode", ""))), {}

    def cancel(self, device: SimulatedDevice, selectors: Mapping[str, Selector], params: dict[str, Value]) -> _OUTPUT:
        return consent_of(device).cancel(), {}


schema.register(Cls.IPS_OptInService, {
    "CanModifyOptInPolicy": "int", "OptInCodeTimeout": "int", "OptInDisplayTimeout": "int", "OptInRequired": "int",
    "OptInState": "int", **schema.ENABLED_ELEMENT_DATES,
}, ("CreationClassName", "Name", "SystemCreationClassName", "SystemName"))
register(OptInService())
