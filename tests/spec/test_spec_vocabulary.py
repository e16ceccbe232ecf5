"""amtkit's WS-Man vocabulary (:mod:`amtkit.wsman.names`) against the specifications, spelled out.

Every namespace, action, resource URI, selector and instance identity below is copied from the
document named beside it or from AMT answers recorded on real machines; nothing is computed from
the module under test, so a one-character typo there fails here.
"""

from __future__ import annotations

import pytest

from amtkit.wsman import names
from amtkit.wsman.names import Action, Cls

NAMESPACES = {
    "SOAP_ENV": "http://www.w3.org/2003/05/soap-envelope",                     # SOAP 1.2 Part 1
    "WSA": "http://schemas.xmlsoap.org/ws/2004/08/addressing",                 # WS-Addressing (DSP0226 ref)
    "WSMAN": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",                 # DSP0226 Annex
    "WSEN": "http://schemas.xmlsoap.org/ws/2004/09/enumeration",               # WS-Enumeration (DSP0226 ref)
    "WSXF": "http://schemas.xmlsoap.org/ws/2004/09/transfer",                  # WS-Transfer (DSP0226 ref)
    "WSEVT": "http://schemas.xmlsoap.org/ws/2004/08/eventing",                 # WS-Eventing (DSP0226 ref)
    "TRUST": "http://schemas.xmlsoap.org/ws/2005/02/trust",                    # WS-Trust, on AMT's envelopes
    "WSSE": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd",  # OASIS WSS 1.0
    "CIMBINDING": "http://schemas.dmtf.org/wbem/wsman/1/cimbinding.xsd",       # DSP0227
    "WSMID": "http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd",  # DSP0226 Identify
    "DASH": "http://schemas.dmtf.org/wbem/dash/1/dash.xsd",                    # DSP0232 DASHVersion
    "CIM_COMMON": "http://schemas.dmtf.org/wbem/wscim/1/common",               # DSP0230/DSP0227 datetime, refs
    "XSI": "http://www.w3.org/2001/XMLSchema-instance",                        # XML Schema Part 1
    "XML": "http://www.w3.org/XML/1998/namespace",                             # Namespaces in XML
    "ANONYMOUS": "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous",  # WS-Addressing
    "WSMAN_PROTOCOL_VERSION": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",  # DSP0226 Identify
    "DIGEST_SECURITY_PROFILE": "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/http/digest",    # DSP0226 C
    "HTTPS_DIGEST_SECURITY_PROFILE": "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/digest",
    "HTTP_BASIC_SECURITY_PROFILE": "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/http/basic",      # DSP0226 C
    "HTTPS_BASIC_SECURITY_PROFILE": "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/basic",
    # WS-Eventing 2004/08 push delivery; DSP0226 10.2.9 PushWithAck.
    "DELIVERY_PUSH": "http://schemas.xmlsoap.org/ws/2004/08/eventing/DeliveryModes/Push",
    "DELIVERY_PUSH_WITH_ACK": "http://schemas.dmtf.org/wbem/wsman/1/wsman/PushWithAck",
    # OASIS WSS UsernameToken Profile 1.0 (event subscription credentials).
    "USERNAME_TOKEN_TYPE":
        "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#UsernameToken",
    "PASSWORD_TEXT_TYPE":
        "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText",
    # DSP0227 class URI base; Intel AMT SDK bases for AMT_ and IPS_ classes.
    "CIM_BASE": "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/",
    "AMT_BASE": "http://intel.com/wbem/wscim/1/amt-schema/1/",
    "IPS_BASE": "http://intel.com/wbem/wscim/1/ips-schema/1/",
}

