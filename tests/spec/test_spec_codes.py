"""Every AMT and CIM code amtkit names, against the number the specification gives it.

The tables below are written out by hand from the documents named in each comment, not computed
from :mod:`amtkit.codes`: a swapped or mistyped value in the module fails here. Each table also
lists every member, so a member added without checking its number against a source fails too.
"""

from __future__ import annotations

import enum

import pytest

import amtkit.codes
from amtkit.boot import BootConfigRole, IDERBootDevice
from amtkit.codes import (
    ACTION_RESULT,
    ControlMode,
    EnabledState,
    IanaOemNumber,
    IntelOemParameter,
    OemCapability,
    PowerAction,
    PowerState,
    ProvisioningState,
    PTStatus,
    RemoteControlCommand,
    RequestedState,
    ReturnValue,
    SpecialCommand,
    SpecialCommandSupport,
    SystemCapability,
    SystemPowerState,
    describe_return_value,
    pt_status_of,
)
from amtkit.defense.model import EtherType, FilterDirection, FilterProfile, IPProtocol
from amtkit.redirection.service import RedirectionState

# DSP1027 (Power State Management Profile) 7.x / CIM_AssociatedPowerManagementService.PowerState
# ValueMap, CIM schema 2.49; value 17 only in newer schemas. The same numbers as Intel's AMT
# Implementation and Reference Guide, "Change System Power State".
POWER_STATES = {
    "UNKNOWN": 0,
    "OTHER": 1,
    "ON": 2,                              # On (S0)
    "SLEEP_LIGHT": 3,                     # Sleep - Light (S1/S2)
    "SLEEP_DEEP": 4,                      # Sleep - Deep (S3)
    "POWER_CYCLE_OFF_SOFT": 5,            # Power Cycle (Off - Soft)
    "OFF_HARD": 6,                        # Off - Hard (G3)
    "HIBERNATE": 7,                       # Hibernate (Off - Soft) (S4)
    "OFF_SOFT": 8,                        # Off - Soft (S5)
    "POWER_CYCLE_OFF_HARD": 9,            # Power Cycle (Off - Hard)
    "MASTER_BUS_RESET": 10,               # Master Bus Reset
    "DIAGNOSTIC_INTERRUPT_NMI": 11,       # Diagnostic Interrupt (NMI)
    "OFF_SOFT_GRACEFUL": 12,              # Off - Soft Graceful
    "OFF_HARD_GRACEFUL": 13,              # Off - Hard Graceful
    "MASTER_BUS_RESET_GRACEFUL": 14,      # Master Bus Reset Graceful
    "POWER_CYCLE_OFF_SOFT_GRACEFUL": 15,  # Power Cycle (Off - Soft Graceful)
    "POWER_CYCLE_OFF_HARD_GRACEFUL": 16,  # Power Cycle (Off - Hard Graceful)
    "DIAGNOSTIC_INTERRUPT_INIT": 17,      # Diagnostic Interrupt (INIT)
}

# CIM_PowerManagementService.RequestPowerStateChange(PowerState) ValueMap (DSP1027): the same
# numbers, named for what a console asks for.
POWER_ACTIONS = {
    "ON": 2,                    # Power On
    "SLEEP_LIGHT": 3,           # Sleep - Light
    "SLEEP": 4,                 # Sleep - Deep
    "CYCLE": 5,                 # Power Cycle (Off - Soft)
    "OFF_HARD": 6,              # Power Off - Hard
    "HIBERNATE": 7,             # Hibernate
    "OFF": 8,                   # Power Off - Soft
    "CYCLE_HARD": 9,            # Power Cycle (Off - Hard)
    "RESET": 10,                # Master Bus Reset
    "NMI": 11,                  # Diagnostic Interrupt (NMI)
    "OFF_GRACEFUL": 12,         # Power Off - Soft Graceful
    "OFF_HARD_GRACEFUL": 13,    # Power Off - Hard Graceful
    "RESET_GRACEFUL": 14,       # Master Bus Reset Graceful
    "CYCLE_GRACEFUL": 15,       # Power Cycle (Off - Soft Graceful)
    "CYCLE_HARD_GRACEFUL": 16,  # Power Cycle (Off - Hard Graceful)
}

