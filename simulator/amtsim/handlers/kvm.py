"""KVM: the settings consoles write before a remote desktop session, and the switch that enables it.

``IPS_KVMRedirectionSettingData`` (Get, Put): the standard VNC port 5900, its RFB password (write-only:
AMT answers it empty), user consent for KVM, the session timeout. ``CIM_KVMRedirectionSAP``'s
``RequestStateChange`` (2 enable, 3 disable) flips the switch the inventory reports; the ``amt``
package's ``amtctrl vnc`` does both. ``CIM_RedirectionService`` is AMT's KVM redirection service
record, ``IPS_ScreenSettingData`` the host's screens. Without KVM on the SKU none of these exist.
State: :class:`~amtsim.backends.inventory.RedirectionBackend` (KVM switch, RFB password) and the
device's stored objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from amtkit.codes import EnabledState, RequestedState, ReturnValue
from amtkit.wsman import names, schema
from amtkit.wsman.names import Cls
from amtkit.wsman.values import CimInstance, Selector, Value

from ..backends.inventory import redirection_of
from .base import ClassHandler, StoredClass, register
from .inventory import KVMRedirectionSAP

if TYPE_CHECKING:
    from ..device import SimulatedDevice

KVM_SETTINGS_ID = "Intel(r) KVM Redirection Settings"
KVM_SERVICE_NAME = "Intel(r) AMT KVM Redirection Service"
REDIRECTION_SERVICE_TYPE_KVM = 3
SHARING_MODE_EXCLUSIVE = 3


def _kvm_settings(device: SimulatedDevice) -> list[dict[str, Value]]:
    if not redirection_of(device).kvm_supported:
        return []
    return [{
        "BackToBackFbMode": False, "DefaultScreen": 0, "ElementName": KVM_SETTINGS_ID, "EnabledByMEBx": True,
        "InstanceID": KVM_SETTINGS_ID, "Is5900PortEnabled": False, "OptInPolicy": True, "OptInPolicyTimeout": 300,
        "RFBPassword": "", "SessionTimeout": 3,
    }]


class KVMRedirectionSettingData(StoredClass):
    """The KVM settings; the RFB password goes to the redirection backend and reads back empty."""

    def after_put(self, device: SimulatedDevice, stored: dict[str, Value]) -> None:
        password = stored.get("RFBPassword")
        if password:
            redirection_of(device).rfb_password = str(password)
        stored["RFBPassword"] = ""


class KVMRedirectionSAPWithSwitch(KVMRedirectionSAP):
    """``CIM_KVMRedirectionSAP`` with ``RequestStateChange``: 2 enables KVM, 3 disables it."""

    methods = {"RequestStateChange": "request_state_change"}

    def request_state_change(self, device: SimulatedDevice, selectors: Mapping[str, Selector],
                             params: dict[str, Value]) -> tuple[int, dict[str, Value]]:
        state = redirection_of(device)
        if not state.kvm_supported:
            return int(ReturnValue.NOT_SUPPORTED), {}
        requested = str(params.get("RequestedState", ""))
        if requested not in (str(int(RequestedState.ENABLED)), str(int(RequestedState.DISABLED))):
            return int(ReturnValue.INVALID_PARAMETER), {}
        state.kvm_enabled = requested == str(int(RequestedState.ENABLED))
        return int(ReturnValue.COMPLETED), {}


class RedirectionServiceRecord(ClassHandler):
    """AMT's KVM redirection service as ``CIM_RedirectionService`` reports it (read-only)."""

    class_name = Cls.CIM_RedirectionService

    def instances(self, device: SimulatedDevice) -> list[CimInstance]:
        state = redirection_of(device)
        if not state.kvm_supported:
            return []
        return [CimInstance(self.class_name, {
            "CreationClassName": self.class_name, "ElementName": "Intel(r) ME KVM Redirection Service",
            "EnabledState": int(EnabledState.ENABLED if state.kvm_enabled else EnabledState.DISABLED),
            "MaxCurrentEnabledSAPs": 1, "Name": KVM_SERVICE_NAME,
            "RedirectionServiceType": REDIRECTION_SERVICE_TYPE_KVM,
            "RequestedState": int(RequestedState.NOT_APPLICABLE), "SharingMode": SHARING_MODE_EXCLUSIVE,
            **names.AMT_SYSTEM_SELECTORS,
        })]


def _screens(device: SimulatedDevice) -> list[dict[str, Value]]:
    if not redirection_of(device).kvm_supported:
        return []
    return [{
        "ElementName": "Intel(r) Screen Settings", "InstanceID": "Intel(r) Screen Settings",
        "IsActive": [True, False, False, False], "PrimaryIndex": 1, "SecondaryIndex": 2, "TertiaryIndex": 3,
        "QuadraryIndex": 4, "ResolutionX": [1920, 0, 0, 0], "ResolutionY": [1080, 0, 0, 0],
        "UpperLeftX": [0, -1, -1, -1], "UpperLeftY": [0, -1, -1, -1],
    }]


register(KVMRedirectionSettingData(
    Cls.IPS_KVMRedirectionSettingData, _kvm_settings, keys=("InstanceID",),
    writable=("Is5900PortEnabled", "RFBPassword", "OptInPolicy", "OptInPolicyTimeout", "SessionTimeout",
              "DefaultScreen", "BackToBackFbMode"),
    # Added after AMT 9; the ``amt`` package (written then) leaves them out of its Put.
    optional_in_put=("BackToBackFbMode", "OptInPolicyTimeout"),
    types={"BackToBackFbMode": "bool", "DefaultScreen": "int", "EnabledByMEBx": "bool", "Is5900PortEnabled": "bool",
           "OptInPolicy": "bool", "OptInPolicyTimeout": "int", "SessionTimeout": "int"}))
register(KVMRedirectionSAPWithSwitch())
schema.register(Cls.CIM_RedirectionService, {"EnabledState": "int", "RequestedState": "int",
                                             **schema.ENABLED_ELEMENT_DATES},
                ("CreationClassName", "Name", "SystemCreationClassName", "SystemName"))
register(RedirectionServiceRecord())
register(StoredClass(Cls.IPS_ScreenSettingData, _screens, keys=("InstanceID",)))