# DSP0226 (WS-Transfer, WS-Enumeration, fault actions); AMT answers with the request action +
# "Response" (recorded: .../transfer/GetResponse, .../enumeration/PullResponse).
ACTIONS = {
    "GET": "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get",
    "PUT": "http://schemas.xmlsoap.org/ws/2004/09/transfer/Put",
    "CREATE": "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create",
    "DELETE": "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete",
    "ENUMERATE": "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate",
    "PULL": "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Pull",
    "RELEASE": "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Release",
    "FAULT_WSA": "http://schemas.xmlsoap.org/ws/2004/08/addressing/fault",
    "FAULT_WSMAN": "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault",
    "FAULT_WSEN": "http://schemas.xmlsoap.org/ws/2004/09/enumeration/fault",
    "FAULT_WSXF": "http://schemas.xmlsoap.org/ws/2004/09/transfer/fault",
    # WS-Eventing as AMT takes it (MeshCommander's Subscribe/Unsubscribe; DSP0226 10: Renew, the pushed
    # Event and its Ack).
    "SUBSCRIBE": "http://schemas.xmlsoap.org/ws/2004/08/eventing/Subscribe",
    "UNSUBSCRIBE": "http://schemas.xmlsoap.org/ws/2004/08/eventing/Unsubscribe",
    "RENEW": "http://schemas.xmlsoap.org/ws/2004/08/eventing/Renew",
    "EVENT": "http://schemas.dmtf.org/wbem/wsman/1/wsman/Event",
    "ACK": "http://schemas.dmtf.org/wbem/wsman/1/wsman/Ack",
}