# CIM_EnabledLogicalElement.EnabledState ValueMap (CIM schema 2.x, DSP1036/DSP0004 conventions).
ENABLED_STATES = {
    "UNKNOWN": 0, "OTHER": 1, "ENABLED": 2, "DISABLED": 3, "SHUTTING_DOWN": 4, "NOT_APPLICABLE": 5,
    "ENABLED_BUT_OFFLINE": 6, "IN_TEST": 7, "DEFERRED": 8, "QUIESCE": 9, "STARTING": 10,
}

# CIM_EnabledLogicalElement.RequestedState ValueMap: 1 is unused, 5 is "No Change", 12 "Not Applicable".
REQUESTED_STATES = {
    "UNKNOWN": 0, "ENABLED": 2, "DISABLED": 3, "SHUT_DOWN": 4, "NO_CHANGE": 5, "OFFLINE": 6, "TEST": 7,
    "DEFERRED": 8, "QUIESCE": 9, "REBOOT": 10, "RESET": 11, "NOT_APPLICABLE": 12,
}

# Intel AMT SDK, AMT_SetupAndConfigurationService: ProvisioningState 0 Pre, 1 In, 2 Post;
# ProvisioningMode 1 Admin Control Mode, 4 Client Control Mode (0 when unprovisioned).
PROVISIONING_STATES = {"PRE": 0, "IN": 1, "POST": 2}
CONTROL_MODES = {"NONE": 0, "ADMIN": 1, "CLIENT": 4}

# PT_STATUS / AMT_STATUS codes: Intel AMT SDK status codes ("StatusCodeDefinitions.h", as in
# Intel's LMS and the AMT Network Design Guide; 0x821 from MeshCommander's AmtStatusCodes).
PT_STATUSES = {
    "SUCCESS": 0x0000,
    "INTERNAL_ERROR": 0x0001,
    "NOT_READY": 0x0002,
    "INVALID_PT_MODE": 0x0003,
    "INVALID_MESSAGE_LENGTH": 0x0004,
    "NOT_PERMITTED": 0x0010,
    "MAX_LIMIT_REACHED": 0x0017,
    "INVALID_AUTH_TYPE": 0x0018,
    "AUTHENTICATION_FAILED": 0x0019,
    "INVALID_PROVISIONING_STATE": 0x0020,
    "INVALID_INDEX": 0x0023,
    "INVALID_PARAMETER": 0x0024,
    "INVALID_NETMASK": 0x0025,
    "FLASH_WRITE_LIMIT_EXCEEDED": 0x0026,
    "DISABLED_BY_POLICY": 0x0400,
    "NETWORK_IF_ERROR_BASE": 0x0800,
    "UNSUPPORTED_OEM_NUMBER": 0x0801,
    "UNSUPPORTED_BOOT_OPTION": 0x0802,
    "INVALID_COMMAND": 0x0803,
    "INVALID_SPECIAL_COMMAND": 0x0804,
    "INVALID_HANDLE": 0x0805,
    "INVALID_PASSWORD": 0x0806,
    "INVALID_REALM": 0x0807,
    "STORAGE_ACL_ENTRY_IN_USE": 0x0808,
    "DATA_MISSING": 0x0809,
    "DUPLICATE": 0x080A,
    "EVENTLOG_FROZEN": 0x080B,
    "PKI_MISSING_KEYS": 0x080C,
    "PKI_GENERATING_KEYS": 0x080D,
    "INVALID_KEY": 0x080E,
    "INVALID_CERT": 0x080F,
    "CERT_KEY_NOT_MATCH": 0x0810,
    "MAX_KERB_DOMAIN_REACHED": 0x0811,
    "UNSUPPORTED": 0x0812,
    "INVALID_PRIORITY": 0x0813,
    "NOT_FOUND": 0x0814,
    "INVALID_CREDENTIALS": 0x0815,
    "INVALID_PASSPHRASE": 0x0816,
    "NO_ASSOCIATION": 0x0818,
    "AUDIT_FAIL": 0x081B,
    "BLOCKING_COMPONENT": 0x081C,
    "USER_CONSENT_REQUIRED": 0x0821,
}

