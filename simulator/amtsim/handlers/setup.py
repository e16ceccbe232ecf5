"""Setup, provisioning records and AMT's remaining services, as a provisioned device reports them.

``IPS_HostBasedSetupService`` (the control mode, read by MeshCentral before it activates anything),
the provisioning record log, the secure I/O (Intel Sure Screen) service, the asset table service and
the web UI service are read-only here. Agent presence (watchdogs), the heuristic packet filter
statistics, 802.1x endpoint access control and audit policy classes are known but empty: nothing on
the simulated host registers an agent, and those features are off.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from amtkit.codes import ControlMode, EnabledState
from amtkit.wsman import names, schema
from amtkit.wsman.names import Cls
from amtkit.wsman.values import CimInstance, Value

from .base import ClassHandler, StoredClass, known_absent, register
from .common import SERVICE_KEYS, amt_service

if TYPE_CHECKING:
    from ..device import SimulatedDevice

HBS_NAME = "Intel(r) AMT Host Based Setup Service"
# IPS_HostBasedSetupService.CurrentControlMode / AllowedControlModes: 1 client, 2 admin.
HBS_CLIENT, HBS_ADMIN = 1, 2


class HostBasedSetupService(ClassHandler):
    class_name = Cls.IPS_HostBasedSetupService

    def instances(self, device: SimulatedDevice) -> list[CimInstance]:
        mode = {ControlMode.ADMIN: HBS_ADMIN, ControlMode.CLIENT: HBS_CLIENT}.get(device.general.control_mode, 0)
        properties = amt_service(self.class_name, HBS_NAME, AllowedControlModes=[HBS_ADMIN, HBS_CLIENT],
                                 CertChainStatus=0, CurrentControlMode=mode)
        del properties["EnabledState"], properties["RequestedState"]
        return [CimInstance(self.class_name, properties)]


def _record_log(device: SimulatedDevice) -> list[dict[str, Value]]:
    return [{"CurrentNumberOfRecords": 1, "ElementName": "Intel(r) AMT Provisioning Record Log",
             "EnabledState": int(EnabledState.ENABLED), "HealthState": 0, "InstanceID": "Intel(r) AMT: RecordLog 1",
             "LogState": 4, "MaxNumberOfRecords": 1, "Name": "Intel(r) AMT Provisioning Record Log",
             "OverwritePolicy": 2, "RequestedState": 12}]


def _sec_io(device: SimulatedDevice) -> list[dict[str, Value]]:
    return [{"CreationClassName": Cls.IPS_SecIOService, "DefaultScreen": 1, "EnabledState": int(EnabledState.ENABLED),
             "Name": "SecIO", "RequestedLanguage": 2, "Started": True, "Status": "OK",
             **names.HOST_SYSTEM_SELECTORS, "language": 1, "zoom": 65535}]


def _asset_table(device: SimulatedDevice) -> list[dict[str, Value]]:
    properties = amt_service(Cls.AMT_AssetTableService, "Intel(r) AMT Asset Table Service",
                             TableTypes=["SMbios:130", "SMbios:131"])
    del properties["EnabledState"], properties["RequestedState"]
    return [properties]


def _web_ui(device: SimulatedDevice) -> list[dict[str, Value]]:
    return [amt_service(Cls.AMT_WebUIService, "Intel(r) AMT Web Browser UI Service",
                        EnabledState=int(EnabledState.ENABLED))]


_SERVICE_TYPES = {"EnabledState": "int", "RequestedState": "int", **schema.ENABLED_ELEMENT_DATES}
schema.register(Cls.IPS_HostBasedSetupService, {"AllowedControlModes": "int[]", "CertChainStatus": "int",
                                                "CurrentControlMode": "int", **schema.ENABLED_ELEMENT_DATES},
                SERVICE_KEYS)
register(HostBasedSetupService())
register(StoredClass(Cls.IPS_ProvisioningRecordLog, _record_log, keys=("InstanceID",), types=_SERVICE_TYPES))
register(StoredClass(Cls.IPS_SecIOService, _sec_io, keys=SERVICE_KEYS, types=_SERVICE_TYPES))
register(StoredClass(Cls.AMT_AssetTableService, _asset_table, keys=SERVICE_KEYS, types=_SERVICE_TYPES))
register(StoredClass(Cls.AMT_WebUIService, _web_ui, keys=SERVICE_KEYS, types=_SERVICE_TYPES))
known_absent("AMT_AgentPresenceWatchdog", "AMT_AgentPresenceWatchdogAction", "AMT_AgentPresenceWatchdogVA",
             "AMT_HeuristicPacketFilterStatistics", "AMT_EndpointAccessControlService", "IPS_ScreenConfigurationService")