# Resource URIs of every class amtkit speaks (DSP0227 for CIM_, Intel AMT SDK for AMT_).
RESOURCE_URIS = {
    "CIM_SoftwareIdentity": "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_SoftwareIdentity",
    "CIM_ComputerSystem": "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ComputerSystem",
    "CIM_ComputerSystemPackage": "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ComputerSystemPackage",
    "CIM_Chassis": "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_Chassis",
    "CIM_Card": "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_Card",
    "CIM_BIOSElement": "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_BIOSElement",
    "CIM_Processor": "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_Processor",
    "CIM_PhysicalMemory": "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_PhysicalMemory",
    "CIM_AssociatedPowerManagementService":
        "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_AssociatedPowerManagementService",
    "CIM_PowerManagementService": "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_PowerManagementService",
    "CIM_PowerManagementCapabilities":
        "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_PowerManagementCapabilities",
    "CIM_ServiceAvailableToElement":
        "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ServiceAvailableToElement",
    "CIM_EthernetPort": "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_EthernetPort",
    "CIM_BootService": "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_BootService",
    "CIM_BootConfigSetting": "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_BootConfigSetting",
    "CIM_BootSourceSetting": "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_BootSourceSetting",
    "CIM_KVMRedirectionSAP": "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_KVMRedirectionSAP",
    "AMT_GeneralSettings": "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_GeneralSettings",
    "AMT_SetupAndConfigurationService": "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_SetupAndConfigurationService",
    "AMT_EthernetPortSettings": "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_EthernetPortSettings",
    "AMT_BootSettingData": "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_BootSettingData",
    "AMT_BootCapabilities": "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_BootCapabilities",
    "AMT_RedirectionService": "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_RedirectionService",
    "AMT_IPHeadersFilter": "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_IPHeadersFilter",
    "AMT_Hdr8021Filter": "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_Hdr8021Filter",
    "AMT_SystemDefensePolicy": "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_SystemDefensePolicy",
    "AMT_NetworkPortSystemDefensePolicy":
        "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_NetworkPortSystemDefensePolicy",
    "AMT_FilterInSystemDefensePolicy": "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_FilterInSystemDefensePolicy",
    "AMT_ActiveFilterStatistics": "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_ActiveFilterStatistics",
    "CIM_Chip": "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_Chip",
    "CIM_MediaAccessDevice": "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_MediaAccessDevice",
    "CIM_PhysicalPackage": "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_PhysicalPackage",
    "CIM_SystemPackaging": "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_SystemPackaging",
    "CIM_RedirectionService": "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_RedirectionService",
    "IPS_KVMRedirectionSettingData": "http://intel.com/wbem/wscim/1/ips-schema/1/IPS_KVMRedirectionSettingData",
    "IPS_ScreenSettingData": "http://intel.com/wbem/wscim/1/ips-schema/1/IPS_ScreenSettingData",
    "IPS_OptInService": "http://intel.com/wbem/wscim/1/ips-schema/1/IPS_OptInService",
    "IPS_PowerManagementService": "http://intel.com/wbem/wscim/1/ips-schema/1/IPS_PowerManagementService",
    "AMT_SystemPowerScheme": "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_SystemPowerScheme",
    "AMT_TimeSynchronizationService": "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_TimeSynchronizationService",
    "AMT_AuthorizationService": "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_AuthorizationService",
    "AMT_PublicKeyManagementService": "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_PublicKeyManagementService",
    "AMT_PublicKeyCertificate": "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_PublicKeyCertificate",
    "AMT_PublicPrivateKeyPair": "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_PublicPrivateKeyPair",
    "AMT_TLSSettingData": "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_TLSSettingData",
    "AMT_TLSCredentialContext": "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_TLSCredentialContext",
    "AMT_TLSProtocolEndpointCollection": "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_TLSProtocolEndpointCollection",
    "AMT_CryptographicCapabilities": "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_CryptographicCapabilities",
    "AMT_AlarmClockService": "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_AlarmClockService",
    "IPS_AlarmClockOccurrence": "http://intel.com/wbem/wscim/1/ips-schema/1/IPS_AlarmClockOccurrence",
    "AMT_RemoteAccessService": "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_RemoteAccessService",
    "AMT_RemoteAccessCapabilities": "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_RemoteAccessCapabilities",
    "AMT_UserInitiatedConnectionService": "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_UserInitiatedConnectionService",
    "AMT_EnvironmentDetectionSettingData": "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_EnvironmentDetectionSettingData",
    "AMT_8021XProfile": "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_8021XProfile",
    "AMT_KerberosSettingData": "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_KerberosSettingData",
    "IPS_HTTPProxyService": "http://intel.com/wbem/wscim/1/ips-schema/1/IPS_HTTPProxyService",
    "IPS_IEEE8021xSettings": "http://intel.com/wbem/wscim/1/ips-schema/1/IPS_IEEE8021xSettings",
    "CIM_IEEE8021xSettings": "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_IEEE8021xSettings",
    "IPS_HostIPSettings": "http://intel.com/wbem/wscim/1/ips-schema/1/IPS_HostIPSettings",
    "IPS_IPv6PortSettings": "http://intel.com/wbem/wscim/1/ips-schema/1/IPS_IPv6PortSettings",
    "IPS_LANEndpoint": "http://intel.com/wbem/wscim/1/ips-schema/1/IPS_LANEndpoint",
    "IPS_HostBasedSetupService": "http://intel.com/wbem/wscim/1/ips-schema/1/IPS_HostBasedSetupService",
    "IPS_ProvisioningRecordLog": "http://intel.com/wbem/wscim/1/ips-schema/1/IPS_ProvisioningRecordLog",
    "IPS_SecIOService": "http://intel.com/wbem/wscim/1/ips-schema/1/IPS_SecIOService",
    "AMT_AssetTableService": "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_AssetTableService",
    "AMT_WebUIService": "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_WebUIService",
    "AMT_MessageLog": "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_MessageLog",
    "AMT_AuditLog": "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_AuditLog",
    "CIM_FilterCollection": "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_FilterCollection",
    "CIM_FilterCollectionSubscription":
        "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_FilterCollectionSubscription",
    "CIM_ListenerDestinationWSManagement":
        "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ListenerDestinationWSManagement",
    "CIM_AlertIndication": "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_AlertIndication",
}

