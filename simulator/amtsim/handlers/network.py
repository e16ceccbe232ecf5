"""Network settings beyond the wired port: 802.1x, Wi-Fi, Kerberos, the HTTP proxy, the host's IP view.

A wired desktop (``wireless = false``, the default) has no Wi-Fi port: its Wi-Fi classes enumerate
empty; with ``wireless = true`` the Wi-Fi port and its configuration service exist, with no Wi-Fi
profile. 802.1x is present and off (``AMT_8021XProfile``, ``IPS_IEEE8021xSettings``, which is also
what enumerating ``CIM_IEEE8021xSettings`` answers), Kerberos is off, and no proxy is set. Values as in
the recorded answers; ``CIM_EthernetPort`` carries the wired port's MAC from the inventory.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from amtkit.codes import EnabledState, RequestedState
from amtkit.wsman import names, schema
from amtkit.wsman.names import Cls
from amtkit.wsman.values import CimInstance, Value

from ..backends.inventory import inventory_of
from .base import ClassHandler, StoredClass, known_absent, register
from .common import SERVICE_KEYS, amt_service

if TYPE_CHECKING:
    from ..device import SimulatedDevice

PROFILE_8021X = "Intel(r) AMT 802.1x Profile"
SETTINGS_8021X = "Intel(r) AMT: 8021X Settings"
KERBEROS = "Intel(r) AMT: Kerberos Settings"
WIFI_PORT = "WiFi Port 0"
ETHERNET_LINK_TECHNOLOGY = 2
ETHERNET_PORT_TYPE_1000BASE_T = 53


def _mac_hex(device: SimulatedDevice) -> str:
    return inventory_of(device).network.mac_address.replace("-", "").replace(":", "").lower()


def _profile_8021x(device: SimulatedDevice) -> list[dict[str, Value]]:
    return [{"ActiveInS0": True, "ElementName": PROFILE_8021X, "Enabled": False,
             "InstanceID": f"{PROFILE_8021X} 0", "PxeTimeout": 0}]


def _settings_8021x(device: SimulatedDevice) -> list[dict[str, Value]]:
    return [{"AvailableInS0": True, "ElementName": SETTINGS_8021X, "Enabled": int(EnabledState.DISABLED),
             "InstanceID": SETTINGS_8021X, "PxeTimeout": 0}]


class IEEE8021xSettings(ClassHandler):
    """Enumerating the CIM class answers with AMT's subclass object, as recorded."""

    class_name = Cls.CIM_IEEE8021xSettings

    def instances(self, device: SimulatedDevice) -> list[CimInstance]:
        return IPS_8021X.instances(device)


def _kerberos(device: SimulatedDevice) -> list[dict[str, Value]]:
    return [{"ElementName": KERBEROS, "InstanceID": KERBEROS.replace("Intel(r)", "Intel (r)"), "KrbEnabled": False,
             "SupportedEncryptionAlgorithms": [0, 1, 2]}]


def _proxy_service(device: SimulatedDevice) -> list[dict[str, Value]]:
    return [amt_service(Cls.IPS_HTTPProxyService, "Intel(r) AMT HTTP Proxy Service")]


def _host_ip(device: SimulatedDevice) -> list[dict[str, Value]]:
    return [{"DHCPEnabled": inventory_of(device).network.dhcp_enabled, "ElementName": "Intel(r) AMT: Host IP Settings",
             "InstanceID": "Intel(r) AMT: Host IP Settings"}]


def _ipv6(device: SimulatedDevice) -> list[dict[str, Value]]:
    unset = "::"
    return [{"CurrentDefaultRouter": unset, "CurrentPrimaryDNS": unset, "CurrentSecondaryDNS": unset,
             "DefaultRouter": unset, "ElementName": "Intel(r) IPS IPv6 Settings 0", "IPv6Address": unset,
             "InstanceID": "Intel(r) IPS IPv6 Settings 0", "InterfaceIDType": 0, "ManualInterfaceID": "0" * 16,
             "PrimaryDNS": unset, "SecondaryDNS": unset}]


def _lan_endpoint(device: SimulatedDevice) -> list[dict[str, Value]]:
    return [{"CreationClassName": Cls.IPS_LANEndpoint, "EnabledState": int(EnabledState.ENABLED), "LANType": 2,
             "MACAddress": _mac_hex(device), "Name": "Intel(r) AMT LAN Endpoint", "ProtocolType": 0,
             "RequestedState": int(RequestedState.NOT_APPLICABLE), **names.AMT_SYSTEM_SELECTORS}]