# Method return values of CIM_EnabledLogicalElement.RequestStateChange and
# CIM_PowerManagementService.RequestPowerStateChange (CIM schema ValueMap; DSP0004 method conventions).
RETURN_VALUES = {
    "COMPLETED": 0,                          # Completed with No Error
    "NOT_SUPPORTED": 1,                      # Not Supported
    "UNKNOWN_ERROR": 2,                      # Unknown or Unspecified Error
    "TIMEOUT": 3,                            # Cannot complete within Timeout Period
    "FAILED": 4,                             # Failed
    "INVALID_PARAMETER": 5,                  # Invalid Parameter
    "IN_USE": 6,                             # In Use
    "JOB_STARTED": 4096,                     # Method Parameters Checked - Job Started
    "INVALID_STATE_TRANSITION": 4097,        # Invalid State Transition
    "TIMEOUT_PARAMETER_NOT_SUPPORTED": 4098,  # Use of Timeout Parameter Not Supported
    "BUSY": 4099,                            # Busy
}

# Intel AMT SDK, AMT_RedirectionService.EnabledState / RequestStateChange (Intel vendor range);
# Intel's "Enabling the Storage Redirection Interface".
REDIRECTION_STATES = {"DISABLED": 32768, "IDER": 32769, "SOL": 32770, "IDER_AND_SOL": 32771}

# Intel AMT SDK: AMT_BootSettingData.IDERBootDevice 0 floppy, 1 CD;
# CIM_BootService.SetBootConfigRole Role 0 IsDefault, 1 IsNext, 2 IsNextSingleUse (DSP1012).
IDER_BOOT_DEVICES = {"FLOPPY": 0, "CD": 1}
BOOT_CONFIG_ROLES = {"IS_DEFAULT": 0, "IS_NEXT": 1, "IS_NEXT_SINGLE_USE": 2}

# Intel AMT SDK, AMT_IPHeadersFilter / AMT_Hdr8021Filter: FilterProfile 0 Allow + Count,
# 1 Drop + Count, 2 Rate limit, 3 Allow, 4 Drop; FilterDirection 0 Transmit, 1 Receive.
FILTER_PROFILES = {"PASS_WITH_STATISTICS": 0, "DROP_WITH_STATISTICS": 1, "RATE_LIMIT": 2, "PASS": 3, "DROP": 4}
FILTER_DIRECTIONS = {"TRANSMIT": 0, "RECEIVE": 1}
# IANA "Assigned Internet Protocol Numbers" (ANY = 256 is amtkit's wildcard, not a protocol number).
IP_PROTOCOLS = {"ICMP": 1, "TCP": 6, "UDP": 17, "ICMPV6": 58, "ANY": 256}
# IEEE 802 EtherType registry: IPv4 0x0800, ARP 0x0806, IPv6 0x86DD.
ETHER_TYPES = {"IPV4": 0x0800, "ARP": 0x0806, "IPV6": 0x86DD}

# Legacy SOAP (EOI) RemoteControl, AMT 1.0-8.x. The ASF system power states (DSP0136 "System State
# Response"; IPMI sensor type 22h offsets): 13 and 15 undefined.
SYSTEM_POWER_STATES = {
    "S0_WORKING": 0, "S1_SLEEPING": 1, "S2_SLEEPING": 2, "S3_SLEEPING": 3, "S4_HIBERNATE": 4, "S5_SOFT_OFF": 5,
    "S4_S5_SOFT_OFF": 6, "G3_MECHANICAL_OFF": 7, "SLEEPING": 8, "G1_SLEEPING": 9, "S5_OVERRIDE": 10,
    "LEGACY_ON": 11, "LEGACY_OFF": 12, "UNKNOWN": 14,
}
# Intel RemoteControlInterface WSDL 1.15: RemoteControlCommandType, SpecialCommandType, IanaOemNumber;
# the Intel OEM (0xC1) SpecialCommandParameter values of the SDK's types; the capability bits as the
# SDK types and ASF define them (amttool decodes the same, but tests power up with 0x03: a bug).
REMOTE_CONTROL_COMMANDS = {"RESET": 0x10, "POWER_UP": 0x11, "POWER_DOWN": 0x12, "POWER_CYCLE_RESET": 0x13,
                           "SET_BOOT_OPTIONS": 0x21}
