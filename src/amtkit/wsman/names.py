"""The one WS-Man vocabulary of amtkit: namespaces, resource URIs, actions, class names.

The client and the simulator import these names; nothing else in the project spells a
namespace or an action URI. Sources: DMTF DSP0226 (WS-Management), DSP0227 (WS-CIM mapping),
the Intel AMT SDK class reference.
"""

from __future__ import annotations

from typing import Final

# --- XML namespaces ---------------------------------------------------------------------------
SOAP_ENV: Final = "http://www.w3.org/2003/05/soap-envelope"
WSA: Final = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
WSMAN: Final = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
WSEN: Final = "http://schemas.xmlsoap.org/ws/2004/09/enumeration"
WSXF: Final = "http://schemas.xmlsoap.org/ws/2004/09/transfer"
WSEVT: Final = "http://schemas.xmlsoap.org/ws/2004/08/eventing"
TRUST: Final = "http://schemas.xmlsoap.org/ws/2005/02/trust"
WSSE: Final = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
CIMBINDING: Final = "http://schemas.dmtf.org/wbem/wsman/1/cimbinding.xsd"
WSMID: Final = "http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd"
DASH: Final = "http://schemas.dmtf.org/wbem/dash/1/dash.xsd"
CIM_COMMON: Final = "http://schemas.dmtf.org/wbem/wscim/1/common"
XSI: Final = "http://www.w3.org/2001/XMLSchema-instance"
XML: Final = "http://www.w3.org/XML/1998/namespace"

ANONYMOUS: Final = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
WSMAN_PROTOCOL_VERSION: Final = WSMAN
DIGEST_SECURITY_PROFILE: Final = "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/http/digest"
HTTPS_DIGEST_SECURITY_PROFILE: Final = "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/digest"

# --- resource URI bases (class URI = base + class name; the class XML namespace equals it) ----
CIM_BASE: Final = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/"
AMT_BASE: Final = "http://intel.com/wbem/wscim/1/amt-schema/1/"
IPS_BASE: Final = "http://intel.com/wbem/wscim/1/ips-schema/1/"

_BASES: Final = {"CIM": CIM_BASE, "AMT": AMT_BASE, "IPS": IPS_BASE}


def resource_uri(class_name: str) -> str:
    """The resource URI of a class: ``CIM_ComputerSystem`` -> ``http://schemas.dmtf.org/...``.

    A full URI passes through unchanged, so callers may hand either form.
    """
    if "://" in class_name:
        return class_name
    prefix = class_name.split("_", 1)[0]
    try:
        return _BASES[prefix] + class_name
    except KeyError as error:
        raise ValueError(f"unknown class prefix in {class_name!r} (expected CIM_, AMT_ or IPS_)") from error


def class_name_of(uri: str) -> str:
    """The class name at the end of a resource URI (or the name itself)."""
    return uri.rstrip("/").rsplit("/", 1)[-1]


# --- actions ----------------------------------------------------------------------------------
class Action:
    """WS-Management action URIs (DSP0226). A response's action is the request's + ``Response``."""

    GET: Final = WSXF + "/Get"
    PUT: Final = WSXF + "/Put"
    CREATE: Final = WSXF + "/Create"
    DELETE: Final = WSXF + "/Delete"
    ENUMERATE: Final = WSEN + "/Enumerate"
    PULL: Final = WSEN + "/Pull"
    RELEASE: Final = WSEN + "/Release"

    SUBSCRIBE: Final = WSEVT + "/Subscribe"
    UNSUBSCRIBE: Final = WSEVT + "/Unsubscribe"
    RENEW: Final = WSEVT + "/Renew"
    EVENT: Final = "http://schemas.dmtf.org/wbem/wsman/1/wsman/Event"
    """A pushed event (DSP0226 10.2.9): what AMT posts to a subscriber."""
    ACK: Final = "http://schemas.dmtf.org/wbem/wsman/1/wsman/Ack"
    """A subscriber's acknowledgement of a PushWithAck event (DSP0226 10.7)."""

    FAULT_WSA: Final = WSA + "/fault"
    FAULT_WSMAN: Final = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"
    FAULT_WSEN: Final = WSEN + "/fault"
    FAULT_WSXF: Final = WSXF + "/fault"


