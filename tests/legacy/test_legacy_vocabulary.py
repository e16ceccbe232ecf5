"""The legacy SOAP vocabulary and the bundled WSDLs, against the facts of Intel's SDK documentation.

Expected values are literals from the EOI reference notes (paths, namespaces, codes), never read
back from the module under test.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import zeep
from lxml import etree

from amtkit import exceptions as exc
from amtkit.codes import (
    IanaOemNumber,
    IntelOemParameter,
    PowerState,
    RemoteControlCommand,
    SpecialCommand,
    SystemPowerState,
)
from amtkit.eoi import names
from amtkit.eoi.services import wsdl_path

WIRE = Path(__file__).resolve().parents[1] / "data" / "amt-wire"

# (path, namespace, status element) per service, as the SDK WSDLs have them.
SERVICES = [
    ("/SecurityAdministrationService", "http://schemas.intel.com/platform/client/SecurityAdministration/2004/01",
     "StatusCode"),
    ("/NetworkAdministrationService", "http://schemas.intel.com/platform/client/NetworkAdministration/2004/01",
     "StatusCode"),
    ("/GeneralInfoService", "http://schemas.intel.com/platform/client/GeneralInfo/2004/01", "StatusCode"),
    ("/RemoteControlService", "http://schemas.intel.com/platform/client/RemoteControl/2004/01", "Status"),
    ("/CircuitBreakerService", "http://schemas.intel.com/2004/12/management/PC/CircuitBreaker", "Status"),
]


@pytest.mark.parametrize(("path", "namespace", "status"), SERVICES)
def test_each_service_has_the_sdk_path_namespace_and_status_element(path: str, namespace: str, status: str) -> None:
    service = names.service_at(path)
    assert service is not None
    assert (service.namespace, service.status_element) == (namespace, status)


@pytest.mark.parametrize(("path", "namespace", "status"), SERVICES)
def test_each_bundled_wsdl_loads_offline_and_declares_every_operation(path: str, namespace: str,
                                                                     status: str) -> None:
    service = names.service_at(path)
    assert service is not None
    client = zeep.Client(str(wsdl_path(service)))
    binding = client.wsdl.bindings[f"{{{namespace}}}{service.name}SoapBinding"]
    assert sorted(binding._operations) == sorted(service.operations)
    for operation in service.operations:
        output = binding._operations[operation].output.body
        assert output.type.elements[0][0] == status  # the status element comes first in every reply


def test_remote_control_request_keeps_the_wsdl_order_special_command_before_oem_parameters() -> None:
    client = zeep.Client(str(wsdl_path(names.REMOTE_CONTROL)))
    message = client.create_message(client.service, "RemoteControl", Command=19, IanaOemNumber=343,
                                    SpecialCommand=193, OEMparameters=1, SpecialCommandParameter=8)
    call = message.find(".//{http://schemas.intel.com/platform/client/RemoteControl/2004/01}RemoteControl")
    assert [etree.QName(child).localname for child in call] == [
        "Command", "IanaOemNumber", "SpecialCommand", "SpecialCommandParameter", "OEMparameters"]


def test_soap_actions_follow_the_wsdl_including_the_2006_namespace_of_later_operations() -> None:
    assert names.REMOTE_CONTROL.soap_action("GetSystemPowerState") == \
        "http://schemas.intel.com/platform/client/RemoteControl/2004/01/GetSystemPowerState"
    assert names.NETWORK_ADMINISTRATION.soap_action("EnumerateInterfaces") == \
        "http://schemas.intel.com/platform/client/NetworkAdministration/2006/01/EnumerateInterfaces"


def test_wsdl_generation_is_in_sync_with_the_committed_files() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("eoi_wsdl", Path(__file__).resolve().parents[2] / "scripts" / "eoi_wsdl.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for service in names.SERVICES:
        assert wsdl_path(service).read_text(encoding="utf-8") == module.wsdl_text(service), service.name


def test_versions_decide_which_generation_a_firmware_serves() -> None:
    assert names.parse_version("Intel(R) Active Management Technology 5.0.1") == (5, 0)
    assert names.parse_version("AMT 8.1") == (8, 1)
    assert names.parse_version("Apache") is None
    assert [names.serves_wsman(v) for v in [(2, 6), (3, 0), (3, 2), (9, 0)]] == [False, False, True, True]
    assert [names.serves_eoi(v) for v in [(2, 6), (8, 1), (9, 0)]] == [True, True, False]


# -- codes --------------------------------------------------------------------------------------


def test_asf_system_power_states_have_the_asf_numbers() -> None:
    rows = [line.split("\t") for line in (WIRE / "ASF_SystemPowerState.values.tsv").read_text().splitlines()
            if line and not line.startswith("#")]
    named = {int(row[0]): row[2] for row in rows if int(row[0]) not in (13, 15)}
    assert sorted(int(s) for s in SystemPowerState) == sorted(named)
    assert SystemPowerState(0) is SystemPowerState.S0_WORKING
    assert SystemPowerState(5) is SystemPowerState.S5_SOFT_OFF
    assert SystemPowerState(7) is SystemPowerState.G3_MECHANICAL_OFF
    assert SystemPowerState(14) is SystemPowerState.UNKNOWN
    assert SystemPowerState.UNKNOWN.meaning == "unknown"


def test_power_states_are_read_from_the_low_nibble_and_reserved_codes_read_as_unknown() -> None:
    assert SystemPowerState.from_wire(0x15) is SystemPowerState.S5_SOFT_OFF
    assert SystemPowerState.from_wire(13) is SystemPowerState.UNKNOWN
    assert SystemPowerState.from_wire(15) is SystemPowerState.UNKNOWN


def test_asf_states_map_to_the_cim_power_states_of_the_same_meaning() -> None:
    assert SystemPowerState(0).power_state is PowerState(2)  # on
    assert SystemPowerState(5).power_state is PowerState(8)  # off - soft
    assert SystemPowerState(7).power_state is PowerState(6)  # off - hard
    assert SystemPowerState(3).power_state is PowerState(4)  # sleep - deep
    assert SystemPowerState(14).power_state is PowerState(0)
    assert SystemPowerState.from_power_state(PowerState(8)) is SystemPowerState(5)


def test_remote_control_codes_have_the_wsdl_values() -> None:
    assert [int(c) for c in RemoteControlCommand] == [16, 17, 18, 19, 33]
    assert [int(c) for c in SpecialCommand] == [0, 1, 2, 3, 4, 5, 0xC1]
    assert (int(IanaOemNumber.INTEL), int(IanaOemNumber.ASF)) == (343, 4542)
    assert int(IntelOemParameter.BIOS_SETUP) == 0x08 and int(IntelOemParameter.IDER_CD) == 0x0101


def test_the_zeep_transport_never_fetches_from_the_network(legacy) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(exc.LocalProtocolError, match="bundled"):
        legacy.eoi._transport.load("http://schemas.intel.com/RemoteControlInterface.wsdl")