SPECIAL_COMMANDS = {"NOP": 0, "PXE": 1, "HARD_DRIVE": 2, "HARD_DRIVE_SAFE_MODE": 3, "DIAGNOSTICS": 4, "CD_DVD": 5,
                    "INTEL_OEM": 0xC1}
IANA_OEM_NUMBERS = {"INTEL": 343, "ASF": 4542}
INTEL_OEM_PARAMETERS = {"IDER_FLOPPY": 0x0001, "REFLASH_BIOS": 0x0004, "BIOS_SETUP": 0x0008, "BIOS_PAUSE": 0x0010,
                        "IDER_CD": 0x0101}
OEM_CAPABILITIES = {"IDER": 0x01, "SOL": 0x02, "BIOS_REFLASH": 0x04, "BIOS_SETUP": 0x08, "BIOS_PAUSE": 0x10}
SPECIAL_COMMAND_SUPPORT = {"PXE": 0x0100, "HARD_DRIVE": 0x0200, "HARD_DRIVE_SAFE_MODE": 0x0400, "DIAGNOSTICS": 0x0800,
                           "CD_DVD": 0x1000}
SYSTEM_CAPABILITIES = {"POWER_CYCLE_RESET": 0x01, "POWER_DOWN": 0x02, "POWER_UP": 0x04, "RESET": 0x08}

TABLES: list[tuple[type[enum.Enum], dict[str, int]]] = [
    (PowerState, POWER_STATES),
    (PowerAction, POWER_ACTIONS),
    (EnabledState, ENABLED_STATES),
    (RequestedState, REQUESTED_STATES),
    (ProvisioningState, PROVISIONING_STATES),
    (ControlMode, CONTROL_MODES),
    (PTStatus, PT_STATUSES),
    (ReturnValue, RETURN_VALUES),
    (RedirectionState, REDIRECTION_STATES),
    (IDERBootDevice, IDER_BOOT_DEVICES),
    (BootConfigRole, BOOT_CONFIG_ROLES),
    (FilterProfile, FILTER_PROFILES),
    (FilterDirection, FILTER_DIRECTIONS),
    (IPProtocol, IP_PROTOCOLS),
    (EtherType, ETHER_TYPES),
    (SystemPowerState, SYSTEM_POWER_STATES),
    (RemoteControlCommand, REMOTE_CONTROL_COMMANDS),
    (SpecialCommand, SPECIAL_COMMANDS),
    (IanaOemNumber, IANA_OEM_NUMBERS),
    (IntelOemParameter, INTEL_OEM_PARAMETERS),
    (OemCapability, OEM_CAPABILITIES),
    (SpecialCommandSupport, SPECIAL_COMMAND_SUPPORT),
    (SystemCapability, SYSTEM_CAPABILITIES),
]


@pytest.mark.parametrize(("enum_class", "table"), TABLES, ids=[e.__name__ for e, _ in TABLES])
def test_every_member_has_the_number_the_specification_gives_it(enum_class: type[enum.Enum],
                                                                 table: dict[str, int]) -> None:
    assert {member.name: int(member.value) for member in enum_class} == table


def test_every_code_enum_of_amtkit_codes_has_a_table_here() -> None:
    # A code added to amtkit.codes without its row from a specification fails here (the mutation
    # check found the legacy SOAP codes landing without one).
    defined = {value for value in vars(amtkit.codes).values()
               if isinstance(value, type) and issubclass(value, (enum.IntEnum, enum.IntFlag))
               and value.__module__ == amtkit.codes.__name__}
    assert defined <= {enum_class for enum_class, _ in TABLES}