def _ethernet_port(device: SimulatedDevice) -> list[dict[str, Value]]:
    return [{"CreationClassName": Cls.CIM_EthernetPort, "Description": "Wired0", "DeviceID": names.ETHERNET_PORT_DEVICE_ID,
             "ElementName": "Intel(r) AMT Ethernet Port", "EnabledDefault": int(EnabledState.NOT_APPLICABLE),
             "EnabledState": int(EnabledState.ENABLED), "LinkTechnology": ETHERNET_LINK_TECHNOLOGY,
             "NetworkAddresses": [_mac_hex(device)], "OperationalStatus": [0],
             "PortType": ETHERNET_PORT_TYPE_1000BASE_T, "RequestedState": int(RequestedState.NOT_APPLICABLE),
             "Speed": 1_000_000_000, **names.AMT_SYSTEM_SELECTORS}]


def _wifi_service(device: SimulatedDevice) -> list[dict[str, Value]]:
    if not device.config.wireless:
        return []
    return [amt_service("AMT_WiFiPortConfigurationService", "Intel(r) AMT WiFi Port Configuration Service",
                        element_name="Intel(r) AMT WiFiPort Configuration Service", HealthState=5,
                        LastConnectedSsidUnderMeControl="", NoHostCsmeSoftwarePolicy=0,
                        localProfileSynchronizationEnabled=1)]


def _wifi_port(device: SimulatedDevice) -> list[dict[str, Value]]:
    if not device.config.wireless:
        return []
    return [{"CreationClassName": "CIM_WiFiPort", "DeviceID": WIFI_PORT, "ElementName": WIFI_PORT,
             "EnabledState": int(EnabledState.DISABLED), "HealthState": 5, "LinkTechnology": 11,
             "PermanentAddress": "000000000000", "PortType": 0, "RequestedState": int(RequestedState.DISABLED),
             **names.AMT_SYSTEM_SELECTORS}]


IPS_8021X = StoredClass(Cls.IPS_IEEE8021xSettings, _settings_8021x, keys=("InstanceID",),
                        types={"AvailableInS0": "bool", "Enabled": "int", "PxeTimeout": "int"})
register(StoredClass(Cls.AMT_8021XProfile, _profile_8021x, keys=("InstanceID",),
                     writable=("Enabled", "ActiveInS0", "PxeTimeout"),
                     types={"ActiveInS0": "bool", "Enabled": "bool", "PxeTimeout": "int"}))
register(IPS_8021X)
register(IEEE8021xSettings())
register(StoredClass(Cls.AMT_KerberosSettingData, _kerberos, keys=("InstanceID",),
                     types={"KrbEnabled": "bool", "SupportedEncryptionAlgorithms": "int[]"}))
register(StoredClass(Cls.IPS_HTTPProxyService, _proxy_service, keys=SERVICE_KEYS,
                     types={"EnabledState": "int", "RequestedState": "int", **schema.ENABLED_ELEMENT_DATES}))
register(StoredClass(Cls.IPS_HostIPSettings, _host_ip, keys=("InstanceID",), types={"DHCPEnabled": "bool"}))
register(StoredClass(Cls.IPS_IPv6PortSettings, _ipv6, keys=("InstanceID",)))
register(StoredClass(Cls.IPS_LANEndpoint, _lan_endpoint, keys=SERVICE_KEYS,
                     types={"EnabledState": "int", "RequestedState": "int", **schema.ENABLED_ELEMENT_DATES}))
register(StoredClass(Cls.CIM_EthernetPort, _ethernet_port,
                     types={"Speed": "int", "OperationalStatus": "int[]", "EnabledDefault": "int"}))
register(StoredClass("AMT_WiFiPortConfigurationService", _wifi_service, keys=SERVICE_KEYS,
                     types={"EnabledState": "int", "RequestedState": "int", **schema.ENABLED_ELEMENT_DATES}))
register(StoredClass("CIM_WiFiPort", _wifi_port,
                     keys=("CreationClassName", "DeviceID", "SystemCreationClassName", "SystemName"),
                     types={"EnabledState": "int", "RequestedState": "int", **schema.ENABLED_ELEMENT_DATES}))
known_absent("CIM_WiFiEndpoint", "CIM_WiFiEndpointSettings", "AMT_8021xCredentialContext",
             "IPS_8021xCredentialContext", "CIM_CredentialContext", "CIM_ConcreteDependency",
             "IPS_HTTPProxyAccessPoint")