def response_action(action: str) -> str:
    return action + "Response"


def method_action(class_name: str, method: str) -> str:
    """Action URI of an extrinsic method: ``<class URI>/<Method>``."""
    return f"{resource_uri(class_name)}/{method}"


# --- enumeration modes (DSP0226 8.7) ----------------------------------------------------------
ENUM_MODE_EPR: Final = "EnumerateEPR"
ENUM_MODE_OBJECT_AND_EPR: Final = "EnumerateObjectAndEPR"


# --- classes used by amtkit -------------------------------------------------------------------
class Cls:
    """Class names amtkit speaks. Use :func:`resource_uri` for their URIs."""

    CIM_SoftwareIdentity: Final = "CIM_SoftwareIdentity"
    CIM_ComputerSystem: Final = "CIM_ComputerSystem"
    CIM_ComputerSystemPackage: Final = "CIM_ComputerSystemPackage"
    CIM_Chassis: Final = "CIM_Chassis"
    CIM_Card: Final = "CIM_Card"
    CIM_BIOSElement: Final = "CIM_BIOSElement"
    CIM_Processor: Final = "CIM_Processor"
    CIM_PhysicalMemory: Final = "CIM_PhysicalMemory"
    CIM_AssociatedPowerManagementService: Final = "CIM_AssociatedPowerManagementService"
    CIM_PowerManagementService: Final = "CIM_PowerManagementService"
    CIM_PowerManagementCapabilities: Final = "CIM_PowerManagementCapabilities"
    CIM_ServiceAvailableToElement: Final = "CIM_ServiceAvailableToElement"
    CIM_EthernetPort: Final = "CIM_EthernetPort"
    CIM_BootService: Final = "CIM_BootService"
    CIM_BootConfigSetting: Final = "CIM_BootConfigSetting"
    CIM_BootSourceSetting: Final = "CIM_BootSourceSetting"
    CIM_KVMRedirectionSAP: Final = "CIM_KVMRedirectionSAP"
    AMT_GeneralSettings: Final = "AMT_GeneralSettings"
    AMT_SetupAndConfigurationService: Final = "AMT_SetupAndConfigurationService"
    AMT_EthernetPortSettings: Final = "AMT_EthernetPortSettings"
    AMT_BootSettingData: Final = "AMT_BootSettingData"
    AMT_BootCapabilities: Final = "AMT_BootCapabilities"
    AMT_RedirectionService: Final = "AMT_RedirectionService"
    AMT_IPHeadersFilter: Final = "AMT_IPHeadersFilter"
    AMT_Hdr8021Filter: Final = "AMT_Hdr8021Filter"
    AMT_SystemDefensePolicy: Final = "AMT_SystemDefensePolicy"
    AMT_NetworkPortSystemDefensePolicy: Final = "AMT_NetworkPortSystemDefensePolicy"
    AMT_FilterInSystemDefensePolicy: Final = "AMT_FilterInSystemDefensePolicy"
    AMT_ActiveFilterStatistics: Final = "AMT_ActiveFilterStatistics"
    # Classes that MeshCommander/MeshCentral and Intel's wsman-messages read (the simulator serves them).
    CIM_Chip: Final = "CIM_Chip"
    CIM_MediaAccessDevice: Final = "CIM_MediaAccessDevice"
    CIM_PhysicalPackage: Final = "CIM_PhysicalPackage"
    CIM_SystemPackaging: Final = "CIM_SystemPackaging"
    CIM_RedirectionService: Final = "CIM_RedirectionService"
    IPS_KVMRedirectionSettingData: Final = "IPS_KVMRedirectionSettingData"
    IPS_ScreenSettingData: Final = "IPS_ScreenSettingData"
    IPS_OptInService: Final = "IPS_OptInService"
    IPS_PowerManagementService: Final = "IPS_PowerManagementService"
    AMT_SystemPowerScheme: Final = "AMT_SystemPowerScheme"
    AMT_TimeSynchronizationService: Final = "AMT_TimeSynchronizationService"
    AMT_AuthorizationService: Final = "AMT_AuthorizationService"
    AMT_PublicKeyManagementService: Final = "AMT_PublicKeyManagementService"
    AMT_PublicKeyCertificate: Final = "AMT_PublicKeyCertificate"
    AMT_PublicPrivateKeyPair: Final = "AMT_PublicPrivateKeyPair"
    AMT_TLSSettingData: Final = "AMT_TLSSettingData"
    AMT_TLSCredentialContext: Final = "AMT_TLSCredentialContext"
    AMT_TLSProtocolEndpointCollection: Final = "AMT_TLSProtocolEndpointCollection"
    AMT_CryptographicCapabilities: Final = "AMT_CryptographicCapabilities"
    AMT_AlarmClockService: Final = "AMT_AlarmClockService"
    IPS_AlarmClockOccurrence: Final = "IPS_AlarmClockOccurrence"
    AMT_RemoteAccessService: Final = "AMT_RemoteAccessService"
    AMT_RemoteAccessCapabilities: Final = "AMT_RemoteAccessCapabilities"
    AMT_UserInitiatedConnectionService: Final = "AMT_UserInitiatedConnectionService"
    AMT_EnvironmentDetectionSettingData: Final = "AMT_EnvironmentDetectionSettingData"
    AMT_8021XProfile: Final = "AMT_8021XProfile"
    AMT_KerberosSettingData: Final = "AMT_KerberosSettingData"
    IPS_HTTPProxyService: Final = "IPS_HTTPProxyService"
    IPS_IEEE8021xSettings: Final = "IPS_IEEE8021xSettings"
    CIM_IEEE8021xSettings: Final = "CIM_IEEE8021xSettings"
    IPS_HostIPSettings: Final = "IPS_HostIPSettings"
    IPS_IPv6PortSettings: Final = "IPS_IPv6PortSettings"
    IPS_LANEndpoint: Final = "IPS_LANEndpoint"
    IPS_HostBasedSetupService: Final = "IPS_HostBasedSetupService"
    IPS_ProvisioningRecordLog: Final = "IPS_ProvisioningRecordLog"
    IPS_SecIOService: Final = "IPS_SecIOService"
    AMT_AssetTableService: Final = "AMT_AssetTableService"
    AMT_WebUIService: Final = "AMT_WebUIService"
    AMT_MessageLog: Final = "AMT_MessageLog"
    AMT_AuditLog: Final = "AMT_AuditLog"
    CIM_FilterCollection: Final = "CIM_FilterCollection"
    CIM_FilterCollectionSubscription: Final = "CIM_FilterCollectionSubscription"
    CIM_ListenerDestinationWSManagement: Final = "CIM_ListenerDestinationWSManagement"
    CIM_AlertIndication: Final = "CIM_AlertIndication"


