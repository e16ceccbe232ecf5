"""GeneralInfoService: versions, provisioning, host name, network state."""

from __future__ import annotations

from typing import TYPE_CHECKING

from amtkit.codes import ProvisioningState
from amtkit.eoi.envelope import Fields, FieldValue
from amtkit.eoi.names import GENERAL_INFO

from ..backends.inventory import inventory_of
from .base import ReplyFields, ServiceHandler, register
from .security_administration import ENTERPRISE_MODE, core_version

if TYPE_CHECKING:
    from ..device import SimulatedDevice

_STATE_NAMES = {ProvisioningState.PRE: "ProvisioningStatePre", ProvisioningState.IN: "ProvisioningStateIn",
                ProvisioningState.POST: "ProvisioningStatePost"}


class GeneralInfo(ServiceHandler):
    service = GENERAL_INFO
    operations = {"GetCoreVersion": "get_core_version", "GetCodeVersions": "get_code_versions",
                  "GetProvisioningMode": "get_provisioning_mode", "GetProvisioningState": "get_provisioning_state",
                  "GetHostName": "get_host_name", "GetNetworkState": "get_network_state"}

    def get_core_version(self, device: SimulatedDevice, fields: Fields) -> ReplyFields:
        return [("Version", core_version(device))]

    def get_code_versions(self, device: SimulatedDevice, fields: Fields) -> ReplyFields:
        versions: ReplyFields = [("BiosVersion", inventory_of(device).bios_version)]
        for description, version in device.general.software_versions():
            pair: list[tuple[str, FieldValue]] = [("Description", description), ("Version", version)]
            versions.append(("Versions", pair))
        return versions

    def get_provisioning_mode(self, device: SimulatedDevice, fields: Fields) -> ReplyFields:
        return [("ProvisioningMode", ENTERPRISE_MODE)]

    def get_provisioning_state(self, device: SimulatedDevice, fields: Fields) -> ReplyFields:
        return [("ProvisioningState", _STATE_NAMES[device.general.provisioning_state])]

    def get_host_name(self, device: SimulatedDevice, fields: Fields) -> ReplyFields:
        return [("HostName", device.general.hostname)]

    def get_network_state(self, device: SimulatedDevice, fields: Fields) -> ReplyFields:
        return [("IsEnabled", device.general.network_interface_enabled)]


register(GeneralInfo())
