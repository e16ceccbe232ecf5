"""Property types of the CIM/AMT/IPS classes amtkit speaks (from the DMTF/Intel MOF files).

The wire carries only text; this table says how to read it. It is the one schema shared by
the client (to type what it parses) and the simulator (to validate Puts and order output).
A property not listed is a string; a class not listed has only string properties.

Spelling: ``"bool"``, ``"int"``, ``"str"``, ``"datetime"``, ``"ref"`` (endpoint reference),
each with ``[]`` for arrays.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import lru_cache

__all__ = [
    "CLASS_SCHEMAS", "KEYS", "PropertyType", "PropType", "has_datetime", "property_type", "register", "tag_types",
    "MAX_LEARNED_TAGS",
]


class PropertyType(enum.Enum):
    STR = "str"
    INT = "int"
    BOOL = "bool"
    DATETIME = "datetime"
    REF = "ref"


@dataclass(frozen=True)
class PropType:
    kind: PropertyType
    array: bool = False


# Datetime properties inherited from CIM_ManagedSystemElement / CIM_EnabledLogicalElement and
# CIM_PhysicalElement. AMT declares the wscim ``common`` namespace in every response of a class
# with a datetime property, used or not (see :func:`has_datetime`), so they matter for output too.
_ENABLED_ELEMENT_DATES = {"InstallDate": "datetime", "TimeOfLastStateChange": "datetime"}
_PHYSICAL_ELEMENT_DATES = {"InstallDate": "datetime", "ManufactureDate": "datetime"}
ENABLED_ELEMENT_DATES = _ENABLED_ELEMENT_DATES
"""For :func:`register`: the datetimes every service and device class inherits (AMT then declares
the wscim common namespace in its answers)."""

CLASS_SCHEMAS: dict[str, dict[str, str]] = {
    "CIM_SoftwareIdentity": {"IsEntity": "bool", "InstallDate": "datetime", "ReleaseDate": "datetime"},
    "CIM_ComputerSystem": {
        "EnabledState": "int", "RequestedState": "int", "HealthState": "int", "OperationalStatus": "int[]",
        "Dedicated": "int[]", "PowerManagementCapabilities": "int[]", "EnabledDefault": "int",
        **_ENABLED_ELEMENT_DATES,
    },
    "CIM_AssociatedPowerManagementService": {
        "PowerState": "int", "AvailableRequestedPowerStates": "int[]", "RequestedPowerState": "int",
        "PowerOnTime": "datetime", "ServiceProvided": "ref", "UserOfService": "ref",
    },
    "CIM_PowerManagementService": {"EnabledState": "int", "RequestedState": "int", "EnabledDefault": "int",
                                   **_ENABLED_ELEMENT_DATES},
    "CIM_PowerManagementCapabilities": {"PowerStatesSupported": "int[]", "PowerChangeCapabilities": "int[]"},
    "CIM_ServiceAvailableToElement": {"ServiceProvided": "ref", "UserOfService": "ref"},
    "AMT_GeneralSettings": {
        "AMTNetworkEnabled": "int", "DDNSPeriodicUpdateInterval": "int", "DDNSTTL": "int",
        "DDNSUpdateByDHCPServerEnabled": "bool", "DDNSUpdateEnabled": "bool", "DHCPv6ConfigurationTimeout": "int",
        "IdleWakeTimeout": "int", "NetworkInterfaceEnabled": "bool", "PingResponseEnabled": "bool",
        "PowerSource": "int", "PreferredAddressFamily": "int", "PresenceNotificationInterval": "int",
        "PrivacyLevel": "int", "RmcpPingResponseEnabled": "bool", "SharedFQDN": "bool", "WsmanOnlyMode": "bool",
        "ThunderboltDockEnabled": "int", "AMTAuthenticate": "int",
    },
    "AMT_SetupAndConfigurationService": {
        "EnabledState": "int", "RequestedState": "int", "PasswordModel": "int", "ProvisioningMode": "int",
        "ProvisioningState": "int", "ZeroTouchConfigurationEnabled": "bool", "ProvisioningServerOTP": "str",
        **_ENABLED_ELEMENT_DATES,
    },
    "AMT_EthernetPortSettings": {
        "DHCPEnabled": "bool", "IpSyncEnabled": "bool", "LinkIsUp": "bool", "SharedDynamicIP": "bool",
        "SharedMAC": "bool", "SharedStaticIp": "bool", "LinkPolicy": "int[]", "LinkPreference": "int",
        "LinkControl": "int", "PhysicalConnectionType": "int", "ConsoleTcpMaxRetransmissions": "int",
        "WLANLinkProtectionLevel": "int", "PhysicalNicMedium": "int",
    },
    "AMT_BootSettingData": {
        "BIOSPause": "bool", "BIOSSetup": "bool", "BootMediaIndex": "int", "ConfigurationDataReset": "bool",
        "EnforceSecureBoot": "bool", "FirmwareVerbosity": "int", "ForcedProgressEvents": "bool",
        "IDERBootDevice": "int", "LockKeyboard": "bool", "LockPowerButton": "bool", "LockResetButton": "bool",
        "LockSleepButton": "bool", "OwningEntity": "str", "ReflashBIOS": "bool", "SecureErase": "bool",
        "UseIDER": "bool", "UseSOL": "bool", "UseSafeMode": "bool", "UserPasswordBypass": "bool",
        "BootguardStatus": "int", "OptionsCleared": "bool", "WinREBootEnabled": "bool", "UEFILocalPBABootEnabled": "bool",
        "UEFIHTTPSBootEnabled": "bool", "SecureBootControlEnabled": "bool", "RPEEnabled": "bool",
        "PlatformErase": "bool", "EnableHTTPSBoot": "bool", "EnableSecureErase": "bool",
        "BIOSLastStatus": "int[]", "UefiBootNumberOfParams": "int",
    },
    "AMT_BootCapabilities": {
        "BIOSPause": "bool", "BIOSReflash": "bool", "BIOSSecureBoot": "bool", "BIOSSetup": "bool",
        "ConfigurationDataReset": "bool", "ForceCDorDVDBoot": "bool", "ForceDiagnosticBoot": "bool",
        "ForceHardDriveBoot": "bool", "ForceHardDriveSafeModeBoot": "bool", "ForcePXEBoot": "bool",
        "ForcedProgressEvents": "bool", "IDER": "bool", "KeyboardLock": "bool", "PowerButtonLock": "bool",
        "ResetButtonLock": "bool", "SOL": "bool", "SecureErase": "bool", "SleepButtonLock": "bool",
        "UserPasswordBypass": "bool", "VerbosityQuiet": "bool", "VerbosityScreenBlank": "bool",
        "VerbosityVerbose": "bool",
    },
    "AMT_RedirectionService": {"EnabledState": "int", "ListenerEnabled": "bool", "AccessLog": "str[]",
                               **_ENABLED_ELEMENT_DATES},
    "IPS_HostBasedSetupService": {"AllowedControlModes": "int[]", "CertChainStatus": "int",
                                  "CurrentControlMode": "int", **_ENABLED_ELEMENT_DATES},
    "CIM_BootConfigSetting": {},
    "CIM_BootSourceSetting": {"FailThroughSupported": "int"},
    "CIM_BootService": {"EnabledState": "int", "RequestedState": "int", "OperationalStatus": "int[]",
                        **_ENABLED_ELEMENT_DATES},
    "CIM_EthernetPort": {"EnabledState": "int", "RequestedState": "int", "LinkTechnology": "int", "PortType": "int",
                         **_ENABLED_ELEMENT_DATES},
    # System Defense (Intel AMT SDK class reference; intel/lms CIM_Framework metadata). Addresses and masks
    # are OctetStrings written as hex; FilterCreationHandles holds at most 62 handles.
    "AMT_IPHeadersFilter": {
        "ActionEventOnMatch": "bool", "FilterDirection": "int", "FilterProfile": "int", "FilterProfileData": "int",
        "HdrIPVersion": "int", "HdrProtocolID": "int", "HdrSrcPortStart": "int", "HdrSrcPortEnd": "int",
        "HdrDestPortStart": "int", "HdrDestPortEnd": "int", "HdrSrcAddress": "str", "HdrSrcMask": "str",
        "HdrSrcAddressEndOfRange": "str", "HdrDestAddress": "str", "HdrDestMask": "str",
        "HdrDestAddressEndOfRange": "str", "HdrDSCP": "int[]", "HdrFlowLabel": "str", "TCPFlagsOn": "int[]",
        "TCPFlagsOff": "int[]", "IsNegated": "bool",
    },
    "AMT_Hdr8021Filter": {
        "ActionEventOnMatch": "bool", "FilterDirection": "int", "FilterProfile": "int", "FilterProfileData": "int",
        "HdrProtocolID8021": "int", "HdrPriorityValue8021": "int", "HdrVLANID8021": "int",
        "HdrSrcMACAddr8021": "str", "HdrSrcMACMask8021": "str", "HdrDestMACAddr8021": "str",
        "HdrDestMACMask8021": "str", "IsNegated": "bool",
    },
    "AMT_SystemDefensePolicy": {
        "PolicyPrecedence": "int", "AntiSpoofingSupport": "int", "FilterCreationHandles": "int[]",
        "RxDefaultCount": "bool", "RxDefaultDrop": "bool", "RxDefaultMatchEvent": "bool", "TxDefaultCount": "bool",
        "TxDefaultDrop": "bool", "TxDefaultMatchEvent": "bool",
    },
    "AMT_NetworkPortSystemDefensePolicy": {"Antecedent": "ref", "Dependent": "ref", "Enabled": "bool"},
    "AMT_FilterInSystemDefensePolicy": {"Antecedent": "ref", "Dependent": "ref"},
    "AMT_ActiveFilterStatistics": {
        "Antecedent": "ref", "Dependent": "ref", "ReadCount": "int", "FilterMatched": "bool",
        "ActivationTime": "datetime", "LastResetTime": "datetime",
    },
    "CIM_Processor": {
        "CPUStatus": "int", "CurrentClockSpeed": "int", "MaxClockSpeed": "int", "ExternalBusClockSpeed": "int",
        "HealthState": "int", "OperationalStatus": "int[]", "UpgradeMethod": "int", "EnabledState": "int",
        "RequestedState": "int", "Family": "int", "Stepping": "str", **_ENABLED_ELEMENT_DATES,
    },
    "CIM_PhysicalMemory": {
        "Capacity": "int", "Speed": "int", "MemoryType": "int", "FormFactor": "int", "BankLabel": "str",
        "ConfiguredMemoryClockSpeed": "int", "IsSpeedInMhz": "bool", "MaxMemorySpeed": "int", "HealthState": "int",
        "OperationalStatus": "int[]", "PackageType": "int", **_PHYSICAL_ELEMENT_DATES,
    },
    "CIM_Chassis": {"ChassisPackageType": "int", "PackageType": "int", "OperationalStatus": "int[]", "CanBeFRUed": "bool",
                    **_PHYSICAL_ELEMENT_DATES},
    "CIM_Card": {"PackageType": "int", "OperationalStatus": "int[]", "CanBeFRUed": "bool", "HostingBoard": "bool",
                 **_PHYSICAL_ELEMENT_DATES},
    "CIM_BIOSElement": {
        "PrimaryBIOS": "bool", "ReleaseDate": "datetime", "OperationalStatus": "int[]", "SoftwareElementState": "int",
        "TargetOperatingSystem": "int", "HealthState": "int",
    },
    "CIM_ComputerSystemPackage": {"Antecedent": "ref", "Dependent": "ref"},
    "CIM_Chip": {"CanBeFRUed": "bool", "OperationalStatus": "int[]", **_PHYSICAL_ELEMENT_DATES},
    "CIM_MediaAccessDevice": {
        "Capabilities": "int[]", "EnabledDefault": "int", "EnabledState": "int", "MaxMediaSize": "int",
        "OperationalStatus": "int[]", "RequestedState": "int", "Security": "int", **_ENABLED_ELEMENT_DATES,
    },
    "CIM_KVMRedirectionSAP": {"EnabledState": "int", "RequestedState": "int", "KVMProtocol": "int",
                              **_ENABLED_ELEMENT_DATES},
    # Event and audit logs (Intel AMT SDK AMT_MessageLog, AMT_AuditLog; recorded Get answers).
    "AMT_MessageLog": {
        "Capabilities": "int[]", "CharacterSet": "int", "CurrentNumberOfRecords": "int", "EnabledDefault": "int",
        "EnabledState": "int", "HealthState": "int", "IsFrozen": "bool", "LastChange": "int", "LogState": "int",
        "MaxLogSize": "int", "MaxNumberOfRecords": "int", "MaxRecordSize": "int", "OperationalStatus": "int[]",
        "OverwritePolicy": "int", "PercentageNearFull": "int", "RequestedState": "int", "SizeOfHeader": "int",
        "SizeOfRecordHeader": "int",
    },
    "AMT_AuditLog": {
        "AuditState": "int", "CurrentNumberOfRecords": "int", "EnabledState": "int", "MaxAllowedAuditors": "int",
        "MaxNumberOfRecords": "int", "OverwritePolicy": "int", "PercentageFree": "int", "RequestedState": "int",
        "StoragePolicy": "int", "MinDaysToKeep": "int", "TimeOfLastRecord": "datetime",
    },
    "CIM_FilterCollectionSubscription": {"Filter": "ref", "Handler": "ref", "SubscriptionState": "int",
                                         "SubscriptionTimeRemaining": "int"},
    "CIM_ListenerDestinationWSManagement": {"DeliveryMode": "int", "Protocol": "int"},
}

#: Key properties (selectors) of each class, where amtkit needs them.
KEYS: dict[str, tuple[str, ...]] = {
    "CIM_SoftwareIdentity": ("InstanceID",),
    "CIM_ComputerSystem": ("CreationClassName", "Name"),
    "CIM_PowerManagementService": ("CreationClassName", "Name", "SystemCreationClassName", "SystemName"),
    "AMT_GeneralSettings": ("InstanceID",),
    "AMT_SetupAndConfigurationService": ("CreationClassName", "Name", "SystemCreationClassName", "SystemName"),
    "AMT_EthernetPortSettings": ("InstanceID",),
    "AMT_BootSettingData": ("InstanceID",),
    "AMT_BootCapabilities": ("InstanceID",),
    "AMT_RedirectionService": ("CreationClassName", "Name", "SystemCreationClassName", "SystemName"),
    "CIM_BootService": ("CreationClassName", "Name", "SystemCreationClassName", "SystemName"),
    "CIM_BootConfigSetting": ("InstanceID",),
    "CIM_BootSourceSetting": ("InstanceID",),
    "AMT_IPHeadersFilter": ("CreationClassName", "InstanceID", "Name", "SystemCreationClassName", "SystemName"),
    "AMT_Hdr8021Filter": ("CreationClassName", "InstanceID", "Name", "SystemCreationClassName", "SystemName"),
    "AMT_SystemDefensePolicy": ("InstanceID",),
    "AMT_NetworkPortSystemDefensePolicy": ("Antecedent", "Dependent"),
    "AMT_FilterInSystemDefensePolicy": ("Antecedent", "Dependent"),
    "AMT_ActiveFilterStatistics": ("Antecedent", "Dependent"),
    "CIM_EthernetPort": ("CreationClassName", "DeviceID", "SystemCreationClassName", "SystemName"),
    "CIM_Chassis": ("CreationClassName", "Tag"),
    "CIM_PhysicalMemory": ("CreationClassName", "Tag"),
    "CIM_Processor": ("CreationClassName", "DeviceID", "SystemCreationClassName", "SystemName"),
    "CIM_BIOSElement": ("Name", "SoftwareElementID", "SoftwareElementState", "TargetOperatingSystem", "Version"),
    "CIM_KVMRedirectionSAP": ("CreationClassName", "Name", "SystemCreationClassName", "SystemName"),
    "AMT_MessageLog": ("CreationClassName", "Name"),
    "AMT_AuditLog": ("Name",),
    "CIM_FilterCollection": ("InstanceID",),
    "CIM_FilterCollectionSubscription": ("Filter", "Handler"),
    "CIM_ListenerDestinationWSManagement": ("CreationClassName", "Name", "SystemCreationClassName", "SystemName"),
}


def register(class_name: str, properties: dict[str, str], keys: tuple[str, ...] | None = None) -> None:
    """Add or extend a class's schema (feature modules call this for classes of their own)."""
    CLASS_SCHEMAS.setdefault(class_name, {}).update(properties)
    if keys is not None:
        KEYS[class_name] = keys
    property_type.cache_clear()
    class_types.cache_clear()
    tag_types.cache_clear()