# --- well-known instances (selector sets seen on real AMT) -------------------------------------
AMT_SYSTEM_SELECTORS: Final = {"SystemCreationClassName": "CIM_ComputerSystem", "SystemName": "Intel(r) AMT"}

MANAGED_SYSTEM_SELECTORS: Final = {"CreationClassName": "CIM_ComputerSystem", "Name": "ManagedSystem"}
HOST_SYSTEM_SELECTORS: Final = {"SystemCreationClassName": "CIM_ComputerSystem", "SystemName": "ManagedSystem"}
"""The system keys of what belongs to the host (``ManagedSystem``) rather than to AMT: ``AMT_AlarmClockService``,
``IPS_SecIOService``, the host's devices (recorded: ``AMT_AlarmClockService``, ``CIM_Fan``, ``CIM_Sensor``)."""
AMT_SUBSYSTEM_SELECTORS: Final = {"CreationClassName": "CIM_ComputerSystem", "Name": "Intel(r) AMT"}
POWER_SERVICE_SELECTORS: Final = {
    "CreationClassName": "CIM_PowerManagementService",
    "Name": "Intel(r) AMT Power Management Service",
    **AMT_SYSTEM_SELECTORS,
}
SETUP_SERVICE_NAME: Final = "Intel(r) AMT Setup and Configuration Service"
GENERAL_SETTINGS_INSTANCE_ID: Final = "Intel(r) AMT: General Settings"
ETHERNET_PORT_DEVICE_ID: Final = "Intel(r) AMT Ethernet Port 0"
REDIRECTION_SERVICE_NAME: Final = "Intel(r) AMT Redirection Service"
BOOT_SERVICE_NAME: Final = "Intel(r) AMT Boot Service"
BOOT_CONFIG_INSTANCE_ID: Final = "Intel(r) AMT: Boot Configuration 0"
BOOT_SETTING_DATA_INSTANCE_ID: Final = "Intel(r) AMT:BootSettingData 0"
BOOT_CAPABILITIES_INSTANCE_ID: Final = "Intel(r) AMT:BootCapabilities 0"
BOOT_SOURCE_HARD_DRIVE: Final = "Intel(r) AMT: Force Hard-drive Boot"
BOOT_SOURCE_PXE: Final = "Intel(r) AMT: Force PXE Boot"
BOOT_SOURCE_CD_DVD: Final = "Intel(r) AMT: Force CD/DVD Boot"
"""``CIM_BootSourceSetting`` InstanceIDs: the one-time sources ``ChangeBootOrder`` accepts."""
BOOT_SERVICE_SELECTORS: Final = {"CreationClassName": "CIM_BootService", "Name": BOOT_SERVICE_NAME,
                                 **AMT_SYSTEM_SELECTORS}
