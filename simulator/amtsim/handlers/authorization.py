"""``AMT_AuthorizationService``: the admin account and user ACL entries, tied to the device's real
digest accounts (:mod:`amtsim.backends.authorization`). ``CIM_Account`` and its management service
are classes AMT knows but does not populate for these accounts (consoles use the methods here)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from amtkit.codes import PTStatus
from amtkit.wsman import schema
from amtkit.wsman.names import Cls
from amtkit.wsman.values import CimInstance, Scalar, Selector, Value

from ..backends.authorization import authorization_of
from .base import ClassHandler, known_absent, register
from .common import SERVICE_KEYS, MethodOutput, amt_service, int_list_param, int_param, text_param

if TYPE_CHECKING:
    from ..device import SimulatedDevice

SERVICE_NAME = "Intel(r) AMT Authorization Service"
_Params = dict[str, Value]
_Selectors = Mapping[str, Selector]


class AuthorizationService(ClassHandler):
    class_name = Cls.AMT_AuthorizationService
    methods = {
        "GetAdminAclEntry": "get_admin", "SetAdminAclEntryEx": "set_admin",
        "GetAdminAclEntryStatus": "admin_status", "GetAdminNetAclEntryStatus": "admin_status",
        "EnumerateUserAclEntries": "enumerate_users", "GetUserAclEntryEx": "get_user",
        "AddUserAclEntryEx": "add_user", "RemoveUserAclEntry": "remove_user",
        "GetAclEnabledState": "get_enabled", "SetAclEnabledState": "set_enabled",
    }

    def instances(self, device: SimulatedDevice) -> list[CimInstance]:
        return [CimInstance(self.class_name, amt_service(self.class_name, SERVICE_NAME, AllowHttpQopAuthOnly=1))]

    def get_admin(self, device: SimulatedDevice, selectors: _Selectors, params: _Params) -> MethodOutput:
        return int(PTStatus.SUCCESS), {"Username": authorization_of(device).admin}

    def set_admin(self, device: SimulatedDevice, selectors: _Selectors, params: _Params) -> MethodOutput:
        status = authorization_of(device).set_admin(device, text_param(params, "Username"),
                                                    text_param(params, "DigestPassword"))
        return status, {}

    def admin_status(self, device: SimulatedDevice, selectors: _Selectors, params: _Params) -> MethodOutput:
        return int(PTStatus.SUCCESS), {"IsDefault": False}

    def enumerate_users(self, device: SimulatedDevice, selectors: _Selectors, params: _Params) -> MethodOutput:
        handles = sorted(authorization_of(device).users)
        start = max(1, int_param(params, "StartIndex") or 1)
        page: list[Scalar] = list(handles[start - 1:start - 1 + 50])
        return int(PTStatus.SUCCESS), {"TotalCount": len(handles), "HandlesCount": len(page), "Handles": page}

    def get_user(self, device: SimulatedDevice, selectors: _Selectors, params: _Params) -> MethodOutput:
        entry = authorization_of(device).users.get(int_param(params, "Handle") or -1)
        if entry is None:
            return int(PTStatus.INVALID_INDEX), {}
        realms: list[Scalar] = list(entry.realms)
        return int(PTStatus.SUCCESS), {"DigestUsername": entry.username, "AccessPermission": entry.access_permission,
                                       "Realms": realms}

    def add_user(self, device: SimulatedDevice, selectors: _Selectors, params: _Params) -> MethodOutput:
        realms = int_list_param(params, "Realms")
        permission = int_param(params, "AccessPermission")
        if realms is None or permission not in (0, 1, 2):
            return int(PTStatus.INVALID_PARAMETER), {}
        status, handle = authorization_of(device).add_user(
            device, text_param(params, "DigestUsername"), text_param(params, "DigestPassword"), realms, permission)
        return status, ({"Handle": handle} if handle is not None else {})

    def remove_user(self, device: SimulatedDevice, selectors: _Selectors, params: _Params) -> MethodOutput:
        return authorization_of(device).remove_user(device, int_param(params, "Handle") or -1), {}

    def get_enabled(self, device: SimulatedDevice, selectors: _Selectors, params: _Params) -> MethodOutput:
        return int(PTStatus.SUCCESS), {"Enabled": authorization_of(device).acl_enabled}

    def set_enabled(self, device: SimulatedDevice, selectors: _Selectors, params: _Params) -> MethodOutput:
        authorization_of(device).acl_enabled = text_param(params, "Enabled").lower() == "true"
        return int(PTStatus.SUCCESS), {}


schema.register(Cls.AMT_AuthorizationService, {"AllowHttpQopAuthOnly": "int", "EnabledState": "int",
                                               "RequestedState": "int", **schema.ENABLED_ELEMENT_DATES}, SERVICE_KEYS)
register(AuthorizationService())
known_absent("CIM_Account", "CIM_AccountManagementService")