def has_datetime(class_name: str) -> bool:
    """Whether a class has datetime properties: AMT then declares the wscim common namespace in
    its responses even when no datetime value is sent (observed on AMT_RedirectionService, CIM_Card,
    IPS_HostBasedSetupService captures; never on setting-data or association classes)."""
    return any(spelled.removesuffix("[]") == "datetime" for spelled in CLASS_SCHEMAS.get(class_name, {}).values())


_STRING = PropType(PropertyType.STR)


@lru_cache(maxsize=512)
def class_types(class_name: str) -> dict[str, PropType]:
    """Every typed property of a class (a property not listed is a string), for parsers' hot loops."""
    return {prop: property_type(class_name, prop) for prop in CLASS_SCHEMAS.get(class_name, {})}


STRING = _STRING


@lru_cache(maxsize=512)
def tag_types(class_tag: str) -> dict[str, tuple[str, PropertyType, bool]]:
    """The typed properties of a class keyed by their element tags in the class's own namespace.

    ``class_tag`` is the class element's tag (``{uri}AMT_GeneralSettings``); the answer maps
    ``{uri}DDNSTTL`` to ``("DDNSTTL", PropertyType.INT, False)`` (name, kind, array), so a parser
    finds a property's name and type with one lookup of the tag lxml hands it. Parsers may add the
    tags of untyped (string) properties they meet, up to :data:`MAX_LEARNED_TAGS` per class. Bounded:
    a device naming ever new classes evicts old entries.
    """
    namespace, _, class_name = class_tag.rpartition("}")
    prefix = namespace + "}" if namespace else ""
    return {prefix + prop: (prop, kind.kind, kind.array) for prop, kind in class_types(class_name).items()}


MAX_LEARNED_TAGS = 256
"""Tags of untyped properties a parser may add to one class's :func:`tag_types` (a hostile device
sending ever new element names cannot grow it further)."""


@lru_cache(maxsize=4096)
def property_type(class_name: str, prop: str) -> PropType:
    spelled = CLASS_SCHEMAS.get(class_name, {}).get(prop)
    if spelled is None:
        return _STRING
    array = spelled.endswith("[]")
    return PropType(PropertyType(spelled.removesuffix("[]")), array)