# Selector sets and instance identities as real AMT names them (Intel AMT SDK; requests of amtc and
# MeshCommander, and AMT answers recorded on real machines).
SELECTOR_SETS = {
    "AMT_SYSTEM_SELECTORS": {"SystemCreationClassName": "CIM_ComputerSystem", "SystemName": "Intel(r) AMT"},
    "MANAGED_SYSTEM_SELECTORS": {"CreationClassName": "CIM_ComputerSystem", "Name": "ManagedSystem"},
    "HOST_SYSTEM_SELECTORS": {"SystemCreationClassName": "CIM_ComputerSystem", "SystemName": "ManagedSystem"},
    "AMT_SUBSYSTEM_SELECTORS": {"CreationClassName": "CIM_ComputerSystem", "Name": "Intel(r) AMT"},
    "POWER_SERVICE_SELECTORS": {
        "CreationClassName": "CIM_PowerManagementService", "Name": "Intel(r) AMT Power Management Service",
        "SystemCreationClassName": "CIM_ComputerSystem", "SystemName": "Intel(r) AMT",
    },
    "BOOT_SERVICE_SELECTORS": {
        "CreationClassName": "CIM_BootService", "Name": "Intel(r) AMT Boot Service",
        "SystemCreationClassName": "CIM_ComputerSystem", "SystemName": "Intel(r) AMT",
    },
    "REDIRECTION_SERVICE_SELECTORS": {
        "CreationClassName": "AMT_RedirectionService", "Name": "Intel(r) AMT Redirection Service",
        "SystemCreationClassName": "CIM_ComputerSystem", "SystemName": "Intel(r) AMT",
    },
}

INSTANCE_NAMES = {
    "SETUP_SERVICE_NAME": "Intel(r) AMT Setup and Configuration Service",
    "GENERAL_SETTINGS_INSTANCE_ID": "Intel(r) AMT: General Settings",
    "ETHERNET_PORT_DEVICE_ID": "Intel(r) AMT Ethernet Port 0",
    "REDIRECTION_SERVICE_NAME": "Intel(r) AMT Redirection Service",
    "BOOT_SERVICE_NAME": "Intel(r) AMT Boot Service",
    "BOOT_CONFIG_INSTANCE_ID": "Intel(r) AMT: Boot Configuration 0",
    "BOOT_SETTING_DATA_INSTANCE_ID": "Intel(r) AMT:BootSettingData 0",
    "BOOT_CAPABILITIES_INSTANCE_ID": "Intel(r) AMT:BootCapabilities 0",
    "BOOT_SOURCE_HARD_DRIVE": "Intel(r) AMT: Force Hard-drive Boot",
    "BOOT_SOURCE_PXE": "Intel(r) AMT: Force PXE Boot",
    "BOOT_SOURCE_CD_DVD": "Intel(r) AMT: Force CD/DVD Boot",
    "SERVER_HEADER_PREFIX": "Intel(R) Active Management Technology",   # recorded Server: headers
    "ENUM_MODE_EPR": "EnumerateEPR",                                     # DSP0226 8.7
    "ENUM_MODE_OBJECT_AND_EPR": "EnumerateObjectAndEPR",                 # DSP0226 8.7
    "WSMAN_PATH": "/wsman",                                              # Intel AMT SDK
    # Event and audit logs, alert subscriptions: Intel's implementation guide and recorded answers.
    "MESSAGE_LOG_NAME": "Intel(r) AMT:MessageLog 1",
    "AUDIT_LOG_NAME": "Intel(r) AMT:Audit Log",
    "AUDIT_LOG_ELEMENT_NAME": "Intel(r) AMT Audit Log",
    "ALERT_FILTER_PREFIX": "Intel(r) AMT:",
    "ALERT_SYSTEM_NAME": "Intel(r) AMT",
    "LISTENER_CREATION_CLASS": "CIM_ListenerDestinationWSMAN",
    "SOAP_CONTENT_TYPE": "application/soap+xml;charset=UTF-8",           # what AMT consoles send
    "SOAP_REPLY_CONTENT_TYPE": "application/soap+xml; charset=UTF-8",    # recorded AMT 15 replies
}

