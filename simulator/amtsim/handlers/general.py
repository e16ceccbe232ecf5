"""AMT_GeneralSettings, CIM_SoftwareIdentity, AMT_SetupAndConfigurationService, CIM_ComputerSystem."""

from __future__ import annotations

from typing import TYPE_CHECKING

from amtkit.codes import EnabledState, PowerState, RequestedState
from amtkit.wsman import names
from amtkit.wsman.names import Cls
from amtkit.wsman.values import CimInstance, Value

from .. import errors
from .base import ClassHandler, register

if TYPE_CHECKING:
    from ..device import SimulatedDevice


class GeneralSettings(ClassHandler):
    class_name = Cls.AMT_GeneralSettings
    _WRITABLE = {"HostName", "DomainName", "PingResponseEnabled", "RmcpPingResponseEnabled", "SharedFQDN",
                 "DDNSUpdateEnabled", "IdleWakeTimeout", "PreferredAddressFamily", "PresenceNotificationInterval",
                 "PrivacyLevel", "WsmanOnlyMode", "DDNSTTL", "DDNSPeriodicUpdateInterval", "HostOSFQDN",
                 "DDNSUpdateByDHCPServerEnabled", "DHCPv6ConfigurationTimeout", "AMTNetworkEnabled"}

    def instances(self, device: SimulatedDevice) -> list[CimInstance]:
        g = device.general
        props: dict[str, Value] = {
            "AMTNetworkEnabled": 1, "DDNSPeriodicUpdateInterval": 1440, "DDNSTTL": 900,
            "DDNSUpdateByDHCPServerEnabled": True, "DDNSUpdateEnabled": False, "DHCPv6ConfigurationTimeout": 0,
            "DigestRealm": g.realm, "DomainName": g.domain, "ElementName": "Intel(r) AMT: General Settings",
            "HostName": g.hostname, "HostOSFQDN": f"{g.hostname}.{g.domain}" if g.domain else g.hostname,
            "IdleWakeTimeout": 65535, "InstanceID": names.GENERAL_SETTINGS_INSTANCE_ID,
            "NetworkInterfaceEnabled": g.network_interface_enabled, "PingResponseEnabled": g.ping_response_enabled,
            "PowerSource": 0, "PreferredAddressFamily": 0, "PresenceNotificationInterval": 0, "PrivacyLevel": 0,
            "RmcpPingResponseEnabled": g.rmcp_ping_response_enabled, "SharedFQDN": True, "WsmanOnlyMode": False,
        }
        props.update(g.extra_settings)  # type: ignore[arg-type]
        return [CimInstance(self.class_name, props)]

    def apply_put(self, device: SimulatedDevice, current: CimInstance, new: CimInstance) -> CimInstance:
        g = device.general
        for name, value in new.properties.items():
            if current.properties.get(name) == value:
                continue
            if name not in self._WRITABLE:
                raise errors.invalid_representation(f"{name} is read-only")
            if name == "HostName":
                g.hostname = str(value)
            elif name == "DomainName":
                g.domain = str(value)
            elif name == "PingResponseEnabled":
                g.ping_response_enabled = bool(value)
            elif name == "RmcpPingResponseEnabled":
                g.rmcp_ping_response_enabled = bool(value)
            else:
                g.extra_settings[name] = value
        return self.instances(device)[0]


class SoftwareIdentity(ClassHandler):
    class_name = Cls.CIM_SoftwareIdentity

    def instances(self, device: SimulatedDevice) -> list[CimInstance]:
        return [
            CimInstance(self.class_name, {"InstanceID": iid, "IsEntity": True, "VersionString": version})
            for iid, version in device.general.software_versions()
        ]


class SetupAndConfigurationService(ClassHandler):
    class_name = Cls.AMT_SetupAndConfigurationService

    def instances(self, device: SimulatedDevice) -> list[CimInstance]:
        g = device.general
        return [CimInstance(self.class_name, {
            "CreationClassName": self.class_name, "ElementName": names.SETUP_SERVICE_NAME,
            "EnabledState": int(EnabledState.NOT_APPLICABLE),
            "Name": names.SETUP_SERVICE_NAME, "PasswordModel": 1, "ProvisioningMode": int(g.control_mode),
            "ProvisioningServerOTP": "", "ProvisioningState": int(g.provisioning_state),
            "RequestedState": int(RequestedState.NOT_APPLICABLE),
            **names.AMT_SYSTEM_SELECTORS, "ZeroTouchConfigurationEnabled": True,
        })]


class ComputerSystem(ClassHandler):
    """Two instances, as on AMT: the managed host and the AMT subsystem itself."""

    class_name = Cls.CIM_ComputerSystem

    def instances(self, device: SimulatedDevice) -> list[CimInstance]:
        host_on = device.power.reported_state == PowerState.ON
        host_state = EnabledState.ENABLED if host_on else EnabledState.DISABLED
        return [
            CimInstance(self.class_name, {
                **names.MANAGED_SYSTEM_SELECTORS, "Dedicated": [32], "ElementName": "Managed System",
                "EnabledState": int(host_state), "NameFormat": "Other", "OperationalStatus": [0],
                "RequestedState": int(RequestedState.UNKNOWN),
            }),
            CimInstance(self.class_name, {
                **names.AMT_SUBSYSTEM_SELECTORS, "Dedicated": [14], "ElementName": "Intel(r) AMT Subsystem",
                "EnabledState": int(EnabledState.ENABLED), "NameFormat": "Other", "OperationalStatus": [0],
                "RequestedState": int(RequestedState.UNKNOWN),
            }),
        ]


for _handler in (GeneralSettings(), SoftwareIdentity(), SetupAndConfigurationService(), ComputerSystem()):
    register(_handler)
