"""NetworkAdministrationService: host and domain name, TCP/IP parameters, network interfaces.

IPv4 addresses travel as unsigned integers, first octet most significant (an empty address is 0).
The one interface is the wired one, handle 0, as WS-Man numbers it.
"""

from __future__ import annotations

from ipaddress import IPv4Address
from typing import TYPE_CHECKING

from amtkit.codes import PTStatus
from amtkit.eoi.envelope import Fields, FieldValue
from amtkit.eoi.names import NETWORK_ADMINISTRATION

from ..backends.inventory import NetworkSettings, inventory_of
from .base import ReplyFields, ServiceHandler, StatusError, register, required

if TYPE_CHECKING:
    from ..device import SimulatedDevice

WIRED_HANDLE = 0
DHCP_DISABLED, DHCP_ENABLED = 1, 2
LINK_POLICY = 1
"""``LinkPolicy`` bits: 1 = the interface is used while the host is on (S0, AC)."""


def ipv4_number(text: str) -> int:
    """``10.0.0.5`` -> 167772165; empty or unreadable -> 0."""
    try:
        return int(IPv4Address(text)) if text else 0
    except ValueError:
        return 0


def _addresses(network: NetworkSettings) -> list[tuple[str, FieldValue]]:
    gateway = ipv4_number(network.default_gateway)
    return [("LocalAddress", ipv4_number(network.ip_address)), ("SubnetMask", ipv4_number(network.subnet_mask)),
            ("DefaultGatewayAddress", gateway),
            ("PrimaryDnsAddress", ipv4_number(network.primary_dns) or gateway), ("SecondaryDnsAddress", 0)]


class NetworkAdministration(ServiceHandler):
    service = NETWORK_ADMINISTRATION
    operations = {"GetHostName": "get_host_name", "GetDomainName": "get_domain_name",
                  "GetTcpIpParameters": "get_tcp_ip_parameters", "EnumerateInterfaces": "enumerate_interfaces",
                  "GetInterfaceSettings": "get_interface_settings", "GetPingResponse": "get_ping_response"}

    def get_host_name(self, device: SimulatedDevice, fields: Fields) -> ReplyFields:
        return [("HostName", device.general.hostname)]

    def get_domain_name(self, device: SimulatedDevice, fields: Fields) -> ReplyFields:
        return [("DomainName", device.general.domain)]

    def get_tcp_ip_parameters(self, device: SimulatedDevice, fields: Fields) -> ReplyFields:
        network = inventory_of(device).network
        if network.dhcp_enabled:
            return [("DhcpMode", DHCP_ENABLED)]
        static = _addresses(network) + [("DomainName", device.general.domain)]
        return [("DhcpMode", DHCP_DISABLED), ("StaticIPv4Parameters", static)]

    def enumerate_interfaces(self, device: SimulatedDevice, fields: Fields) -> ReplyFields:
        return [("InterfaceHandles", WIRED_HANDLE)]

    def get_interface_settings(self, device: SimulatedDevice, fields: Fields) -> ReplyFields:
        if required(fields, "InterfaceHandle") != WIRED_HANDLE:
            raise StatusError(PTStatus.INVALID_HANDLE, "no such interface")
        network = inventory_of(device).network
        descriptor: list[tuple[str, FieldValue]] = [
            ("HardwareAddressDescription", "Wired"), ("MACAddress", network.mac_address),
            ("InterfaceMode", "SHARED_MAC_ADDRESS"), ("LinkPolicy", LINK_POLICY),
            ("DhcpEnabled", network.dhcp_enabled), ("IPv4Parameters", _addresses(network)),
        ]
        return [("InterfaceDescriptor", descriptor)]

    def get_ping_response(self, device: SimulatedDevice, fields: Fields) -> ReplyFields:
        return [("enabled", device.general.ping_response_enabled)]


register(NetworkAdministration())
