"""Remote access (CIRA): how AMT reaches a management server from outside the network.

A new device has no management server, policy or MPS credential (their classes enumerate empty); it
reports its limits (``AMT_RemoteAccessCapabilities``), its remote access and user-initiated connection
services (``RequestStateChange`` of the latter switches which triggers may start a connection:
32768 none, 32769 BIOS, 32770 OS, 32771 both), and the home-network domains of environment detection
(writable: ``DetectionStrings``, the domains that mean "inside").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from amtkit.codes import PTStatus
from amtkit.wsman import schema
from amtkit.wsman.names import Cls
from amtkit.wsman.values import Selector, Value

from .base import StoredClass, known_absent, register
from .common import SERVICE_KEYS, MethodOutput, amt_service, int_param

if TYPE_CHECKING:
    from ..device import SimulatedDevice

UIC_NAME = "Intel(r) AMT User Initiated Connection Service"
UIC_STATES = (32768, 32769, 32770, 32771)
DETECTION = "Intel(r) AMT Environment Detection Settings"


def _remote_access(device: SimulatedDevice) -> list[dict[str, Value]]:
    properties = amt_service(Cls.AMT_RemoteAccessService, "Intel(r) AMT Remote Access Service",
                             IsRemoteTunnelConnected=False, RemoteTunnelKeepAliveTimeout=0xFFFFFFFF)
    del properties["EnabledState"], properties["RequestedState"]
    return [properties]


def _user_initiated(device: SimulatedDevice) -> list[dict[str, Value]]:
    properties = amt_service(Cls.AMT_UserInitiatedConnectionService, UIC_NAME, EnabledState=32771)
    del properties["RequestedState"]
    return [properties]


class UserInitiatedConnectionService(StoredClass):
    methods = {"RequestStateChange": "request_state_change"}

    def request_state_change(self, device: SimulatedDevice, selectors: Mapping[str, Selector],
                             params: dict[str, Value]) -> MethodOutput:
        requested = int_param(params, "RequestedState")
        if requested not in UIC_STATES:
            return int(PTStatus.INVALID_PARAMETER), {}
        self.stored(device)[0]["EnabledState"] = requested
        return int(PTStatus.SUCCESS), {}


def _capabilities(device: SimulatedDevice) -> list[dict[str, Value]]:
    return [{"ElementName": "Intel(r) AMT:Remote Access Capabilities",
             "InstanceID": "Intel(r) AMT:Remote Access Capabilities", "MaxMpsPerPolicy": 2, "MaxTotalMpServers": 6,
             "MaxTotalPolicies": 3, "MaxTotalProxyEntryPoints": 15}]


def _detection(device: SimulatedDevice) -> list[dict[str, Value]]:
    return [{"DetectionAlgorithm": 0, "DetectionStrings": [], "ElementName": DETECTION, "InstanceID": DETECTION}]


register(StoredClass(Cls.AMT_RemoteAccessService, _remote_access, keys=SERVICE_KEYS,
                     types=dict(schema.ENABLED_ELEMENT_DATES)))
register(UserInitiatedConnectionService(Cls.AMT_UserInitiatedConnectionService, _user_initiated, keys=SERVICE_KEYS,
                                        types={"EnabledState": "int", **schema.ENABLED_ELEMENT_DATES}))
register(StoredClass(Cls.AMT_RemoteAccessCapabilities, _capabilities, keys=("InstanceID",)))
register(StoredClass(Cls.AMT_EnvironmentDetectionSettingData, _detection, keys=("InstanceID",),
                     writable=("DetectionStrings", "DetectionAlgorithm"), optional_in_put=("DetectionStrings",),
                     types={"DetectionAlgorithm": "int", "DetectionStrings": "str[]"}))
known_absent("AMT_ManagementPresenceRemoteSAP", "AMT_RemoteAccessPolicyRule", "AMT_RemoteAccessPolicyAppliesToMPS",
             "AMT_MPSUsernamePassword", "AMT_RemoteAccessCredentialContext")
