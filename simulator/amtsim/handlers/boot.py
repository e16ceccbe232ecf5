"""AMT_BootSettingData, AMT_BootCapabilities, CIM_BootConfigSetting, CIM_BootSourceSetting, CIM_BootService.

State and rules are :mod:`amtsim.backends.boot`; this module only maps them to the classes, with
instance names and fixed values from recorded AMT answers.  ``CIM_BootConfigSetting`` reports no
boot source: as on AMT, the one forced with ``ChangeBootOrder`` cannot be read back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from amtkit.boot import BootSource
from amtkit.codes import EnabledState, RequestedState, ReturnValue
from amtkit.wsman import names
from amtkit.wsman.names import Cls
from amtkit.wsman.values import CimInstance, EndpointReference, Selector, Value

from .. import errors
from ..backends.boot import boot_backend_of
from .base import ClassHandler, register

if TYPE_CHECKING:
    from ..device import SimulatedDevice

_STRUCTURED_BOOT_STRINGS = {BootSource.HARD_DRIVE: "CIM:Hard-Disk:1", BootSource.PXE: "CIM:Network:1",
                            BootSource.CD_DVD: "CIM:CD/DVD:1"}
_FAIL_THROUGH_NOT_SUPPORTED = 2


def _int_param(params: dict[str, Value], name: str) -> int | None:
    try:
        return int(str(params.get(name)))
    except ValueError:
        return None


class BootSettingData(ClassHandler):
    class_name = Cls.AMT_BootSettingData

    def instances(self, device: SimulatedDevice) -> list[CimInstance]:
        return [CimInstance(self.class_name, dict(sorted(boot_backend_of(device).settings.items())))]

    def put(self, device: SimulatedDevice, selectors: Mapping[str, Selector], new: CimInstance) -> CimInstance:
        # Not the generic rule: read-only properties (BIOSLastStatus, OptionsCleared...) may be left out.
        self.get(device, selectors)
        try:
            boot_backend_of(device).put_settings(dict(new.properties))
        except ValueError as error:
            raise errors.invalid_representation(str(error)) from None
        return self.instances(device)[0]


class BootCapabilities(ClassHandler):
    class_name = Cls.AMT_BootCapabilities

    def instances(self, device: SimulatedDevice) -> list[CimInstance]:
        return [CimInstance(self.class_name, dict(sorted(boot_backend_of(device).capabilities.items())))]


class BootConfigSetting(ClassHandler):
    class_name = Cls.CIM_BootConfigSetting
    methods = {"ChangeBootOrder": "change_boot_order"}

    def instances(self, device: SimulatedDevice) -> list[CimInstance]:
        return [CimInstance(self.class_name, {"ElementName": "Intel(r) AMT: Boot Configuration",
                                              "InstanceID": names.BOOT_CONFIG_INSTANCE_ID})]

    def change_boot_order(self, device: SimulatedDevice, selectors: Mapping[str, Selector],
                          params: dict[str, Value]) -> tuple[int, dict[str, Value]]:
        source = params.get("Source")
        if source is None:
            return boot_backend_of(device).change_boot_order(None), {}
        if not isinstance(source, EndpointReference) or source.class_name != Cls.CIM_BootSourceSetting:
            return int(ReturnValue.INVALID_PARAMETER), {}  # one reference, to a boot source
        return boot_backend_of(device).change_boot_order(source.selectors.get("InstanceID")), {}


class BootSourceSetting(ClassHandler):
    class_name = Cls.CIM_BootSourceSetting

    def instances(self, device: SimulatedDevice) -> list[CimInstance]:
        return [
            CimInstance(self.class_name, {
                "ElementName": "Intel(r) AMT: Boot Source", "FailThroughSupported": _FAIL_THROUGH_NOT_SUPPORTED,
                "InstanceID": source.value, "StructuredBootString": _STRUCTURED_BOOT_STRINGS[source],
            })
            for source in BootSource
        ]


class BootService(ClassHandler):
    class_name = Cls.CIM_BootService
    methods = {"SetBootConfigRole": "set_boot_config_role"}

    def instances(self, device: SimulatedDevice) -> list[CimInstance]:
        return [CimInstance(self.class_name, {
            "CreationClassName": self.class_name, "ElementName": names.BOOT_SERVICE_NAME,
            "EnabledState": int(EnabledState.ENABLED), "Name": names.BOOT_SERVICE_NAME, "OperationalStatus": [0],
            "RequestedState": int(RequestedState.NOT_APPLICABLE),
            **names.AMT_SYSTEM_SELECTORS,
        })]

    def set_boot_config_role(self, device: SimulatedDevice, selectors: Mapping[str, Selector],
                             params: dict[str, Value]) -> tuple[int, dict[str, Value]]:
        setting = params.get("BootConfigSetting")
        role = _int_param(params, "Role")
        if (not isinstance(setting, EndpointReference) or setting.class_name != Cls.CIM_BootConfigSetting
                or setting.selectors.get("InstanceID") != names.BOOT_CONFIG_INSTANCE_ID or role is None):
            return int(ReturnValue.INVALID_PARAMETER), {}
        return boot_backend_of(device).set_role(role), {}


for _handler in (BootSettingData(), BootCapabilities(), BootConfigSetting(), BootSourceSetting(), BootService()):
    register(_handler)