def test_legacy_power_states_map_to_the_cim_states_that_mean_the_same() -> None:
    # ASF state -> DSP1027 PowerState: S0 on (2), S1/S2 sleep light (3), S3 and unspecified sleep
    # sleep deep (4), S4 hibernate (7), soft offs off soft (8), G3 off hard (6), unknown 0.
    expected = {0: 2, 1: 3, 2: 3, 3: 4, 4: 7, 5: 8, 6: 8, 7: 6, 8: 4, 9: 4, 10: 8, 11: 2, 12: 8, 14: 0}
    assert {int(s): int(s.power_state) for s in SystemPowerState} == expected
    assert int(SystemPowerState.from_wire(0x75)) == 5 and int(SystemPowerState.from_wire(13)) == 14


def test_reset_is_master_bus_reset_and_cycle_hard_a_hard_power_cycle() -> None:
    # The swap the review found passing every test: power.reset() would hard-cycle a real machine.
    assert (int(PowerAction.RESET), int(PowerAction.CYCLE_HARD)) == (10, 9)


# What a device reports once an action has completed (DSP1027 state diagram: cycles and resets
# pass through off and end on; an NMI leaves the host running).
ACTION_RESULTS = {
    2: 2, 3: 3, 4: 4, 5: 2, 6: 6, 7: 7, 8: 8, 9: 2, 10: 2, 11: 2, 12: 8, 13: 6, 14: 2, 15: 2, 16: 2,
}


def test_every_action_ends_in_the_state_dsp1027_says() -> None:
    assert {int(action): int(state) for action, state in ACTION_RESULT.items()} == ACTION_RESULTS


@pytest.mark.parametrize(("spelling", "code"), [
    ("on", 2), ("up", 2), ("sleep", 4), ("sleep-light", 3), ("cycle", 5), ("power-cycle", 5),
    ("off-hard", 6), ("hard-off", 6), ("hibernate", 7), ("off", 8), ("soft-off", 8), ("off-soft", 8),
    ("cycle-hard", 9), ("reset", 10), ("nmi", 11), ("off-graceful", 12), ("off-hard-graceful", 13),
    ("reset-graceful", 14), ("cycle-graceful", 15), ("cycle-hard-graceful", 16),
])
def test_cli_spellings_name_the_dsp1027_code(spelling: str, code: int) -> None:
    assert int(PowerAction.from_name(spelling)) == code


@pytest.mark.parametrize(("class_name", "value", "status"), [
    ("CIM_PowerManagementService", 0, None),        # generic CIM code, no PT_STATUS
    ("CIM_PowerManagementService", 4099, None),     # Busy: still generic
    ("CIM_BootService", 32768 + 0x0801, 0x0801),    # vendor range: 32768 + PT_STATUS
    ("CIM_BootConfigSetting", 34826, 0x080A),       # observed 2058 + 32768: DUPLICATE
    ("AMT_SetupAndConfigurationService", 0x0003, 0x0003),  # AMT_ classes return PT_STATUS as is
    ("IPS_HTTPProxyService", 2058, 0x080A),         # observed on real AMT: DUPLICATE
])
def test_return_values_carry_pt_status_as_intel_documents(class_name: str, value: int, status: int | None) -> None:
    assert pt_status_of(class_name, value) == status


def test_return_value_descriptions_show_the_code_and_its_name() -> None:
    assert describe_return_value("IPS_HTTPProxyService", 2058) == "2058 (0x080A DUPLICATE)"
    assert describe_return_value("CIM_PowerManagementService", 4099) == "4099 (BUSY)"
    assert describe_return_value("CIM_BootService", 32768 + 0x0821) == "34849 (0x0821 USER_CONSENT_REQUIRED)"
    assert PTStatus.from_return_value(32768 + 0x0019) == 0x0019
