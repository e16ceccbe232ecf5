"""SecurityAdministrationService: core version, provisioning mode, digest realm, admin account, interfaces."""

from __future__ import annotations

from typing import TYPE_CHECKING

from amtkit.eoi.envelope import Fields
from amtkit.eoi.names import SECURITY_ADMINISTRATION

from ..backends.inventory import redirection_of
from .base import ReplyFields, ServiceHandler, register

if TYPE_CHECKING:
    from ..device import SimulatedDevice

ENTERPRISE_MODE = 1
"""``ProvisioningMode`` 1 (enterprise); 2 is small business. The simulator provisions in enterprise mode."""


def core_version(device: SimulatedDevice) -> str:
    """``major.minor.hotfix``: the firmware version as GetCoreVersion reports it."""
    return ".".join(device.config.amt_version.split(".")[:3])


class SecurityAdministration(ServiceHandler):
    service = SECURITY_ADMINISTRATION
    operations = {"GetCoreVersion": "get_core_version", "GetProvisioningMode": "get_provisioning_mode",
                  "GetDigestRealm": "get_digest_realm", "GetAdminAclEntry": "get_admin_acl_entry",
                  "GetEnabledInterfaces": "get_enabled_interfaces"}

    def get_core_version(self, device: SimulatedDevice, fields: Fields) -> ReplyFields:
        return [("Version", core_version(device))]

    def get_provisioning_mode(self, device: SimulatedDevice, fields: Fields) -> ReplyFields:
        return [("ProvisioningMode", ENTERPRISE_MODE)]

    def get_digest_realm(self, device: SimulatedDevice, fields: Fields) -> ReplyFields:
        return [("DigestRealm", device.accounts.realm)]

    def get_admin_acl_entry(self, device: SimulatedDevice, fields: Fields) -> ReplyFields:
        return [("Username", device.config.username)]

    def get_enabled_interfaces(self, device: SimulatedDevice, fields: Fields) -> ReplyFields:
        switches = redirection_of(device)
        enabled = ["WebUI"] + (["SerialOverLAN"] if switches.sol_enabled else []) \
            + (["IdeRedirection"] if switches.ider_enabled else [])
        return [("EnabledInterfaces", name) for name in enabled]


register(SecurityAdministration())