# Intel AMT SDK "Intel AMT ports"; ASF 2.0 (RMCP 623, secure RMCP 664); Intel's DSP0226 compliance
# notes (OperationTimeout at least 30 s, MaxEnvelopeSize at least 50000).
NUMBERS = {
    "PORT_HTTP": 16992, "PORT_TLS": 16993, "PORT_REDIRECTION": 16994, "PORT_REDIRECTION_TLS": 16995,
    "PORT_RMCP": 623, "PORT_RMCP_SECURE": 664, "MIN_OPERATION_TIMEOUT_SECONDS": 30, "MIN_MAX_ENVELOPE_SIZE": 50000,
}


def test_every_name_of_the_vocabulary_is_in_a_table_here() -> None:
    # A name added to amtkit.wsman.names without its row from a specification fails here.
    covered = {*NAMESPACES, *INSTANCE_NAMES, *NUMBERS, *SELECTOR_SETS}
    constants = {key for key, value in vars(names).items()
                 if not key.startswith("_") and isinstance(value, (str, int, dict))}
    assert constants - covered == set()


@pytest.mark.parametrize(("name", "uri"), NAMESPACES.items())
def test_namespace_is_spelled_as_the_specification(name: str, uri: str) -> None:
    assert getattr(names, name) == uri


@pytest.mark.parametrize(("name", "uri"), ACTIONS.items())
def test_action_is_spelled_as_dsp0226(name: str, uri: str) -> None:
    assert getattr(Action, name) == uri


def test_every_action_is_in_the_table() -> None:
    assert {key for key in vars(Action) if key.isupper()} == set(ACTIONS)


def test_response_action_appends_response() -> None:
    assert names.response_action("http://schemas.xmlsoap.org/ws/2004/09/transfer/Get") == (
        "http://schemas.xmlsoap.org/ws/2004/09/transfer/GetResponse")


@pytest.mark.parametrize(("class_name", "uri"), RESOURCE_URIS.items())
def test_class_resource_uri_is_its_schema_base_and_name(class_name: str, uri: str) -> None:
    assert getattr(Cls, class_name) == class_name
    assert names.resource_uri(class_name) == uri
    assert names.class_name_of(uri) == class_name


def test_every_class_is_in_the_table() -> None:
    assert {key for key in vars(Cls) if not key.startswith("_")} == set(RESOURCE_URIS)


def test_ips_classes_live_under_the_ips_schema() -> None:
    assert names.resource_uri("IPS_KVMRedirectionSettingData") == (
        "http://intel.com/wbem/wscim/1/ips-schema/1/IPS_KVMRedirectionSettingData")


def test_method_action_is_the_class_uri_and_the_method() -> None:
    assert names.method_action("CIM_PowerManagementService", "RequestPowerStateChange") == (
        "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_PowerManagementService/RequestPowerStateChange")


@pytest.mark.parametrize(("name", "selectors"), SELECTOR_SETS.items())
def test_selector_set_names_the_instance_as_amt_does(name: str, selectors: dict[str, str]) -> None:
    assert getattr(names, name) == selectors


@pytest.mark.parametrize(("name", "value"), INSTANCE_NAMES.items())
def test_instance_identity_is_spelled_as_amt_does(name: str, value: str) -> None:
    assert getattr(names, name) == value


@pytest.mark.parametrize(("name", "value"), NUMBERS.items())
def test_port_or_limit_is_intels_number(name: str, value: int) -> None:
    assert getattr(names, name) == value


