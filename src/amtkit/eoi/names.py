"""The one vocabulary of AMT's legacy SOAP generation ("EOI"): services, paths, namespaces, operations.

Before WS-Management (and beside it from AMT 3.2 to 8.x) AMT served one SOAP 1.1 document/literal
service per feature at ``http(s)://host:16992|16993/<Name>Service``. The client (zeep over the
bundled WSDLs in ``amtkit/eoi/wsdl/``) and the simulator (``amtsim.eoi``) both take their names
from here. Sources: Intel AMT SDK WSDL facts as summarised in amtkit's EOI reference notes
(paths, namespaces, the status element of each service).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from ..wsman import names as wsman_names

__all__ = [
    "CIRCUIT_BREAKER",
    "CONTENT_TYPE",
    "GENERAL_INFO",
    "NETWORK_ADMINISTRATION",
    "REMOTE_CONTROL",
    "SECURITY_ADMINISTRATION",
    "SERVICES",
    "SOAP11_ENV",
    "Service",
    "parse_version",
    "serves_eoi",
    "serves_wsman",
    "service_at",
]

SOAP11_ENV: Final = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP11_ENCODING: Final = "http://schemas.xmlsoap.org/soap/encoding/"
XSI: Final = wsman_names.XSI
#: What SOAP 1.1 clients of AMT send (amttool, amtc) and what the firmware answers with.
CONTENT_TYPE: Final = "text/xml; charset=utf-8"
REPLY_CONTENT_TYPE: Final = "text/xml; charset=UTF-8"

_PLATFORM: Final = "http://schemas.intel.com/platform/client/"


@dataclass(frozen=True)
class Service:
    """One legacy SOAP service: where it listens, its XML namespace, the name of its status element."""

    name: str
    namespace: str
    status_element: str
    """The first child of every reply: ``StatusCode`` or ``Status`` (a PT_STATUS)."""
    operations: tuple[str, ...]
    """The operations amtkit's WSDL declares (a subset of Intel's)."""
    action_base_2006: tuple[str, ...] = ()
    """Operations whose WSDL SOAPAction lives under the ``2006/01`` namespace (added in 2.2/2.5)."""

    @property
    def path(self) -> str:
        return f"/{self.name}Service"

    @property
    def wsdl(self) -> str:
        """File name of the bundled WSDL."""
        return f"{self.name}.wsdl"

    def soap_action(self, operation: str) -> str:
        """The SOAPAction the WSDL declares (dispatch does not depend on it: AMT clients disagree)."""
        base = self.namespace.replace("/2004/01", "/2006/01") if operation in self.action_base_2006 else self.namespace
        return f"{base}/{operation}"


SECURITY_ADMINISTRATION: Final = Service(
    "SecurityAdministration", _PLATFORM + "SecurityAdministration/2004/01", "StatusCode",
    ("GetCoreVersion", "GetProvisioningMode", "GetDigestRealm", "GetAdminAclEntry", "GetEnabledInterfaces"),
)
NETWORK_ADMINISTRATION: Final = Service(
    "NetworkAdministration", _PLATFORM + "NetworkAdministration/2004/01", "StatusCode",
    ("GetHostName", "GetDomainName", "GetTcpIpParameters", "EnumerateInterfaces", "GetInterfaceSettings",
     "GetPingResponse"),
    action_base_2006=("EnumerateInterfaces", "GetInterfaceSettings"),
)
GENERAL_INFO: Final = Service(
    "GeneralInfo", _PLATFORM + "GeneralInfo/2004/01", "StatusCode",
    ("GetCoreVersion", "GetCodeVersions", "GetProvisioningMode", "GetProvisioningState", "GetHostName",
     "GetNetworkState"),
)
REMOTE_CONTROL: Final = Service(
    "RemoteControl", _PLATFORM + "RemoteControl/2004/01", "Status",
    ("GetSystemPowerState", "GetRemoteControlCapabilities", "RemoteControl"),
)
CIRCUIT_BREAKER: Final = Service(
    "CircuitBreaker", "http://schemas.intel.com/2004/12/management/PC/CircuitBreaker", "Status",
    ("CbQueryCapabilities", "CbFilterCreate", "CbFilterGet", "CbFilterDelete", "CbFilterEnumerate",
     "CbPolicyCreate", "CbPolicyGet", "CbPolicyDelete", "CbPolicyEnumerate", "CbPolicyEnable",
     "CbPolicyDisable", "CbPolicyGetEnabled", "CbPolicyGetActiveStatistics"),
)

SERVICES: Final = (SECURITY_ADMINISTRATION, NETWORK_ADMINISTRATION, GENERAL_INFO, REMOTE_CONTROL, CIRCUIT_BREAKER)


def service_at(path: str) -> Service | None:
    """The service served at an HTTP path (``/RemoteControlService``), or None."""
    for service in SERVICES:
        if service.path == path:
            return service
    return None


# -- which generation a firmware version speaks ------------------------------------------------------

WSMAN_SINCE: Final = (3, 2)
"""WS-Management (DMTF) from AMT 3.2 on."""
EOI_LAST_MAJOR: Final = 8
"""Legacy SOAP was deprecated in AMT 6 and removed in 9: 8.x is the last to answer it."""

_VERSION = re.compile(r"(\d+)\.(\d+)")


def parse_version(text: str) -> tuple[int, int] | None:
    """``(5, 0)`` from ``5.0.1``, ``AMT 5.0`` or ``Intel(R) Active Management Technology 5.0.1``."""
    match = _VERSION.search(text or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def serves_eoi(version: tuple[int, int]) -> bool:
    return version[0] <= EOI_LAST_MAJOR


def serves_wsman(version: tuple[int, int]) -> bool:
    return version >= WSMAN_SINCE