REDIRECTION_SERVICE_SELECTORS: Final = {"CreationClassName": "AMT_RedirectionService",
                                        "Name": REDIRECTION_SERVICE_NAME, **AMT_SYSTEM_SELECTORS}

MESSAGE_LOG_NAME: Final = "Intel(r) AMT:MessageLog 1"
"""``AMT_MessageLog`` Name and ElementName (a single instance)."""
AUDIT_LOG_NAME: Final = "Intel(r) AMT:Audit Log"
AUDIT_LOG_ELEMENT_NAME: Final = "Intel(r) AMT Audit Log"

# --- WS-Eventing as AMT does it (DSP0226 10; Intel AMT SDK "WS-Eventing") ----------------------
DELIVERY_PUSH: Final = WSEVT + "/DeliveryModes/Push"
DELIVERY_PUSH_WITH_ACK: Final = "http://schemas.dmtf.org/wbem/wsman/1/wsman/PushWithAck"
HTTP_BASIC_SECURITY_PROFILE: Final = "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/http/basic"
HTTPS_BASIC_SECURITY_PROFILE: Final = "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/basic"
USERNAME_TOKEN_TYPE: Final = ("http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
                              "#UsernameToken")
PASSWORD_TEXT_TYPE: Final = ("http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
                             "#PasswordText")
ALERT_FILTER_PREFIX: Final = "Intel(r) AMT:"
"""``CIM_FilterCollection`` InstanceIDs start with it: ``Intel(r) AMT:All``."""
LISTENER_CREATION_CLASS: Final = "CIM_ListenerDestinationWSMAN"
"""The CreationClassName AMT gives a subscriber's listener (shorter than the class name)."""
ALERT_SYSTEM_NAME: Final = "Intel(r) AMT"
"""SystemName / OwningEntity of AMT's pushed alerts."""

#: The product prefix AMT puts in its ``Server:`` header; the version follows it.
SERVER_HEADER_PREFIX: Final = "Intel(R) Active Management Technology"

#: The WS-Man endpoint path and the content type AMT expects on it.
WSMAN_PATH: Final = "/wsman"
SOAP_CONTENT_TYPE: Final = "application/soap+xml;charset=UTF-8"
#: What AMT itself writes on its replies (with a space; 11.8 wrote application/octet-stream).
SOAP_REPLY_CONTENT_TYPE: Final = "application/soap+xml; charset=UTF-8"

#: AMT's ports: WS-Man over HTTP/TLS, redirection (SOL/IDE-R/KVM) plain/TLS, RMCP presence ping
#: (UDP 623) and secure RMCP (UDP 664).
PORT_HTTP: Final = 16992
PORT_TLS: Final = 16993
PORT_REDIRECTION: Final = 16994
PORT_REDIRECTION_TLS: Final = 16995
PORT_RMCP: Final = 623
PORT_RMCP_SECURE: Final = 664

#: Compliance limits AMT enforces on requests (Intel AMT DSP0226 compliance notes).
MIN_OPERATION_TIMEOUT_SECONDS: Final = 30
MIN_MAX_ENVELOPE_SIZE: Final = 50000