_WSMAN_FAULT = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"
_WSA_FAULT = "http://schemas.xmlsoap.org/ws/2004/08/addressing/fault"
_WSEN_FAULT = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/fault"
_WSXF_FAULT = "http://schemas.xmlsoap.org/ws/2004/09/transfer/fault"
_WSMAN_NS = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
_WSA_NS = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
_WSEN_NS = "http://schemas.xmlsoap.org/ws/2004/09/enumeration"

# DSP0226 Annex (master fault table): subcode -> (subcode namespace, SOAP code, fault action, HTTP
# status: 500 for InternalError and TimedOut, 400 otherwise (AlreadyExists 400 recorded from AMT 15; InternalError
# 500 per Intel's errors-and-return-values notes).
FAULT_TABLE = {
    "AccessDenied": (_WSMAN_NS, "Sender", _WSMAN_FAULT, 400),
    "ActionNotSupported": (_WSA_NS, "Sender", _WSA_FAULT, 400),
    "AlreadyExists": (_WSMAN_NS, "Sender", _WSMAN_FAULT, 400),
    "CannotProcessFilter": (_WSEN_NS, "Sender", _WSEN_FAULT, 400),
    "Concurrency": (_WSMAN_NS, "Sender", _WSMAN_FAULT, 400),
    "DestinationUnreachable": (_WSA_NS, "Sender", _WSA_FAULT, 400),
    "EncodingLimit": (_WSMAN_NS, "Sender", _WSMAN_FAULT, 400),
    "InternalError": (_WSMAN_NS, "Receiver", _WSMAN_FAULT, 500),
    "InvalidEnumerationContext": (_WSEN_NS, "Receiver", _WSEN_FAULT, 400),
    "InvalidMessageInformationHeader": (_WSA_NS, "Sender", _WSA_FAULT, 400),
    "InvalidRepresentation": ("http://schemas.xmlsoap.org/ws/2004/09/transfer", "Sender", _WSXF_FAULT, 400),
    "InvalidSelectors": (_WSMAN_NS, "Sender", _WSMAN_FAULT, 400),
    "MustUnderstand": ("http://www.w3.org/2003/05/soap-envelope", "MustUnderstand", _WSMAN_FAULT, 400),
    "SchemaValidationError": (_WSMAN_NS, "Sender", _WSMAN_FAULT, 400),
    "TimedOut": (_WSMAN_NS, "Receiver", _WSMAN_FAULT, 500),
    "UnsupportedFeature": (_WSMAN_NS, "Sender", _WSMAN_FAULT, 400),
    "InvalidParameter": (_WSMAN_NS, "Sender", _WSMAN_FAULT, 400),
}


def test_every_fault_has_the_dsp0226_namespace_code_and_action() -> None:
    from amtkit.wsman.faults import KIND_BY_SUBCODE

    assert {subcode: (kind.namespace, kind.code, kind.action, kind.http_status)
            for subcode, kind in KIND_BY_SUBCODE.items()} == FAULT_TABLE


def test_fault_reasons_amt_was_recorded_sending_are_spelled_as_recorded() -> None:
    from amtkit.wsman.faults import KIND_BY_SUBCODE

    # AMT 15.0 captures (note AMT's "WSAddressing" where DSP0226 says "WS-Addressing").
    assert KIND_BY_SUBCODE["DestinationUnreachable"].reason == (
        "No route can be determined to reach the destination role defined by the WSAddressing To.")
    assert KIND_BY_SUBCODE["AlreadyExists"].reason == "The sender attempted to create a resource which already exists."


def test_a_digest_challenge_is_md5_whether_or_not_it_says_so() -> None:
    # RFC 2617 3.2.1: an absent algorithm means MD5, the only one AMT uses.
    from amtkit.http.digest import Challenge, parse_challenge

    assert parse_challenge('Digest realm="r", nonce="n", qop="auth"').algorithm == "MD5"
    assert parse_challenge('Digest realm="r", nonce="n", algorithm=md5, qop="auth"').algorithm == "MD5"
    assert Challenge(realm="r", nonce="n").algorithm == "MD5"
